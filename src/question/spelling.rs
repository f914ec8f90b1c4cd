//! Spelling: a typed word one slip away from a word of the database's vocabulary ("competiter",
//! "lenght", "revnue") is read as that word, before any reader sees the question.
//!
//! Only the slips people make when they type (after Damerau 1964, "A technique for computer
//! detection and correction of spelling errors", which found about 80 % of misspellings to be
//! one insertion, deletion, substitution or transposition) and only those that keep a word's
//! ending, since a changed ending is usually another form of a word ("pricey" is not a typo of
//! "price"): two adjacent letters swapped, a vowel typed for another, a letter left out inside
//! the word, a letter doubled. The typed word must be unknown (no word of the names, synonyms,
//! docs or examples of the database, no stop word), at least five letters long (four for a
//! letter left out: "prce"), and the correction unique; anything else is left as typed.

use std::collections::{BTreeSet, HashSet};

use super::tokens::{is_stopword, split_identifier, stem};

/// Shortest typed word a correction is tried for: shorter words are too often another word.
const MIN_TYPED: usize = 5;

/// Words of questions on any database a slip may be corrected to as well ("whcih", "avergae",
/// "highets"): the question words and the words of operations and periods.
#[rustfmt::skip]
const QUESTION_WORDS: &[&str] = &[
    "which", "where", "whose", "their", "there", "these", "those", "average", "total",
    "between", "without", "during", "before", "after", "compare", "compared", "versus",
    "percent", "percentage", "highest", "lowest", "largest", "smallest", "biggest", "number",
    "least", "month", "monthly", "quarter", "quarterly", "yearly", "weekly", "daily",
];

/// Contractions typed without their apostrophe ("havent", "didnt"), read as written with it:
/// the readers of negation know "haven't", not "havent".
#[rustfmt::skip]
const CONTRACTIONS: &[(&str, &str)] = &[
    ("havent", "haven't"), ("hasnt", "hasn't"), ("hadnt", "hadn't"), ("didnt", "didn't"),
    ("dont", "don't"), ("doesnt", "doesn't"), ("isnt", "isn't"), ("arent", "aren't"),
    ("wasnt", "wasn't"), ("werent", "weren't"), ("wouldnt", "wouldn't"),
    ("couldnt", "couldn't"), ("shouldnt", "shouldn't"), ("whats", "what's"),
];

/// The words of one database a typed word may be read as, and the words known as written.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Words a slip may be corrected to (lower case): names and synonyms of tables, columns,
    /// metrics, dimensions and filters.
    targets: BTreeSet<String>,
    /// Words never corrected (lower case): the targets, and the words of docs, rules and
    /// example questions.
    known: HashSet<String>,
}

/// One word read otherwise than typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The word as typed.
    pub typed: String,
    /// The word of the vocabulary it is read as.
    pub read_as: String,
}

impl Vocabulary {
    /// A vocabulary from the texts whose words may be corrected to (`targets`: names,
    /// synonyms) and the texts whose words are merely known (`known`: descriptions, rules,
    /// example questions). Each text is split into words of letters.
    pub fn new<'a>(
        targets: impl IntoIterator<Item = &'a str>,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Vocabulary {
        let mut v = Vocabulary::default();
        for text in targets.into_iter().chain(QUESTION_WORDS.iter().copied()) {
            for w in words(text) {
                v.known.insert(w.clone());
                v.targets.insert(w);
            }
        }
        for text in known {
            v.known.extend(words(text));
        }
        v
    }

    /// The question with each slip read as its word, and the corrections made; `None` when
    /// nothing was corrected.
    pub fn correct(&self, question: &str) -> Option<(String, Vec<Correction>)> {
        let mut out = String::with_capacity(question.len());
        let mut corrections = Vec::new();
        let mut word = String::new();
        let mut flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                match self.read_as(word) {
                    Some(to) => {
                        corrections.push(Correction {
                            typed: word.clone(),
                            read_as: to.clone(),
                        });
                        out.push_str(&to);
                    }
                    None => out.push_str(word),
                }
                word.clear();
            }
        };
        for ch in question.chars() {
            if ch.is_alphabetic() {
                word.push(ch);
            } else {
                flush(&mut word, &mut out);
                out.push(ch);
            }
        }
        flush(&mut word, &mut out);
        (!corrections.is_empty()).then_some((out, corrections))
    }

    /// The one target a typed word is a slip of, if it is unknown and exactly one target is a
    /// slip away.
    fn read_as(&self, typed: &str) -> Option<String> {
        let lower = typed.to_lowercase();
        if let Some(&(_, with)) = CONTRACTIONS.iter().find(|(t, _)| *t == lower) {
            return (!self.known.contains(&lower)).then(|| with.to_string());
        }
        // four letters: only a letter left out of a longer word ("prce" for "price")
        let short = lower.chars().count() == MIN_TYPED - 1;
        if (lower.chars().count() < MIN_TYPED && !short)
            || self.known.contains(&lower)
            || is_stopword(&lower)
            || super::numbers::word_value(&lower).is_some()
            || QUESTION_WORDS.contains(&lower.as_str())
            || !lower.chars().all(|c| c.is_ascii_lowercase())
        {
            return None;
        }
        let typed_stem = stem(&lower);
        let mut found: Option<&String> = None;
        for t in &self.targets {
            // a four-letter word is too often a word of its own ("last" is no slip of
            // "least"): it is read only as a word of the database's names, or of a question
            // word starting "wh" ("wich" for "which"), whose slips are no English words
            let question_word = QUESTION_WORDS.contains(&t.as_str()) && !t.starts_with("wh");
            if !one_slip(&lower, t)
                || stem(t) == typed_stem
                || (short && (t.len() != lower.len() + 1 || question_word))
            {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(t);
        }
        found.cloned()
    }
}

