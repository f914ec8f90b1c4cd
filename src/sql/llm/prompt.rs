//! The prompts sent to the LLM, rendered from the minijinja templates under
//! `templates/prompts/` (`sql.j2`, `repair.j2`, `summary.j2`), compiled once at start.
//!
//! [`Prompts::sql`] fits the schema into a token budget. Tokens are estimated at four
//! characters each (a deliberately simple rule of thumb for English and SQL; it errs on the
//! long side for code), and when the prompt is over budget it is cut in this order, each cut
//! named in [`SqlPrompt::cuts`] for the trace: wide tables lose the columns the question does
//! not name, then examples go (last first), then rules, then every table is pruned, then the
//! oldest conversation turns, then the lowest-ranked tables (at least one stays).

use std::path::Path;

use serde::Serialize;

use crate::knowledge::{BusinessRule, ColumnDoc, Example, TableDoc};
use crate::sql::dialect::Dialect;
use crate::warehouse::ForeignKey;

/// Templates shipped in the binary, used when the templates folder has none.
const BUILTIN: [(&str, &str); 3] = [
    ("sql.j2", include_str!("../../../templates/prompts/sql.j2")),
    (
        "repair.j2",
        include_str!("../../../templates/prompts/repair.j2"),
    ),
    (
        "summary.j2",
        include_str!("../../../templates/prompts/summary.j2"),
    ),
];

/// Tokens kept free for the model's reply.
pub const REPLY_RESERVE_TOKENS: usize = 1_000;

/// A table wider than this is pruned to the columns the question names, keys first.
const WIDE_TABLE_COLUMNS: usize = 30;

/// Columns kept when a table is pruned.
const PRUNED_COLUMNS: usize = 12;

/// At most this many sample values per column go into the prompt.
const SAMPLE_VALUES: usize = 5;

/// Estimated tokens of a text: one per four characters, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// A previous question of the conversation and the SQL that answered it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PriorTurn {
    pub question: String,
    pub sql: String,
}

/// What a SQL prompt is made of.
#[derive(Debug, Clone)]
pub struct SqlPromptInput<'a> {
    pub dialect: Dialect,
    /// Retrieved table docs, best first.
    pub tables: &'a [TableDoc],
    pub examples: &'a [Example],
    pub rules: &'a [BusinessRule],
    /// Earlier turns, oldest first.
    pub history: &'a [PriorTurn],
    /// The question's content words, to choose which columns of a wide table to keep.
    pub content_words: &'a [String],
    /// The model's context window in tokens.
    pub context_tokens: usize,
}

/// A rendered SQL prompt: the system message, its estimated tokens and what was cut to fit.
#[derive(Debug, Clone)]
pub struct SqlPrompt {
    pub system: String,
    pub estimated_tokens: usize,
    pub budget_tokens: usize,
    pub cuts: Vec<String>,
}

/// The compiled prompt templates.
pub struct Prompts {
    env: minijinja::Environment<'static>,
}

#[derive(Serialize, Clone)]
struct TableView {
    name: String,
    description: String,
    columns: Vec<ColumnDoc>,
    foreign_keys: Vec<ForeignKey>,
    omitted: usize,
}

