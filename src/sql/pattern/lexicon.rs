//! The English the pattern engine reads, in one place: the lists of words that carry the
//! structure of a question (how it asks) rather than its content (what it asks about).
//!
//! Every list says what it is for and who reads it. The words here are general English; words
//! of one business domain belong in the curated table docs (synonyms, display columns), not here.
//!
//! - Question words: [`is_stopword`] (no meaning for linking), [`is_structural`] (how a question
//!   asks), [`is_cue`] (structural words a name needs a strong match to take), [`CLAUSE_WORDS`]
//!   and [`VERBS`] (where the head of a question ends), [`superlative`] and [`ADJECTIVES`]
//!   (extremes and the attributes adjectives measure).
//! - Schema names: [`ABBREVIATIONS`] (expanded in table and column names), [`SYNONYMS`] (other
//!   words for a name's words), [`is_noun_stopword`] (stop words that may name a table).
//!
//! Word checks tied to one position of one pass ("with" followed by a measure word, the
//! listing verbs after a `?`) stay in their pass, next to the reading they serve.

use crate::sql::dialect::TimeGrain;

// ---- Question words ----

/// Stop words: words that carry no meaning of their own for linking (articles, pronouns,
/// auxiliaries, listing verbs, "data", "records"). They never start or end a linked span and do
/// not count as content words of the question.
pub fn is_stopword(lower: &str) -> bool {
    const STOP: &[&str] = &[
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "how",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "their",
        "there",
        "they",
        "them",
        "me",
        "my",
        "i",
        "we",
        "our",
        "you",
        "your",
        "all",
        "each",
        "every",
        "any",
        "some",
        "show",
        "list",
        "give",
        "find",
        "return",
        "tell",
        "display",
        "get",
        "provide",
        "please",
        "also",
        "has",
        "have",
        "had",
        "as",
        "into",
        "than",
        "then",
        "per",
        "both",
        "either",
        "whether",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "whats",
        "what's",
        "let",
        "us",
        "so",
        "such",
        "about",
        "just",
        "only",
        "out",
        "up",
        "s",
        "he",
        "she",
        "his",
        "her",
        "him",
        "one",
        "ones",
        "value",
        "values",
        "info",
        "information",
        "data",
        "record",
        "records",
        "corresponding",
        "respective",
        "respectively",
        "along",
        "together",
        "known",
        "called",
        "named",
    ];
    STOP.contains(&lower)
}