/// The lower-case words of letters of `text`, identifiers split as such (`InvoiceDate`:
/// invoice, date).
fn words(text: &str) -> Vec<String> {
    split_identifier(text)
        .into_iter()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .collect()
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Whether `typed` is `word` with one slip of typing that keeps its first letter: adjacent
/// letters swapped, or, keeping its last letter too, a vowel for a vowel, a letter left out, a
/// letter doubled.
fn one_slip(typed: &str, word: &str) -> bool {
    let (a, b) = (typed.as_bytes(), word.as_bytes());
    if a.is_empty() || b.is_empty() || a[0] != b[0] {
        return false;
    }
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return match diff.as_slice() {
            // "competiter" for "competitor" (the last letter is an ending, not a slip)
            [i] => *i + 1 < a.len() && is_vowel(a[*i]) && is_vowel(b[*i]),
            // "lenght" for "length"
            [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
            _ => false,
        };
    }
    if a[a.len() - 1] != b[b.len() - 1] {
        return false;
    }
    // "revnue" for "revenue": one letter of the word left out (never its first or last)
    if a.len() + 1 == b.len() {
        return (1..b.len() - 1).any(|k| b[..k] == a[..k] && b[k + 1..] == a[k..]);
    }
    // "reveenue" for "revenue": a letter typed twice
    if a.len() == b.len() + 1 {
        return (1..a.len()).any(|k| a[k] == a[k - 1] && a[..k] == b[..k] && a[k + 1..] == b[k..]);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(
            [
                "competitor competitor_name",
                "Milliseconds length duration",
                "revenue price gap",
                "track genre artist",
            ],
            ["The price a competitor charged, in dollars."],
        )
    }

    #[test]
    fn a_slip_of_typing_reads_as_the_word_of_the_vocabulary() {
        let v = vocabulary();
        let (text, c) = v.correct("avg price gap by competiter").unwrap();
        assert_eq!(text, "avg price gap by competitor");
        assert_eq!(
            c,
            [Correction {
                typed: "competiter".into(),
                read_as: "competitor".into()
            }]
        );
        let (text, _) = v.correct("avg track lenght in minutes").unwrap();
        assert_eq!(text, "avg track length in minutes");
        let (text, _) = v.correct("revnue by genre, reveenue by artist").unwrap();
        assert_eq!(text, "revenue by genre, revenue by artist");
        // the words of questions on any database too
        let (text, _) = v.correct("whcih genre has the highets price").unwrap();
        assert_eq!(text, "which genre has the highest price");
        // a word of four letters: only a letter left out inside a word ("prce" / "price")
        let (text, _) = v.correct("avg prce gap").unwrap();
        assert_eq!(text, "avg price gap");
        assert_eq!(v.correct("avg price gapp"), None);
        // a number word is no slip of a question word ("three" / "there")
        assert_eq!(v.correct("the three genres"), None);
    }

    #[test]
    fn a_contraction_typed_without_its_apostrophe_reads_as_written_with_it() {
        let v = vocabulary();
        let (text, c) = v.correct("customers who havent bought anything").unwrap();
        assert_eq!(text, "customers who haven't bought anything");
        assert_eq!(c[0].typed, "havent");
        let (text, _) = v.correct("Tracks that didnt sell, whats left").unwrap();
        assert_eq!(text, "Tracks that didn't sell, what's left");
        // a word of the database's own is left as typed
        let known = Vocabulary::new(["dont"], []);
        assert_eq!(known.correct("dont"), None);
    }

    #[test]
    fn known_words_short_words_and_other_forms_are_left_as_typed() {
        let v = vocabulary();
        // another form of a word (its ending changed) is no slip
        assert_eq!(v.correct("pricey tracks"), None);
        assert_eq!(v.correct("tracks by genres"), None);
        // a word of the docs is known as written; short words are never corrected
        assert_eq!(v.correct("what was charged"), None);
        assert_eq!(v.correct("gap by genr"), None);
        // a first letter typed wrong is another word more often than a slip
        assert_eq!(v.correct("grand total"), None);
        // a word of four letters is read only as a word of the database's names, never as a
        // word of questions ("last name" is no slip of "least")
        assert_eq!(v.correct("the last name of the artist"), None);
        // but for the question words starting "wh", whose slips are no words of their own
        let (text, _) = v.correct("wich genre sold the most").unwrap();
        assert_eq!(text, "which genre sold the most");
    }
}
