//! Place names people write for the codes and names databases store: the 50 US states and the
//! District of Columbia by their two-letter USPS codes (United States Postal Service,
//! Publication 28, Appendix B), and countries by their demonyms (the adjective and the noun of
//! their people: "Canadian customers"). The value index uses them so that "stores in Texas" finds
//! `state = 'TX'` and "Canadian customers" `country = 'Canada'`.

/// `(code, name)` of each US state and the District of Columbia.
const US_STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
];

/// Countries as databases commonly store them (names, short names), with the demonyms people
/// write for them (adjective first, then the people's noun when it differs).
#[rustfmt::skip]
const DEMONYMS: &[(&[&str], &[&str])] = &[
    (&["USA", "US", "United States", "United States of America"], &["American", "Americans"]),
    (&["Canada"], &["Canadian", "Canadians"]),
    (&["Mexico"], &["Mexican", "Mexicans"]),
    (&["Brazil"], &["Brazilian", "Brazilians"]),
    (&["Argentina"], &["Argentinian", "Argentine", "Argentinians", "Argentines"]),
    (&["Chile"], &["Chilean", "Chileans"]),
    (&["Colombia"], &["Colombian", "Colombians"]),
    (&["Peru"], &["Peruvian", "Peruvians"]),
    (&["United Kingdom", "UK", "Great Britain"], &["British", "Briton", "Britons"]),
    (&["Ireland"], &["Irish"]),
    (&["France"], &["French"]),
    (&["Germany"], &["German", "Germans"]),
    (&["Italy"], &["Italian", "Italians"]),
    (&["Spain"], &["Spanish", "Spaniard", "Spaniards"]),
    (&["Portugal"], &["Portuguese"]),
    (&["Netherlands", "The Netherlands", "Holland"], &["Dutch"]),
    (&["Belgium"], &["Belgian", "Belgians"]),
    (&["Switzerland"], &["Swiss"]),
    (&["Austria"], &["Austrian", "Austrians"]),
    (&["Denmark"], &["Danish", "Dane", "Danes"]),
    (&["Norway"], &["Norwegian", "Norwegians"]),
    (&["Sweden"], &["Swedish", "Swede", "Swedes"]),
    (&["Finland"], &["Finnish", "Finn", "Finns"]),
    (&["Poland"], &["Polish", "Pole", "Poles"]),
    (&["Czech Republic", "Czechia"], &["Czech", "Czechs"]),
    (&["Hungary"], &["Hungarian", "Hungarians"]),
    (&["Greece"], &["Greek", "Greeks"]),
    (&["Turkey", "Türkiye"], &["Turkish", "Turk", "Turks"]),
    (&["Russia"], &["Russian", "Russians"]),
    (&["Ukraine"], &["Ukrainian", "Ukrainians"]),
    (&["India"], &["Indian", "Indians"]),
    (&["China"], &["Chinese"]),
    (&["Japan"], &["Japanese"]),
    (&["South Korea", "Korea"], &["Korean", "Koreans"]),
    (&["Australia"], &["Australian", "Australians"]),
    (&["New Zealand"], &["New Zealander", "New Zealanders"]),
    (&["South Africa"], &["South African", "South Africans"]),
    (&["Egypt"], &["Egyptian", "Egyptians"]),
    (&["Israel"], &["Israeli", "Israelis"]),
];

/// The demonyms of the country a database stores as `value` (its name or short name, any
/// case): "Canada" gives "Canadian" and "Canadians"; empty for any other value.
pub fn demonyms(value: &str) -> &'static [&'static str] {
    DEMONYMS
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(value.trim())))
        .map(|(_, d)| *d)
        .unwrap_or(&[])
}

/// The other names of the country a database stores as `value` (any case): "USA" gives "US",
/// "United States" and "United States of America" ("revenue from the US"); empty for any other
/// value.
pub fn other_names(value: &str) -> Vec<&'static str> {
    DEMONYMS
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(value.trim())))
        .map(|(names, _)| {
            names
                .iter()
                .copied()
                .filter(|n| !n.eq_ignore_ascii_case(value.trim()))
                .collect()
        })
        .unwrap_or_default()
}

/// The name of the US state (or DC) whose USPS code is `code` (exact, upper case).
pub fn us_state_name(code: &str) -> Option<&'static str> {
    US_STATES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// True when `values` (a column's distinct values) hold US state codes: at least 5 values,
/// at least 80% of them USPS codes. A column of country codes (`GB`, `FR`, `JP`, ...) is not
/// one, so "California" never becomes Canada's `CA`.
pub fn holds_us_state_codes<'a>(values: impl IntoIterator<Item = &'a str>) -> bool {
    let (mut all, mut codes) = (0usize, 0usize);
    for v in values {
        all += 1;
        codes += usize::from(us_state_name(v).is_some());
    }
    all >= 5 && codes * 5 >= all * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_found_by_their_demonyms() {
        assert_eq!(demonyms("Canada"), ["Canadian", "Canadians"]);
        assert!(demonyms("USA").contains(&"American"));
        assert!(other_names("usa").contains(&"United States"));
        assert!(other_names("United Kingdom").contains(&"UK"));
        assert!(other_names("Atlantis").is_empty());
        assert!(demonyms("united kingdom").contains(&"British"));
        assert!(demonyms("Boise").is_empty());
    }

    #[test]
    fn state_codes_are_told_from_country_codes() {
        assert_eq!(us_state_name("TX"), Some("Texas"));
        assert_eq!(us_state_name("tx"), None);
        assert!(holds_us_state_codes(["TX", "CA", "NY", "WI", "MN", "GA"]));
        assert!(!holds_us_state_codes(["CA", "GB", "FR", "JP", "DE", "IN"]));
        assert!(!holds_us_state_codes(["TX", "CA"]));
    }
}
