//! The generator order: which SQL generators are tried for a question, in which order, and
//! why each one passed its turn.
//!
//! A [`Generator`] either answers (SQL that ran, with its rows), passes (skipped: it does not
//! apply; failed: it tried), refuses (it read the question and knows the guessing generators
//! would be wrong: the refusal stands unless a generator that does not guess answers first),
//! or stops the question with an error (the last generator's refusal). [`first_answer`] asks
//! each in order and keeps the first answer, the trace of every turn and the reason the answer
//! reports for a configured LLM that did not write the SQL (`fallback_reason`).
//!
//! The order, set in `engine::generation::generate`: a curated example that aligns closely
//! with the question (curated knowledge wins, #12), the semantic layer for metric questions it
//! reads completely (#11), the LLM, a refinement of the conversation's last SQL, the pattern
//! engine (which always answers or refuses).

use crate::answer::ChartIntent;
use crate::error::QuerentError;
use crate::sql::refusal::{Refusal, RefusalCause};
use crate::sql::{GeneratedSql, TraceStep};
use crate::warehouse::Rows;

/// SQL a generator wrote and ran.
#[derive(Debug, Clone)]
pub struct Answered {
    /// What the generator wrote, with its method and confidence.
    pub chosen: GeneratedSql,
    /// The SQL that ran (after the guard).
    pub sql: String,
    pub rows: Rows,
    /// What the chart should show, when the generator knows the query's shape (the semantic
    /// layer's metric query); `None` lets the answer choose from the rows.
    pub chart_intent: Option<ChartIntent>,
    /// The period the answer covers, in words, when the question left its year to the
    /// reference date ("last quarter", "in March"): the answer states it.
    pub period_note: Option<String>,
}

/// How one generator's turn ended.
#[derive(Debug)]
pub enum Outcome {
    /// It wrote SQL that ran: the question is answered.
    Answered(Answered),
    /// It does not apply here (no LLM configured, not a follow-up); the next one gets its turn.
    Skipped(String),
    /// It tried and failed (a refined SQL that did not run); the next one gets its turn.
    Failed(String),
    /// A configured LLM did not write the SQL (its error, its open circuit): the next one gets
    /// its turn, and the answer reports this reason as its `fallback_reason`.
    FellBack(String),
    /// The question is refused with this error unless a later generator that does not guess
    /// (the LLM, a refinement of the conversation's last SQL) answers: a guessing generator
    /// ([`Generator::guesses`], the pattern engine) is not asked.
    Refused(QuerentError),
    /// The question stops here with this error (the last generator's refusal or failure).
    Stop(QuerentError),
}

/// One attempt: the outcome and the trace steps that tell it.
#[derive(Debug)]
pub struct Attempt {
    pub outcome: Outcome,
    pub trace: Vec<TraceStep>,
}

impl Attempt {
    pub fn new(outcome: Outcome, trace: Vec<TraceStep>) -> Self {
        Self { outcome, trace }
    }
}

/// A SQL generator the pipeline may ask.
pub trait Generator {
    /// Its name in traces (`llm`, `refinement`, `pattern`).
    fn name(&self) -> &'static str;

    /// Writes SQL for the question and runs it, or says why not.
    fn attempt(&self) -> Attempt;

    /// True for a generator that answers whatever it can link (the pattern engine), whose
    /// answer an earlier generator's refusal ([`Outcome::Refused`]) outranks. False by default.
    fn guesses(&self) -> bool {
        false
    }
}

/// What the generation stage settled on.
#[derive(Debug)]
pub struct Settled {
    pub answered: Answered,
    /// Every turn's trace, in order.
    pub trace: Vec<TraceStep>,
    /// Why a configured LLM did not write the SQL, when it did not.
    pub fallback_reason: Option<String>,
}

