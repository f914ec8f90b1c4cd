//! Units of measure: the dimension and scale of a unit word ("15 minutes", "10 MB"), the unit a
//! column stores (its curated `unit`, or a unit its name ends with: `Milliseconds`,
//! `duration_ms`, `size_bytes`), and the conversion of a number from one to the other, so that
//! "tracks longer than 15 minutes" compares a column of milliseconds with 900000.
//!
//! Scales follow the SI (time in seconds, length in metres, mass in kilograms) and, for data
//! sizes, the binary prefixes of IEC 80000-13 (1 MB read as 1 MiB = 1 048 576 bytes, the way
//! file sizes are shown to people).

/// What a unit measures; two units convert only within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// A duration (base: the second).
    Time,
    /// A data size (base: the byte).
    DataSize,
    /// A length or distance (base: the metre).
    Length,
    /// A mass or weight (base: the kilogram).
    Mass,
}

/// A unit: its dimension and how many base units one of it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// What it measures.
    pub dimension: Dimension,
    /// Base units per one of this unit (a minute: 60 seconds).
    pub scale: f64,
}

const KIB: f64 = 1024.0;

/// The unit a word names (lower or mixed case, singular or plural), `None` for any other word.
/// Single letters ("m", "s", "h", "g", "b", "t") are left out: after a number they more often
/// mean millions, a plural or a grade than a unit.
pub fn parse(word: &str) -> Option<Unit> {
    use Dimension::*;
    let w = word.trim().to_lowercase();
    let (dimension, scale) = match w.as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => (Time, 0.001),
        "sec" | "secs" | "second" | "seconds" => (Time, 1.0),
        "min" | "mins" | "minute" | "minutes" => (Time, 60.0),
        "hr" | "hrs" | "hour" | "hours" => (Time, 3600.0),
        "byte" | "bytes" => (DataSize, 1.0),
        "kb" | "kib" | "kilobyte" | "kilobytes" => (DataSize, KIB),
        "mb" | "mib" | "megabyte" | "megabytes" => (DataSize, KIB * KIB),
        "gb" | "gib" | "gigabyte" | "gigabytes" => (DataSize, KIB * KIB * KIB),
        "tb" | "tib" | "terabyte" | "terabytes" => (DataSize, KIB * KIB * KIB * KIB),
        "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => (Length, 0.001),
        "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => (Length, 0.01),
        "meter" | "meters" | "metre" | "metres" => (Length, 1.0),
        "km" | "kilometer" | "kilometers" | "kilometre" | "kilometres" => (Length, 1000.0),
        "inch" | "inches" => (Length, 0.0254),
        "ft" | "foot" | "feet" => (Length, 0.3048),
        "mile" | "miles" => (Length, 1609.344),
        "gram" | "grams" => (Mass, 0.001),
        "kg" | "kgs" | "kilogram" | "kilograms" => (Mass, 1.0),
        "lb" | "lbs" | "pound" | "pounds" => (Mass, 0.453_592_37),
        "oz" | "ounce" | "ounces" => (Mass, 0.028_349_523_125),
        "tonne" | "tonnes" => (Mass, 1000.0),
        _ => return None,
    };
    Some(Unit { dimension, scale })
}

/// The unit a column's name ends with (`Milliseconds`, `duration_ms`, `size_in_bytes`,
/// `weight_kg`), split as identifiers are ([`crate::question::tokens::split_identifier`]). A last word
/// that usually means something else in a name is no unit: `min` (a minimum), `lb`... are read
/// only from a curated `unit`.
pub fn of_column_name(name: &str) -> Option<Unit> {
    let words = crate::question::tokens::split_identifier(name);
    let last = words.last()?.to_lowercase();
    if matches!(
        last.as_str(),
        "min" | "mins" | "sec" | "ft" | "lb" | "oz" | "inch"
    ) {
        return None;
    }
    parse(&last)
}

/// `value` given in `from` expressed in `to`; `None` when they measure different dimensions.
pub fn convert(value: f64, from: Unit, to: Unit) -> Option<f64> {
    if from.dimension != to.dimension {
        return None;
    }
    Some(round(value * from.scale / to.scale))
}

/// `value` rounded to 6 decimals, so that a converted number reads as written: 1.5 minutes in
/// milliseconds is 90000, not 89999.99999999999.
pub fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_convert_to_milliseconds_and_megabytes_to_bytes() {
        let min = parse("minutes").unwrap();
        let ms = parse("Milliseconds").unwrap();
        assert_eq!(convert(15.0, min, ms), Some(900_000.0));
        assert_eq!(convert(1.5, min, ms), Some(90_000.0));
        let mb = parse("MB").unwrap();
        let bytes = parse("bytes").unwrap();
        assert_eq!(convert(10.0, mb, bytes), Some(10_485_760.0));
        assert_eq!(
            convert(2.0, parse("hours").unwrap(), parse("sec").unwrap()),
            Some(7200.0)
        );
    }

    #[test]
    fn units_of_different_dimensions_do_not_convert() {
        assert_eq!(
            convert(5.0, parse("minutes").unwrap(), parse("bytes").unwrap()),
            None
        );
        assert!(parse("m").is_none());
        assert!(parse("units").is_none());
        assert!(parse("usd").is_none());
    }

    #[test]
    fn a_column_name_ending_with_a_unit_names_its_unit() {
        assert_eq!(of_column_name("Milliseconds"), parse("ms"));
        assert_eq!(of_column_name("duration_ms"), parse("ms"));
        assert_eq!(of_column_name("FileSizeBytes"), parse("bytes"));
        assert_eq!(of_column_name("weight_kg"), parse("kg"));
        assert_eq!(of_column_name("price_min"), None);
        assert_eq!(of_column_name("Name"), None);
    }
}
