//! Calibrated confidence of the pattern engine's queries.
//!
//! A frame's query is described by a few [`Features`] (how much of the question it explains, how
//! sure its links are, guesses, joins, ambiguity, type mismatches); its confidence is a logistic
//! regression over them (Platt scaling: J. Platt, "Probabilistic outputs for support vector
//! machines", 1999), so that a confidence of 0.7 means about 70 % of such answers are right.
//! [`after_execution`] lowers it when the query returned no rows.
//!
//! The weights were fitted on 2000 questions of the Spider training split (seeded sample, seed 7)
//! by `querent eval --pattern-only --per-question`, whose lines carry these features, and checked
//! on 2000 other questions (seed 11): answered accuracy per confidence bucket is in the closing
//! notes and in `querent eval`'s report. Nothing here names a database of the sample.

use super::ast::{AggFunc, CmpOp, Literal};
use super::frame::{Cond, Frame, Measure};
use super::linking::{ColRef, Linking};
use crate::warehouse::{ColumnKind, Schema};

/// Weights of the logistic regression, in the order of the feature vector of
/// [`Features::confidence`]: bias, coverage, link quality, guesses, joins, inferred keys,
/// words / 10, ambiguous spans, set operation, `*` select, type mismatches, alternative reading.
/// All fitted, but for type mismatches: too rare in the sample (23 of 1984) to fit, they carry a
/// prior penalty of -0.5 so that a well-typed reading ranks first.
pub const WEIGHTS: [f64; 12] = [
    0.45, 0.94, 0.24, -0.43, -0.17, -0.10, -0.70, -0.20, 0.38, -0.05, -0.5, -0.33,
];

/// Added to the log-odds of a query that ran and returned no rows (fitted with [`WEIGHTS`]).
pub const EMPTY_RESULT_WEIGHT: f64 = -0.69;

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The confidence of a query after it ran: `confidence` (0..1) with the log-odds moved by
/// [`EMPTY_RESULT_WEIGHT`] when it returned no rows, else unchanged.
pub fn after_execution(confidence: f64, empty: bool) -> f64 {
    if !empty {
        return confidence;
    }
    let c = confidence.clamp(1e-6, 1.0 - 1e-6);
    logistic((c / (1.0 - c)).ln() + EMPTY_RESULT_WEIGHT)
}

/// What the confidence of a frame's query is computed from (also reported in the trace, and
/// the inputs of its calibration).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Features {
    /// Share of the question's content words explained, 0..1.
    pub coverage: f64,
    /// Mean score of the links used, 0..1.
    pub link_quality: f64,
    /// Penalties for guesses the frame made.
    pub guesses: f64,
    /// Joins in the plan.
    pub joins: usize,
    /// Joins on keys the database does not declare.
    pub inferred_keys: usize,
    /// Words of the question.
    pub words: usize,
    /// Spans whose second link scores within 0.05 of the first (ambiguous words).
    pub ambiguous: usize,
    /// The query is a set operation (INTERSECT, UNION, EXCEPT) or leaves rows out (NOT IN).
    pub set_operation: bool,
    /// The select list is `*`.
    pub star: bool,
    /// Business rules applied.
    pub rules: usize,
    /// Aggregates or comparisons whose column type does not fit (`SUM` of a text column, a
    /// number compared with a text column).
    pub type_mismatches: usize,
    /// The frame is an alternative reading (an ambiguous word read by its second-best link).
    pub alternative: bool,
}

impl Features {
    pub(crate) fn of(
        fr: &Frame,
        links: &Linking,
        schema: &Schema,
        joins: usize,
        inferred_keys: usize,
        words: usize,
    ) -> Features {
        let kind = |c: &ColRef| schema.tables[c.table].columns[c.column].kind();
        let numeric = |c: &ColRef| {
            matches!(
                kind(c),
                ColumnKind::Integer | ColumnKind::Real | ColumnKind::Other
            )
        };
        let aggregate_mismatches = fr
            .select
            .iter()
            .chain(fr.order.iter().map(|(t, _)| t))
            .filter(|t| {
                matches!(t.agg, Some(AggFunc::Sum) | Some(AggFunc::Avg))
                    && matches!(&t.measure, Measure::Column(c) if !numeric(c))
            })
            .count();
        let comparison_mismatches = fr
            .conds
            .iter()
            .filter(|c| match c {
                Cond::Cmp { col, op, value } => {
                    !matches!(op, CmpOp::Eq | CmpOp::Ne)
                        && matches!(value, Literal::Number(_))
                        && kind(col) == ColumnKind::Text
                }
                _ => false,
            })
            .count();
        Features {
            type_mismatches: aggregate_mismatches + comparison_mismatches,
            alternative: false,
            coverage: fr.coverage as f64,
            link_quality: (fr.link_quality as f64).min(1.0),
            guesses: fr.guesses as f64,
            joins,
            inferred_keys,
            words,
            ambiguous: links
                .spans
                .iter()
                .filter(|s| s.links.len() > 1 && s.links[1].score >= s.links[0].score - 0.05)
                .count(),
            set_operation: fr.combine.is_some() || !fr.excluded.is_empty(),
            star: fr
                .select
                .iter()
                .all(|t| t.agg.is_none() && matches!(t.measure, Measure::Star)),
            rules: fr.rules.len(),
        }
    }

    /// Confidence of the query, 0..1: the calibrated probability that the query answers the
    /// question, `1 / (1 + e^-z)` with `z = w . x` over these features ([`WEIGHTS`]).
    pub fn confidence(&self) -> f64 {
        let x = [
            1.0,
            self.coverage,
            self.link_quality,
            self.guesses.min(0.4),
            self.joins as f64,
            self.inferred_keys as f64,
            self.words as f64 / 10.0,
            self.ambiguous as f64,
            f64::from(u8::from(self.set_operation)),
            f64::from(u8::from(self.star)),
            self.type_mismatches as f64,
            f64::from(u8::from(self.alternative)),
        ];
        let z: f64 = x.iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
        logistic(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_result_lowers_confidence_and_rows_leave_it_alone() {
        assert_eq!(after_execution(0.7, false), 0.7);
        let lowered = after_execution(0.7, true);
        assert!(lowered < 0.6 && lowered > 0.4, "{lowered}");
        assert!(after_execution(1.0, true) < 1.0);
        assert!(after_execution(0.0, true) >= 0.0);
    }

    #[test]
    fn confidence_rises_with_coverage_and_falls_with_joins_and_guesses() {
        let base = Features {
            coverage: 1.0,
            link_quality: 1.0,
            guesses: 0.0,
            joins: 0,
            inferred_keys: 0,
            words: 8,
            ambiguous: 0,
            set_operation: false,
            star: false,
            rules: 0,
            type_mismatches: 0,
            alternative: false,
        };
        let c = base.confidence();
        assert!(c > 0.6 && c < 1.0, "{c}");
        assert!(
            Features {
                coverage: 0.5,
                ..base
            }
            .confidence()
                < c
        );
        assert!(Features { joins: 3, ..base }.confidence() < c);
        assert!(
            Features {
                guesses: 0.3,
                ..base
            }
            .confidence()
                < c
        );
        assert!(
            Features {
                type_mismatches: 1,
                ..base
            }
            .confidence()
                < c
        );
    }
}