/// Structural words: part of how questions are asked, not of what they ask about (aggregates,
/// comparisons, order, negation, listing verbs, generic nouns like "type" or "id"). They need
/// no link: the frame counts them as explained, and they are not content words of the coverage.
pub fn is_structural(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "how",
        "many",
        "much",
        "number",
        "count",
        "total",
        "sum",
        "average",
        "avg",
        "mean",
        "maximum",
        "max",
        "minimum",
        "min",
        "highest",
        "lowest",
        "most",
        "least",
        "largest",
        "smallest",
        "biggest",
        "greatest",
        "fewest",
        "top",
        "bottom",
        "first",
        "last",
        "more",
        "less",
        "fewer",
        "greater",
        "larger",
        "bigger",
        "higher",
        "lower",
        "smaller",
        "than",
        "over",
        "above",
        "below",
        "under",
        "between",
        "exceeding",
        "order",
        "ordered",
        "sorted",
        "sort",
        "ranked",
        "descending",
        "ascending",
        "alphabetical",
        "alphabetic",
        "alphabetically",
        "decreasing",
        "increasing",
        "each",
        "per",
        "every",
        "distinct",
        "different",
        "unique",
        "not",
        "no",
        "never",
        "without",
        "except",
        "excluding",
        "any",
        "all",
        "name",
        "names",
        "list",
        "show",
        "give",
        "find",
        "return",
        "tell",
        "display",
        "what",
        "which",
        "who",
        "whose",
        "where",
        "when",
        "are",
        "is",
        "there",
        "did",
        "does",
        "do",
        "have",
        "has",
        "had",
        "equal",
        "equals",
        "same",
        "both",
        "either",
        "neither",
        "nor",
        "also",
        "other",
        "others",
        "another",
        "respectively",
        "many",
        "older",
        "younger",
        "oldest",
        "youngest",
        "cheapest",
        "expensive",
        "earliest",
        "latest",
        "recent",
        "newest",
        "longest",
        "shortest",
        "tallest",
        "heaviest",
        "lightest",
        "cheaper",
        "longer",
        "shorter",
        "taller",
        "heavier",
        "lighter",
        "earlier",
        "later",
        "times",
        "time",
        "entries",
        "entry",
        "rows",
        "row",
        "including",
        "include",
        "includes",
        "contain",
        "contains",
        "containing",
        "start",
        "starts",
        "starting",
        "end",
        "ends",
        "ending",
        "begin",
        "begins",
        "beginning",
        "like",
        "word",
        "letter",
        "substring",
        "string",
        "whole",
        "overall",
        "combined",
        "altogether",
        "result",
        "results",
        "amount",
        "exactly",
        "only",
        "greater",
        "equal",
        "null",
        "empty",
        "missing",
        "known",
        "unknown",
        "average",
        "outside",
        "besides",
        "apart",
        "ever",
        "yet",
        "still",
        "currently",
        "current",
        "available",
        "possible",
        "full",
        "complete",
        "everything",
        "anything",
        "something",
        "thing",
        "things",
        "kind",
        "kinds",
        "sort",
        "type",
        "types",
        "category",
        "categories",
        "popular",
        "common",
        "frequent",
        "frequently",
        "often",
        "usual",
        "typical",
        "best",
        "worst",
        "descending",
        "ascending",
        // "percentage", "share", "ratio", "proportion" are not here: the frame computes no
        // share of a whole, so a question asking for one is not explained by a frame without it
        "associated",
        "related",
        "relevant",
        "belong",
        "belongs",
        "belonging",
        "involved",
        "involve",
        "involves",
        "having",
        "along",
        "together",
        "their",
        "its",
        "id",
        "ids",
        "identifier",
        "identifiers",
        "code",
        "codes",
        "key",
        "keys",
    ];
    WORDS.contains(&w)
}

/// Generic superlatives, with their direction: `true` when they ask for the largest. Read by
/// the rules pass (a measure rule orders descending unless one of the words before it asks for
/// the smallest) and by the superlative pass.
pub fn superlative(w: &str) -> Option<bool> {
    match w {
        "most" | "highest" | "largest" | "biggest" | "greatest" | "maximum" | "max" | "top"
        | "best" => Some(true),
        "least" | "fewest" | "lowest" | "smallest" | "minimum" | "min" | "worst" | "bottom" => {
            Some(false)
        }
        _ => None,
    }
}

