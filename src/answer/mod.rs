//! The answer: deterministic insights, a chart and a summary computed from the rows.
