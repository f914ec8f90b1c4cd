//! The reader's refusals of words: a question asked of a person it does not name ("who
//! bought ..."), a word no stage read (the other generators get their turn), and a word read
//! as grammar that asks for a figure the query does not compute ("rank", "above the average").

use super::lexicon::{stems, Term};
use super::metrics::averages;
use super::state::{Read, Reader};
use super::{cannot_compute, refuse, Refusal};
use crate::question::tokens::{Token, TokenKind};
use crate::semantic::model::SemanticManifest;
use crate::semantic::query::{Derived, MetricQuery};

impl Reader<'_> {
    /// "who" before a verb asks for a person the question does not name.
    pub(super) fn asker(&self) -> Result<(), Refusal> {
        let x = self.input;
        let toks = x.toks;
        // "who bought the most tracks": the asker is a person the question does not name (the
        // buyer, the seller); what follows the verb is the object, not the breakdown
        let word_at = |k: usize| {
            toks.iter()
                .filter(|t| t.kind == TokenKind::Word)
                .nth(k)
                .map(|t| t.lower.as_str())
        };
        // ("who approved the most price changes": unless the model names a dimension so)
        let named = word_at(1).is_some_and(|w| {
            let phrase = super::lexicon::stems(&format!("who {w}")).join(" ");
            x.lexicon.phrases.contains_key(&phrase)
        });
        if word_at(0) == Some("who")
            && !matches!(word_at(1), Some("is" | "are" | "was" | "were" | "s"))
            && !named
        {
            return refuse(
                "\"who\" before a verb asks for a person the question does not name",
                vec!["who".into()],
            );
        }
        Ok(())
    }

    /// Refuses the question when a word was read by no stage: not a metric question, as far as
    /// the reader knows (with the metrics it names, for a question read in part).
    pub(super) fn all_read(&self) -> Result<(), Refusal> {
        let x = self.input;
        let toks = x.toks;
        let n = x.toks.len();
        let unread: Vec<String> = (0..n)
            .filter(|&i| self.read[i] == Read::Unread)
            .map(|i| toks[i].text.clone())
            .collect();
        if !unread.is_empty() {
            let mut metrics: Vec<String> = Vec::new();
            for f in &self.found {
                if let Term::Metric(m) = &f.term {
                    if !metrics.contains(m) {
                        metrics.push(m.clone());
                    }
                }
            }
            return Err(Refusal {
                reason: "words the semantic model does not know".into(),
                unread,
                understood: false,
                metrics,
            });
        }
        Ok(())
    }
}

/// Refuses a question whose words ask for a figure the metric query does not compute: read
/// as grammar, these words carry meaning ("rank", "above the average", "percentage", "at
/// least once", "how many brands"), and a query that ignored them would answer another
/// question with confidence.
pub(super) fn unused_signal(
    manifest: &SemanticManifest,
    toks: &[Token],
    read: &[Read],
    q: &MetricQuery,
) -> Result<(), Refusal> {
    // a metric that is itself an average or a ratio uses the word "average" ("the average
    // price index", "average selling price")
    let averaging = matches!(q.derived, Some(Derived::AveragePer { .. }))
        || q.columns.iter().any(|c| averages(manifest, &c.metric));
    // a metric stated in percent uses the word "%" ("initial markup % by dept")
    let in_percent = q.columns.iter().any(|c| {
        manifest
            .metric(&c.metric)
            .is_some_and(|m| stems(&m.description).iter().any(|s| s == "percent"))
    });
    let grammar = |i: usize| read[i] == Read::Grammar;
    let word = |i: usize| toks[i].lower.as_str();
    for i in 0..toks.len() {
        if !grammar(i) {
            continue;
        }
        let w = word(i);
        let next = if i + 1 < toks.len() { word(i + 1) } else { "" };
        let unused = match w {
            // "rank the regions by average revenue per store": the averages, ordered
            "rank" | "ranked" | "ranking" => {
                !matches!(
                    q.derived,
                    Some(Derived::RankWithin { .. } | Derived::Rank { .. })
                ) && !(matches!(q.derived, Some(Derived::AveragePer { .. })) && !q.order.is_empty())
            }
            "above" | "below" => !matches!(q.derived, Some(Derived::VersusAverage { .. })),
            "than" => !matches!(
                q.derived,
                Some(Derived::VersusAverage { .. } | Derived::PeriodGrowthWhere { .. })
            ),
            "average" | "avg" | "mean" => {
                !averaging && !matches!(q.derived, Some(Derived::VersusAverage { .. }))
            }
            "percent" | "percentage" | "pct" | "%" => {
                !in_percent
                    && !matches!(
                        q.derived,
                        Some(
                            Derived::ShareOfTotal
                                | Derived::ShareOfWhole
                                | Derived::PeriodGrowth
                                | Derived::PeriodDifference
                                | Derived::PeriodGrowthWhere { .. }
                                | Derived::PeriodOverPeriod { .. }
                        )
                    )
            }
            "at" => matches!(next, "least" | "most") && q.entity_count.is_none(),
            _ => false,
        };
        if unused {
            return cannot_compute(
                "a word asks for a figure the metric query does not compute",
                vec![toks[i].text.clone()],
            );
        }
    }
    Ok(())
}