/// Adjectives that name an attribute, with their direction: (word forms, attribute stems with +1
/// when "more" of the adjective means a larger value). "the oldest" orders by `age` descending or
/// by a birth date ascending; "older than 30" compares `age`. The stems are matched as prefixes of
/// the stems of column names.
pub const ADJECTIVES: &[(&[&str], &[(&str, i8)])] = &[
    (
        &["old", "older", "oldest", "elder", "eldest"],
        &[
            ("age", 1),
            ("birth", -1),
            ("born", -1),
            ("dob", -1),
            ("year", -1),
            ("date", -1),
            ("found", -1),
            ("establish", -1),
            ("open", -1),
            ("built", -1),
        ],
    ),
    (
        &["young", "younger", "youngest"],
        &[
            ("age", -1),
            ("birth", 1),
            ("born", 1),
            ("dob", 1),
            ("year", 1),
            ("date", 1),
        ],
    ),
    (&["tall", "taller", "tallest"], &[("height", 1)]),
    (
        &["high", "higher", "highest"],
        &[("height", 1), ("elev", 1), ("altitud", 1)],
    ),
    (
        &["short", "shorter", "shortest"],
        &[("height", -1), ("length", -1), ("durat", -1)],
    ),
    (&["heavy", "heavier", "heaviest"], &[("weight", 1)]),
    (&["light", "lighter", "lightest"], &[("weight", -1)]),
    (
        &["long", "longer", "longest"],
        &[("length", 1), ("durat", 1), ("time", 1)],
    ),
    (
        &["expensive", "pricey", "costly"],
        &[("price", 1), ("cost", 1), ("fee", 1), ("amount", 1)],
    ),
    (
        &["cheap", "cheaper", "cheapest"],
        &[("price", -1), ("cost", -1), ("fee", -1), ("amount", -1)],
    ),
    (
        &["early", "earlier", "earliest"],
        &[("date", -1), ("year", -1), ("time", -1), ("start", -1)],
    ),
    (
        &[
            "late", "later", "latest", "recent", "newest", "new", "newer",
        ],
        &[("date", 1), ("year", 1), ("time", 1)],
    ),
    (&["populous"], &[("popul", 1)]),
    (
        &["rich", "richer", "richest", "wealthy", "wealthiest"],
        &[("worth", 1), ("money", 1), ("incom", 1), ("wealth", 1)],
    ),
    (
        &["fast", "faster", "fastest", "quick", "quickest"],
        &[("speed", 1)],
    ),
    (&["slow", "slower", "slowest"], &[("speed", -1)]),
    (
        &["big", "bigger", "biggest", "large", "larger", "largest"],
        &[
            ("size", 1),
            ("area", 1),
            ("squar", 1),
            ("capac", 1),
            ("popul", 1),
        ],
    ),
    (
        &["small", "smaller", "smallest"],
        &[
            ("size", -1),
            ("area", -1),
            ("squar", -1),
            ("capac", -1),
            ("popul", -1),
        ],
    ),
    (&["popular"], &[("popular", 1), ("rate", 1), ("view", 1)]),
];

/// The attribute stems of an adjective form, with their direction (see [`ADJECTIVES`]).
pub fn adjective_attrs(w: &str) -> Option<&'static [(&'static str, i8)]> {
    ADJECTIVES
        .iter()
        .find(|(forms, _)| forms.contains(&w))
        .map(|(_, a)| *a)
}

/// Words that open a clause after the head ("where", "whose", "with", ...): the head ends there.
pub const CLAUSE_WORDS: &[&str] = &[
    "where", "whose", "who", "which", "that", "with", "without", "having", "whom", "when",
];
/// Auxiliary verbs: after a linked word in the head they end it ("which city has ...").
pub const VERBS: &[&str] = &[
    "has", "have", "had", "is", "are", "was", "were", "do", "does", "did", "can",
];

// ---- Example alignment (read by `example::align`) ----

/// Participles that place rows rather than qualify them ("where they are *held*", "are
/// *located* in"): after "is" / "are" they are no qualifier of the rows.
const PLACING_PARTICIPLES: &[&str] = &[
    "located",
    "situated",
    "based",
    "held",
    "found",
    "housed",
    "stationed",
    "registered",
];

/// Whether the word at `i` of `words` (lowercase) qualifies the rows as a state after a copula:
/// it follows "is" / "are" / "was" / "were" ("How many products are *discontinued*?"), and is
/// neither an action in progress ("are advising") nor a passive with its agent ("is steered
/// by") nor a participle that places rows ([`PLACING_PARTICIPLES`]).
pub fn qualifies_rows(words: &[&str], i: usize) -> bool {
    let w = words[i];
    i > 0
        && matches!(words[i - 1], "is" | "are" | "was" | "were")
        && !w.ends_with("ing")
        && words.get(i + 1) != Some(&"by")
        && !PLACING_PARTICIPLES.contains(&w)
}

