//! Unit tests of the reader's helpers (the reading itself is tested in `semantic::tests`).

use super::members::member_spelling_fits;
use crate::knowledge::values::ValueMatch;

fn stored(value: &str, phrase: &str) -> ValueMatch {
    ValueMatch {
        table: "stores".into(),
        column: "state".into(),
        value: value.into(),
        score: 0.95,
        exact: value == phrase,
    }
}

#[test]
fn a_stop_word_or_a_lower_case_code_is_not_a_member() {
    for (value, phrase, fits) in [
        ("IN", "in", false),
        ("OR", "or", false),
        ("IN", "IN", true),
        ("CA", "ca", false),
        ("CA", "CA", true),
        ("Dairy", "dairy", true),
        ("West", "west", true),
        ("Rock", "rock", true),
    ] {
        assert_eq!(
            member_spelling_fits(phrase, &stored(value, phrase)),
            fits,
            "{phrase} for {value}"
        );
    }
}