/// Asks `generators` in order and keeps the first answer.
///
/// Errors: the error a generator stops with; the first refusal ([`Outcome::Refused`]) when no
/// generator that does not guess answered after it; [`RefusalCause::NoCandidate`] when every
/// one passed.
pub fn first_answer(generators: &[&dyn Generator]) -> Result<Settled, QuerentError> {
    let mut trace = Vec::new();
    let mut fallback_reason = None;
    let mut refused: Option<QuerentError> = None;
    for generator in generators {
        if generator.guesses() {
            if let Some(e) = refused.take() {
                return Err(e);
            }
        }
        let turn = generator.attempt();
        trace.extend(turn.trace);
        match turn.outcome {
            Outcome::Answered(answered) => {
                return Ok(Settled {
                    answered,
                    trace,
                    fallback_reason,
                })
            }
            Outcome::Skipped(reason) | Outcome::Failed(reason) => {
                tracing::debug!(generator = generator.name(), %reason, "generator passed");
            }
            Outcome::FellBack(reason) => fallback_reason = Some(reason),
            Outcome::Refused(e) => {
                tracing::debug!(generator = generator.name(), %e, "generator refused");
                refused.get_or_insert(e);
            }
            Outcome::Stop(e) => return Err(e),
        }
    }
    Err(refused.unwrap_or(QuerentError::CannotAnswer(Refusal::new(
        RefusalCause::NoCandidate,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::GenerationMethod;
    use std::cell::Cell;

    /// A generator that plays a given outcome and counts its turns.
    struct Scripted {
        name: &'static str,
        outcome: fn() -> Outcome,
        turns: Cell<usize>,
        guesses: bool,
    }

    impl Scripted {
        fn new(name: &'static str, outcome: fn() -> Outcome) -> Self {
            Self {
                name,
                outcome,
                turns: Cell::new(0),
                guesses: false,
            }
        }

        fn guessing(mut self) -> Self {
            self.guesses = true;
            self
        }
    }

    impl Generator for Scripted {
        fn name(&self) -> &'static str {
            self.name
        }

        fn guesses(&self) -> bool {
            self.guesses
        }

        fn attempt(&self) -> Attempt {
            self.turns.set(self.turns.get() + 1);
            let step = TraceStep::new("generation", self.name, serde_json::Value::Null);
            Attempt::new((self.outcome)(), vec![step])
        }
    }

    fn answered(method: GenerationMethod) -> Outcome {
        Outcome::Answered(Answered {
            chosen: GeneratedSql {
                sql: "SELECT 1".into(),
                method,
                confidence: 0.9,
                trace: Vec::new(),
                features: None,
            },
            sql: "SELECT 1".into(),
            rows: Rows::default(),
            chart_intent: None,
            period_note: None,
        })
    }

    fn messages(trace: &[TraceStep]) -> Vec<&str> {
        trace.iter().map(|s| s.message.as_str()).collect()
    }

    #[test]
    fn the_first_generator_that_answers_wins_and_the_later_ones_are_not_asked() {
        let llm = Scripted::new("llm", || answered(GenerationMethod::Llm));
        let pattern = Scripted::new("pattern", || answered(GenerationMethod::Pattern));
        let settled = first_answer(&[&llm, &pattern]).unwrap();
        assert_eq!(settled.answered.chosen.method, GenerationMethod::Llm);
        assert_eq!(settled.fallback_reason, None);
        assert_eq!(pattern.turns.get(), 0);
        assert_eq!(messages(&settled.trace), ["llm"]);
    }

    #[test]
    fn a_skipped_or_failed_generator_passes_its_turn_without_a_fallback_reason() {
        let llm = Scripted::new("llm", || Outcome::Skipped("no LLM configured".into()));
        let refinement = Scripted::new("refinement", || Outcome::Failed("no such column".into()));
        let pattern = Scripted::new("pattern", || answered(GenerationMethod::Pattern));
        let settled = first_answer(&[&llm, &refinement, &pattern]).unwrap();
        assert_eq!(settled.answered.chosen.method, GenerationMethod::Pattern);
        assert_eq!(settled.fallback_reason, None);
        assert_eq!(messages(&settled.trace), ["llm", "refinement", "pattern"]);
    }

    #[test]
    fn a_configured_llm_that_falls_back_gives_the_answer_its_reason() {
        let llm = Scripted::new("llm", || Outcome::FellBack("timed out".into()));
        let refinement = Scripted::new("refinement", || answered(GenerationMethod::Refinement));
        let settled = first_answer(&[&llm, &refinement]).unwrap();
        assert_eq!(settled.answered.chosen.method, GenerationMethod::Refinement);
        assert_eq!(settled.fallback_reason.as_deref(), Some("timed out"));
    }

    #[test]
    fn a_stop_ends_the_question_with_its_error() {
        let pattern = Scripted::new("pattern", || {
            Outcome::Stop(QuerentError::CannotAnswer(Refusal::new(
                RefusalCause::NothingLinked,
            )))
        });
        let after = Scripted::new("after", || answered(GenerationMethod::Pattern));
        match first_answer(&[&pattern, &after]) {
            Err(e) => assert_eq!(e.code(), "cannot_answer"),
            Ok(_) => panic!("a stop is final"),
        }
        assert_eq!(after.turns.get(), 0);
    }

    fn partly_read() -> Outcome {
        Outcome::Refused(QuerentError::CannotAnswer(Refusal::new(
            RefusalCause::PartlyRead {
                metrics: vec!["units_sold".into()],
            },
        )))
    }

    #[test]
    fn a_refusal_outranks_a_guessing_generator_but_not_a_refinement() {
        // no conversation: the refinement passes, the pattern engine is not asked
        let semantic = Scripted::new("semantic", partly_read);
        let refinement = Scripted::new("refinement", || Outcome::Skipped("not a follow-up".into()));
        let pattern = Scripted::new("pattern", || answered(GenerationMethod::Pattern)).guessing();
        match first_answer(&[&semantic, &refinement, &pattern]) {
            Err(QuerentError::CannotAnswer(r)) => {
                assert!(matches!(r.cause, RefusalCause::PartlyRead { .. }), "{r:?}")
            }
            other => panic!("expected the refusal, got {other:?}"),
        }
        assert_eq!(refinement.turns.get(), 1);
        assert_eq!(pattern.turns.get(), 0);
        // a follow-up the refinement reads answers despite the refusal
        let refinement = Scripted::new("refinement", || answered(GenerationMethod::Refinement));
        let settled = first_answer(&[&semantic, &refinement, &pattern]).unwrap();
        assert_eq!(settled.answered.chosen.method, GenerationMethod::Refinement);
        assert_eq!(pattern.turns.get(), 0);
        // the refusal is the answer when it is the last word too
        assert!(first_answer(&[&semantic]).is_err());
    }

    #[test]
    fn no_answer_from_anyone_is_a_refusal_without_a_candidate() {
        let only = Scripted::new("only", || Outcome::Skipped("nothing to do".into()));
        match first_answer(&[&only]) {
            Err(QuerentError::CannotAnswer(r)) => assert_eq!(r.cause, RefusalCause::NoCandidate),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