impl Prompts {
    /// Compiles `dir/{sql,repair,summary}.j2`; a template missing from `dir` is taken from the
    /// copy built into the binary.
    ///
    /// Errors: a template does not compile.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut env = minijinja::Environment::new();
        // Optional fields (unit, samples) are absent when empty: tested with `if`, never printed.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, builtin) in BUILTIN {
            let source =
                std::fs::read_to_string(dir.join(name)).unwrap_or_else(|_| builtin.to_string());
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| anyhow::anyhow!("prompt template {name}: {e}"))?;
        }
        Ok(Self { env })
    }

    /// The system prompt for writing SQL, cut to fit `input.context_tokens` with room for the
    /// question (`question_tokens`) and the reply.
    ///
    /// Errors: a template fails to render (a bug in a template, not in the input).
    pub fn sql(
        &self,
        input: &SqlPromptInput,
        question_tokens: usize,
    ) -> Result<SqlPrompt, minijinja::Error> {
        let budget = input
            .context_tokens
            .saturating_sub(REPLY_RESERVE_TOKENS + question_tokens);
        let mut cuts = Vec::new();
        let mut tables: Vec<TableView> = input
            .tables
            .iter()
            .map(|t| {
                let mut view = TableView {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    columns: t
                        .columns
                        .iter()
                        .cloned()
                        .map(|mut c| {
                            c.sample_values.truncate(SAMPLE_VALUES);
                            c
                        })
                        .collect(),
                    foreign_keys: t.foreign_keys.clone(),
                    omitted: 0,
                };
                if view.columns.len() > WIDE_TABLE_COLUMNS {
                    prune(&mut view, t, input.content_words, &mut cuts);
                }
                view
            })
            .collect();
        let mut examples = input.examples.to_vec();
        let mut rules = input.rules.to_vec();
        let mut history = input.history.to_vec();
        let mut pruned_all = false;
        loop {
            let system = self
                .env
                .get_template("sql.j2")?
                .render(minijinja::context! {
                    dialect => input.dialect.sql().name(),
                    dialect_hint => input.dialect.sql().prompt_hint(),
                    tables => &tables,
                    examples => &examples,
                    rules => &rules,
                    history => &history,
                })?;
            let tokens = estimate_tokens(&system);
            if tokens <= budget {
                return Ok(SqlPrompt {
                    system,
                    estimated_tokens: tokens,
                    budget_tokens: budget,
                    cuts,
                });
            }
            if let Some(e) = examples.pop() {
                cuts.push(format!("example '{}' left out", e.question));
            } else if let Some(r) = rules.pop() {
                cuts.push(format!("rule '{}' left out", r.name));
            } else if !pruned_all {
                pruned_all = true;
                for (view, doc) in tables.iter_mut().zip(input.tables) {
                    if view.columns.len() > PRUNED_COLUMNS {
                        prune(view, doc, input.content_words, &mut cuts);
                    }
                }
            } else if !history.is_empty() {
                let h = history.remove(0);
                cuts.push(format!("earlier question '{}' left out", h.question));
            } else if tables.len() > 1 {
                let t = tables.pop().expect("more than one table");
                cuts.push(format!("table {} left out", t.name));
            } else {
                cuts.push(format!(
                    "still about {tokens} tokens for a budget of {budget}: sent as is"
                ));
                return Ok(SqlPrompt {
                    system,
                    estimated_tokens: tokens,
                    budget_tokens: budget,
                    cuts,
                });
            }
        }
    }

    /// The user message asking to repair `sql` after `error`.
    pub fn repair(&self, error: &str) -> Result<String, minijinja::Error> {
        self.env
            .get_template("repair.j2")?
            .render(minijinja::context! { error => error })
    }

    /// The user message asking for a summary and follow-up questions of a result; only `rows`
    /// (a bounded sample) is sent, `row_count` tells how many there were.
    pub fn summary(
        &self,
        question: &str,
        sql: &str,
        columns: &[String],
        rows: &[Vec<serde_json::Value>],
        row_count: usize,
    ) -> Result<String, minijinja::Error> {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "NULL".into(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        self.env
            .get_template("summary.j2")?
            .render(minijinja::context! {
                question => question,
                sql => sql,
                columns => columns,
                rows => &rows,
                row_count => row_count,
                sample_size => rows.len(),
            })
    }
}