/// Beginnings of words that name a change upward ("increases", "rose", "hikes") and downward
/// ("cuts", "declined", "markdown"): a word of one list is never a rewording of a word of the
/// other, however little either names in the schema.
#[rustfmt::skip]
const CHANGE_UP: &[&str] = &[
    "increas", "rise", "rising", "rose", "risen", "raise", "raising", "hike", "hiking", "gain",
    "grow", "grew", "jump", "climb", "surg", "soar",
];
#[rustfmt::skip]
const CHANGE_DOWN: &[&str] = &[
    "decreas", "cut", "drop", "fall", "fell", "declin", "reduc", "markdown", "loss", "lost",
    "losing", "lose", "shrink", "shrank", "slump", "dip", "plung", "sank", "sink",
];

/// The direction of change a word names (see [`CHANGE_UP`]): `Some(true)` upward,
/// `Some(false)` downward.
pub fn change_direction(word: &str) -> Option<bool> {
    let w = word.to_lowercase();
    if CHANGE_UP.iter().any(|p| w.starts_with(p)) {
        Some(true)
    } else if CHANGE_DOWN.iter().any(|p| w.starts_with(p)) {
        Some(false)
    } else {
        None
    }
}

/// Words that ask rather than mean (beyond the stop words): left out when a curated example's
/// question is aligned with the asked one, so "I want to know the ..." and "Show the ..." align.
#[rustfmt::skip]
pub const REQUEST_WORDS: &[&str] = &[
    "want", "know", "see", "need", "like", "fetch", "retrieve", "output", "identify", "determine",
    "kindly", "whats", "name's", "list", "lists", "listing", "shown", "showing", "given",
];

/// Words of a column name that say it holds an amount of money (`Total`, `UnitPrice`,
/// `salary`, `budget_in_billions`): what "over $20" compares.
pub const MONEY_COLUMN_WORDS: &[&str] = &[
    "price", "cost", "total", "amount", "revenue", "sales", "salary", "wage", "wages", "fee",
    "fees", "budget", "payment", "balance", "spend", "spent", "charge", "income", "profit", "paid",
];

/// Words that ask for a share of a whole ("what percentage of customers"): a frame computes
/// none, so a reading that answers them is capped (`frame::finish`), and two questions read
/// alike only when both ask for one (`example::reading`).
pub const SHARE_WORDS: &[&str] = &[
    "share",
    "shares",
    "percent",
    "percentage",
    "proportion",
    "fraction",
];

/// Words that change a query's operation when they differ between an example and a question
/// (comparisons, negation, order, sets, ratios): never taken as a mere rewording.
#[rustfmt::skip]
pub const OPERATION_WORDS: &[&str] = &[
    "older", "younger", "more", "less", "greater", "fewer", "larger", "smaller", "higher",
    "lower", "bigger", "longer", "shorter", "above", "below", "before", "after", "over", "under",
    "not", "no", "never", "without", "except", "excluding", "only", "ascending", "descending",
    "alphabetical", "alphabetically", "order", "ordered", "sort", "sorted", "reverse", "first",
    "last", "between", "equal", "exactly", "same", "or", "both", "either", "neither", "nor",
    "earlier", "later", "newer", "cheaper", "expensive", "percentage", "percent", "ratio",
    "difference", "range", "along", "respectively", "compare", "compared", "comparing",
    "comparison", "versus", "vs", "against", "change", "changed", "grow", "grew", "growth",
    "trend", "share",
];

/// Words of a question's logic that the frame may leave unread (negation, "or"), by class: two
/// questions the engine reads into one query are taken as the same question only when they have
/// the same classes (`example::reading`). A contraction in "n't" is a negation; "or" before a
/// comparison ("two or more") is part of the comparison. "Both" is not a class: "both A and B"
/// and "A and B" ask the same.
#[rustfmt::skip]
pub const LOGIC_WORDS: &[(&str, &str)] = &[
    ("not", "not"), ("no", "not"), ("never", "not"), ("without", "not"), ("except", "not"),
    ("excluding", "not"), ("neither", "not"), ("nor", "not"), ("none", "not"),
    ("cannot", "not"), ("or", "or"), ("either", "or"),
];

