//! What the stages of the reader share: the question and what it is read against
//! ([`Input`], fixed), and what the stages have read so far ([`Reader`]): what each token was
//! read as, the phrases, members and periods found, then the query being built.

use super::lexicon::{Lexicon, Term};
use super::Reference;
use crate::knowledge::ValueIndex;
use crate::question::dates::TimeGrain;
use crate::question::tokens::{Token, TokenKind};
use crate::semantic::model::{Grain, SemanticManifest};
use crate::semantic::query::{DimensionRef, MetricQuery, Period, Slice, Threshold};
use crate::warehouse::Schema;

/// What one token was read as.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Read {
    Unread,
    Grammar,
    Period(usize),
    Term(usize),
    Member(usize),
    Number,
}

/// A lexicon phrase found in the question.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) term: Term,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// A dimension member found in the question.
#[derive(Debug, Clone)]
pub(super) struct Member {
    /// Candidate dimensions `(model, name)` holding the value, with the stored spelling.
    pub(super) candidates: Vec<(String, String, String)>,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) negated: bool,
}

/// The question and what it is read against: fixed for the whole reading, and a copy of
/// references, so that a stage holds it while it changes the [`Reader`].
#[derive(Clone, Copy)]
pub(super) struct Input<'a> {
    pub(super) question: &'a str,
    pub(super) toks: &'a [Token],
    /// The tokens in lower case.
    pub(super) words: &'a [&'a str],
    pub(super) manifest: &'a SemanticManifest,
    pub(super) lexicon: &'a Lexicon,
    pub(super) values: &'a ValueIndex,
    pub(super) schema: &'a Schema,
    pub(super) reference: Reference,
}

impl Input<'_> {
    /// `w` among the question's words.
    pub(super) fn has(&self, w: &str) -> bool {
        self.words.contains(&w)
    }

    /// The words `seq` in a row in the question.
    pub(super) fn has_seq(&self, seq: &[&str]) -> bool {
        self.words.windows(seq.len()).any(|x| x == seq)
    }

    /// A hyphen between two words of a span starting at `start`, `len` tokens long.
    pub(super) fn inner_hyphen(&self, j: usize, start: usize, len: usize) -> bool {
        j > start && j + 1 < start + len && self.toks[j].text == "-"
    }
}

/// What the stages have read so far, and the query they build.
pub(super) struct Reader<'a> {
    pub(super) input: Input<'a>,
    /// What each token was read as.
    pub(super) read: Vec<Read>,
    /// The periods named, with their grain.
    pub(super) periods: Vec<(Period, TimeGrain)>,
    /// The two periods a range was named by ("from 2023 to 2024"), per range.
    pub(super) endpoints: Vec<Option<[Period; 2]>>,
    pub(super) members: Vec<Member>,
    pub(super) found: Vec<Found>,
    /// The N of "top N".
    pub(super) top_n: Option<u64>,
    /// A condition on the figure ("more than $1M").
    pub(super) threshold: Option<Threshold>,
    /// The threshold's number was said in percent ("more than 5% of revenue").
    pub(super) threshold_percent: bool,
    /// The threshold's number as written, when it is an amount of money ("more than $10").
    pub(super) threshold_money: Option<String>,
    /// "which store is number one in each zone": the first.
    pub(super) number_one: bool,
    /// "had at least one price change": existence, in a count.
    pub(super) at_least_one: bool,
    /// A word of absence denies a named filter with no metric named ("brands never on
    /// promotion"): the model of the filter's rows, whose metric the query lists without.
    pub(super) absent_rows_of: Option<String>,
    /// The words naming the rest of a member ("all other products"), first and end token.
    pub(super) rest: Option<(usize, usize)>,
    /// The words read as grammar only, the others blank (see [`Reader::mark_grammar_words`]).
    pub(super) grammar_words: Vec<&'a str>,
    pub(super) metrics: Vec<String>,
    /// The named filters, with their first token.
    pub(super) named: Vec<(String, usize)>,
    /// The dimensions and entities named, with their first and end token.
    pub(super) dims: Vec<(Term, usize, usize)>,
    /// Each member in its dimension: the value, negated or not, and its first token.
    pub(super) resolved_members: Vec<(DimensionRef, String, bool, usize)>,
    /// The entities a member or a named filter qualifies ("Rock tracks", "promoted products").
    pub(super) qualifier_entities: Vec<String>,
    /// The members or named filters compared side by side.
    pub(super) slices: Vec<Slice>,
    pub(super) grain: Option<Grain>,
    /// The grain was named only as "year over year" (or another "X over X"): a growth, with no
    /// other word asking for a row per period.
    pub(super) grain_of_growth_only: bool,
    pub(super) q: MetricQuery,
}

impl<'a> Reader<'a> {
    /// A reader of `input` with nothing read but punctuation.
    pub(super) fn new(input: Input<'a>) -> Self {
        let toks = input.toks;
        let n = toks.len();
        let mut read = vec![Read::Unread; n];
        for (i, t) in toks.iter().enumerate() {
            if t.kind == TokenKind::Punct && t.text != "%" {
                read[i] = Read::Grammar;
            }
        }
        Reader {
            input,
            read,
            periods: Vec::new(),
            endpoints: Vec::new(),
            members: Vec::new(),
            found: Vec::new(),
            top_n: None,
            threshold: None,
            threshold_percent: false,
            threshold_money: None,
            number_one: false,
            at_least_one: false,
            absent_rows_of: None,
            rest: None,
            grammar_words: Vec::new(),
            metrics: Vec::new(),
            named: Vec::new(),
            dims: Vec::new(),
            resolved_members: Vec::new(),
            qualifier_entities: Vec::new(),
            slices: Vec::new(),
            grain: None,
            grain_of_growth_only: false,
            q: MetricQuery::default(),
        }
    }

    /// The words read as grammar only: a derived figure is asked by these, not by a word inside
    /// a metric's name ("promo share" names a metric, "share of revenue" asks for a share).
    pub(super) fn mark_grammar_words(&mut self) {
        let (words, read) = (self.input.words, &self.read);
        self.grammar_words = (0..words.len())
            .map(|i| {
                // "products that fall into each class", "falls within": belonging, no fall
                let belongs = matches!(words[i], "fall" | "falls" | "fell")
                    && matches!(
                        words.get(i + 1),
                        Some(&("into" | "in" | "within" | "under"))
                    );
                if read[i] == Read::Grammar && !belongs {
                    words[i]
                } else {
                    ""
                }
            })
            .collect();
    }

    /// `w` among the words read as grammar.
    pub(super) fn ghas(&self, w: &str) -> bool {
        self.grammar_words.contains(&w)
    }

    /// The words `seq` in a row among the words read as grammar.
    pub(super) fn ghas_seq(&self, seq: &[&str]) -> bool {
        self.grammar_words.windows(seq.len()).any(|x| x == seq)
    }
}