/// Keeps keys, foreign-key columns and the columns the question names, then the first others,
/// up to [`PRUNED_COLUMNS`].
fn prune(view: &mut TableView, doc: &TableDoc, words: &[String], cuts: &mut Vec<String>) {
    let named = |c: &ColumnDoc| {
        let text = format!("{} {} {}", c.name, c.synonyms.join(" "), c.description).to_lowercase();
        words.iter().any(|w| {
            let stem: String = w.chars().take(5).collect();
            stem.chars().count() >= 3 && text.contains(&stem)
        })
    };
    let key = |c: &ColumnDoc| {
        doc.primary_key.iter().any(|k| k == &c.name)
            || doc.foreign_keys.iter().any(|f| f.from_column == c.name)
    };
    let mut keep: Vec<ColumnDoc> = view.columns.iter().filter(|c| key(c)).cloned().collect();
    for c in view.columns.iter().filter(|c| !key(c) && named(c)) {
        keep.push(c.clone());
    }
    for c in &view.columns {
        if keep.len() >= PRUNED_COLUMNS {
            break;
        }
        if !keep.iter().any(|k| k.name == c.name) {
            keep.push(c.clone());
        }
    }
    let before = view.columns.len() + view.omitted;
    view.omitted = before - keep.len();
    if view.omitted > 0 {
        cuts.push(format!(
            "table {}: {} of {} columns left out",
            view.name, view.omitted, before
        ));
    }
    view.columns = keep;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide_table(n: usize) -> TableDoc {
        TableDoc {
            name: "wide".into(),
            description: "a wide table".into(),
            columns: (0..n)
                .map(|i| ColumnDoc {
                    name: if i == 7 {
                        "revenue".into()
                    } else {
                        format!("col_{i}")
                    },
                    data_type: "REAL".into(),
                    description: "a column with a long description to take some room".into(),
                    ..Default::default()
                })
                .collect(),
            primary_key: vec!["col_0".into()],
            ..Default::default()
        }
    }

    fn prompts() -> Prompts {
        Prompts::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/prompts"
        )))
        .unwrap()
    }

    #[test]
    fn a_small_schema_goes_in_whole_with_examples_rules_and_history() {
        let tables = vec![wide_table(10)];
        let examples = vec![Example {
            question: "total revenue".into(),
            sql: "SELECT SUM(revenue) FROM wide".into(),
            source: String::new(),
        }];
        let history = vec![PriorTurn {
            question: "revenue by col_1".into(),
            sql: "SELECT col_1, SUM(revenue) FROM wide GROUP BY col_1".into(),
        }];
        let p = prompts()
            .sql(
                &SqlPromptInput {
                    dialect: Dialect::Sqlite,
                    tables: &tables,
                    examples: &examples,
                    rules: &[],
                    history: &history,
                    content_words: &[],
                    context_tokens: 8_000,
                },
                10,
            )
            .unwrap();
        assert!(p.cuts.is_empty(), "{:?}", p.cuts);
        assert!(p.system.contains("SQLite"));
        assert!(p.system.contains("  revenue REAL"));
        assert!(p.system.contains("Q: total revenue"));
        assert!(p.system.contains("Q: revenue by col_1"));
        assert!(p.estimated_tokens <= p.budget_tokens);
    }

    #[test]
    fn a_wide_table_keeps_its_key_and_the_columns_the_question_names() {
        let tables = vec![wide_table(60)];
        let words = vec!["revenue".to_string()];
        let p = prompts()
            .sql(
                &SqlPromptInput {
                    dialect: Dialect::Sqlite,
                    tables: &tables,
                    examples: &[],
                    rules: &[],
                    history: &[],
                    content_words: &words,
                    context_tokens: 8_000,
                },
                10,
            )
            .unwrap();
        assert!(p.system.contains("  col_0 REAL"));
        assert!(p.system.contains("  revenue REAL"));
        assert!(!p.system.contains("  col_59 REAL"));
        assert!(
            p.cuts.iter().any(|c| c.contains("48 of 60 columns")),
            "{:?}",
            p.cuts
        );
    }

    #[test]
    fn over_budget_examples_go_first_and_every_cut_is_named() {
        let tables = vec![wide_table(10)];
        let examples: Vec<Example> = (0..40)
            .map(|i| Example {
                question: format!("question number {i} about the wide table"),
                sql: format!("SELECT col_{} FROM wide WHERE col_1 > {i}", i % 10),
                source: String::new(),
            })
            .collect();
        let p = prompts()
            .sql(
                &SqlPromptInput {
                    dialect: Dialect::Sqlite,
                    tables: &tables,
                    examples: &examples,
                    rules: &[],
                    history: &[],
                    content_words: &[],
                    context_tokens: 2_000,
                },
                10,
            )
            .unwrap();
        assert!(p.estimated_tokens <= p.budget_tokens);
        assert!(
            p.cuts.iter().all(|c| c.starts_with("example")),
            "{:?}",
            p.cuts
        );
        assert!(p.cuts.iter().any(|c| c.contains("question number 39")));
        assert!(p.system.contains("question number 0 "));
    }
}