/// The logic class of a lower-case word followed by `next` ([`LOGIC_WORDS`]; "didn't" is
/// `not`; "or" in "or more" is none).
pub fn logic_class(lower: &str, next: Option<&str>) -> Option<&'static str> {
    if lower.ends_with("n't") || lower.ends_with("n\u{2019}t") {
        return Some("not");
    }
    if lower == "or"
        && next.is_some_and(|n| OPERATION_WORDS.contains(&n) || n == "so" || n == "equal")
    {
        return None;
    }
    LOGIC_WORDS
        .iter()
        .find(|(w, _)| *w == lower)
        .map(|(_, class)| *class)
}

/// Extremes that ask for the largest, aligned as one `most` key: an example asking for the
/// "highest" adapts to a question asking for the "lowest" by flipping its order. Wider than
/// [`superlative`]: adjectives of one attribute ("oldest", "longest") count here, because the
/// example's SQL already says which column they order.
#[rustfmt::skip]
pub const EXAMPLE_MOST_WORDS: &[&str] = &[
    "maximum", "max", "highest", "largest", "biggest", "greatest", "most", "top", "oldest",
    "longest", "heaviest", "tallest", "latest", "newest", "best", "richest", "priciest",
    "deepest", "steepest", "sharpest",
];

/// Extremes that ask for the smallest, aligned as one `least` key (see [`EXAMPLE_MOST_WORDS`]).
#[rustfmt::skip]
pub const EXAMPLE_LEAST_WORDS: &[&str] = &[
    "minimum", "min", "lowest", "smallest", "least", "fewest", "cheapest", "bottom", "youngest",
    "shortest", "lightest", "earliest", "worst", "poorest",
];

/// Words that name a period grain ("per year", "monthly"), with the grain: an example grouped
/// by year adapts to a question asking per month. A plural ("months") reads as its singular.
pub const GRAIN_WORDS: &[(&str, TimeGrain)] = &[
    ("year", TimeGrain::Year),
    ("yearly", TimeGrain::Year),
    ("annual", TimeGrain::Year),
    ("month", TimeGrain::Month),
    ("monthly", TimeGrain::Month),
    ("week", TimeGrain::Week),
    ("weekly", TimeGrain::Week),
    ("day", TimeGrain::Day),
    ("daily", TimeGrain::Day),
];

// ---- Schema names ----

/// Abbreviations common in schema names, expanded to words before linking (`dept_name` links
/// to "department name"). A one-word name that is one of the ambiguous ones ("no", "cat", "pos",
/// "dir", "temp", "ref", "doc", "min", "max") stays as written.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("num", "number"),
    ("no", "number"),
    ("nbr", "number"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("dept", "department"),
    ("emp", "employee"),
    ("cust", "customer"),
    ("prod", "product"),
    ("desc", "description"),
    ("descr", "description"),
    ("addr", "address"),
    ("dob", "date of birth"),
    ("yr", "year"),
    ("mgr", "manager"),
    ("org", "organization"),
    ("pct", "percent"),
    ("perc", "percent"),
    ("avg", "average"),
    ("tot", "total"),
    ("acct", "account"),
    ("ctry", "country"),
    ("loc", "location"),
    ("lang", "language"),
    ("doc", "document"),
    ("ref", "reference"),
    ("stu", "student"),
    ("prof", "professor"),
    ("tel", "telephone"),
    ("fname", "first name"),
    ("lname", "last name"),
    ("dt", "date"),
    ("cnt", "count"),
    ("temp", "temperature"),
    ("bdate", "birth date"),
    ("std", "standard"),
    ("pos", "position"),
    ("attr", "attribute"),
    ("cat", "category"),
    ("max", "maximum"),
    ("min", "minimum"),
    ("rev", "revenue"),
    ("hq", "headquarters"),
    ("gpa", "grade point average"),
    ("cred", "credit"),
    ("crs", "course"),
    ("apt", "apartment"),
    ("bldg", "building"),
    ("div", "division"),
    ("stat", "status"),
    ("ssn", "social security number"),
    ("eid", "employee id"),
    ("sid", "student id"),
    ("pid", "product id"),
    ("cid", "customer id"),
    ("ver", "version"),
    ("mfr", "manufacturer"),
    ("mfg", "manufacturing"),
    ("intl", "international"),
    ("natl", "national"),
    ("govt", "government"),
    ("univ", "university"),
    ("dir", "director"),
    ("pop", "population"),
    ("wt", "weight"),
    ("ht", "height"),
    ("sec", "seconds"),
    ("hr", "hour"),
    ("lat", "latitude"),
    ("long", "longitude"),
    ("lng", "longitude"),
    ("lon", "longitude"),
    ("yn", "yes no"),
    ("dob", "date of birth"),
    ("zip", "zip code"),
    ("postcode", "post code"),
];

/// General English synonyms: a word of a schema name and other words people use for it. Each
/// gives the name another form (weight 0.85) that the question's words may link to.
///
/// A pair belongs here only when it holds in any database (a dictionary's synonyms: "film" and
/// "movie", "wage" and "salary"). A word that means a name only in one business ("sales" or
/// "turnover" for a revenue column, "movement" for units sold) is curated in that database's
/// table docs (`synonyms` of a table or column), where a domain expert can see and change it.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    ("country", &["nation", "nationality"]),
    ("nationality", &["country"]),
    ("salary", &["wage", "pay", "earn", "earning", "income"]),
    ("film", &["movie"]),
    ("movie", &["film"]),
    ("song", &["track"]),
    ("track", &["song"]),
    ("customer", &["client", "buyer"]),
    ("client", &["customer"]),
    ("employee", &["staff", "worker"]),
    ("price", &["cost"]),
    ("cost", &["price"]),
    ("city", &["town"]),
    ("gender", &["sex"]),
    ("sex", &["gender"]),
    ("location", &["place"]),
    ("quantity", &["units", "amount"]),
    ("teacher", &["instructor"]),
    ("instructor", &["teacher"]),
    ("professor", &["teacher", "instructor"]),
    ("student", &["pupil"]),
    ("author", &["writer"]),
    ("phone", &["telephone"]),
    ("telephone", &["phone"]),
    ("email", &["e-mail", "mail"]),
    ("birth", &["born"]),
    ("born", &["birth"]),
    ("age", &["old"]),
    ("height", &["tall"]),
    ("weight", &["heavy"]),
    ("population", &["populous", "inhabitants"]),
    ("capacity", &["seats"]),
    ("duration", &["long", "length"]),
    ("length", &["long", "duration"]),
    // a duration stored in its unit is the length of the thing
    ("milliseconds", &["length", "duration", "long"]),
    ("seconds", &["length", "duration", "long"]),
    ("minutes", &["length", "duration", "long"]),
    ("headquarters", &["headquartered", "based"]),
    ("title", &["name"]),
    ("description", &["describe", "described"]),
    ("rating", &["rated", "score"]),
    ("score", &["rating", "points"]),
    ("year", &["when"]),
    ("date", &["when"]),
    ("total", &["sum"]),
    ("aircraft", &["plane", "airplane"]),
    ("airline", &["carrier"]),
    ("vehicle", &["car"]),
    ("car", &["vehicle", "automobile"]),
    ("count", &["number"]),
    ("number", &["count"]),
];

/// Stop words that are nouns and may be a table's whole name ("records", "data"): linking still
/// links them to a table named so.
pub fn is_noun_stopword(w: &str) -> bool {
    matches!(
        w,
        "record" | "records" | "data" | "value" | "values" | "information" | "info"
    )
}

/// Cue words: structural words (aggregates, extremes, counting, order) that may also be part of
/// a name. Linked alone, their score is lowered (x0.55 for a name, x0.5 for a stored value), so
/// "number" links to `number_of_seats` only when nothing better reads it.
pub fn is_cue(lower: &str) -> bool {
    const CUES: &[&str] = &[
        "number",
        "count",
        "total",
        "average",
        "avg",
        "mean",
        "maximum",
        "max",
        "minimum",
        "min",
        "highest",
        "lowest",
        "most",
        "least",
        "many",
        "much",
        "sum",
        "largest",
        "smallest",
        "top",
        "different",
        "distinct",
        "order",
        "sorted",
        "ordered",
        "descending",
        "ascending",
        "more",
        "less",
        "greater",
        "fewer",
        "than",
        "larger",
        "higher",
        "lower",
        "bigger",
        "when",
        "all",
    ];
    CUES.contains(&lower)
}

/// Units of measure written after a number ("5 MB", "20 kg", "3 hours"): general
/// abbreviations and words of the SI and common units, data sizes, durations and currencies.
/// Read by linking: a unit after a number is never linked as a stored value (a state code
/// "MB" is not meant in "larger than 5 MB"). The units of a database's own columns are curated
/// in its table docs (`unit`) and also decide which column the number compares
/// ([`crate::sql::pattern::linking::Lexicon::unit_columns`]).
pub fn is_unit(lower: &str) -> bool {
    matches!(
        lower,
        "b" | "kb"
            | "mb"
            | "gb"
            | "tb"
            | "pb"
            | "kib"
            | "mib"
            | "gib"
            | "bytes"
            | "byte"
            | "kilobytes"
            | "megabytes"
            | "gigabytes"
            | "terabytes"
            | "bit"
            | "bits"
            | "kbps"
            | "mbps"
            | "gbps"
            | "mg"
            | "g"
            | "kg"
            | "kgs"
            | "t"
            | "lb"
            | "lbs"
            | "oz"
            | "grams"
            | "kilograms"
            | "pounds"
            | "tons"
            | "tonnes"
            | "ounces"
            | "mm"
            | "cm"
            | "m"
            | "km"
            | "ft"
            | "mi"
            | "yd"
            | "meters"
            | "metres"
            | "kilometers"
            | "kilometres"
            | "miles"
            | "feet"
            | "inches"
            | "yards"
            | "sqft"
            | "mph"
            | "kph"
            | "kmh"
            | "ms"
            | "s"
            | "sec"
            | "secs"
            | "hr"
            | "hrs"
            | "h"
            | "milliseconds"
            | "seconds"
            | "minutes"
            | "mins"
            | "hours"
            | "ml"
            | "l"
            | "liters"
            | "litres"
            | "gallons"
            | "kw"
            | "kwh"
            | "mw"
            | "hz"
            | "mhz"
            | "ghz"
            | "usd"
            | "eur"
            | "gbp"
            | "jpy"
            | "cad"
            | "aud"
            | "chf"
            | "cny"
            | "dollars"
            | "euros"
            | "percent"
            | "pct"
    )
}

/// Phrases of assignment between two things ("the customers each rep *looks after*", "the
/// stores she *is in charge of*", "the accounts he *takes care of*"): how many tokens the one
/// starting at token `i` takes, `None` if none starts there. Matched on stems, so every tense
/// reads.
pub fn relation_phrase_at(tokens: &[crate::question::Token], i: usize) -> Option<usize> {
    const PHRASES: &[&[&str]] = &[
        &["look", "after"],
        &["take", "care", "of"],
        &["in", "charg", "of"],
        &["respons", "for"],
        &["deal", "with"],
        &["work", "with"],
        &["assign", "to"],
    ];
    PHRASES.iter().find_map(|p| {
        let matches = p
            .iter()
            .enumerate()
            .all(|(k, s)| tokens.get(i + k).is_some_and(|t| t.stem == *s));
        matches.then_some(p.len())
    })
}

/// Words that deny what follows them: a frame with no denial in it answers the opposite
/// question.
pub const NEGATIONS: &[&str] = &[
    "no", "not", "never", "without", "none", "don't", "doesn't", "didn't", "haven't", "hasn't",
    "isn't", "aren't", "wasn't", "weren't", "nobody", "nothing",
];
