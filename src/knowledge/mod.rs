//! The knowledge base: table docs, examples (question/SQL pairs), business rules and the
//! curated semantic model (`semantic.yml`: semantic models, metrics, named filters).
//!
//! Items live as YAML files under `knowledge/<domain>/` (see [`files`]): `tables.yml` follows
//! dbt's `schema.yml` conventions (`models: [{name, description, columns: [{name, description}]}]`),
//! `examples.yml` and `rules.yml` are lists. A database with no folder of its own gets table docs
//! introspected from its schema ([`introspect`]). [`values::ValueIndex`] maps the values of
//! low-cardinality text columns back to their column.

pub mod audit;
pub mod curation;
pub mod dbt;
pub mod files;
pub mod introspect;
pub mod places;
pub mod reconcile;
pub mod regression;
pub mod suggestions;
pub mod validate;
pub mod values;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::semantic::{ManifestError, SemanticManifest};

pub use values::ValueIndex;

/// The documentation of one table: what it holds, its columns, keys and relationships.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Other names people use for the table ("items" for `products`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub columns: Vec<ColumnDoc>,
    /// Primary-key columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// Relationships to other tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<crate::warehouse::ForeignKey>,
    /// Columns shown, after the key and the name, when a question asks for the rows themselves
    /// ("which stores have the Express format?"); curated, empty when introspected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display_columns: Vec<String>,
}

/// The documentation of one column.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ColumnDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Declared SQL type.
    #[serde(default)]
    pub data_type: String,
    /// Other names people use for the column ("price" for `current_price`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// Unit of the values ("USD", "units", "percent").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A few sample values, as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_values: Vec<String>,
}

/// A curated question/SQL pair (a few-shot example; a golden query for regression).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Example {
    pub question: String,
    pub sql: String,
    /// Where the example was read from (`file:line`), for error reports.
    #[serde(default, skip)]
    pub source: String,
}

/// A business rule: a definition or convention in prose, optionally with a SQL fragment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BusinessRule {
    /// Short name ("gross margin %").
    pub name: String,
    /// The definition in prose.
    #[serde(default)]
    pub description: String,
    /// Words and phrases that call up this rule ("margin percent", "gm%").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// A SQL expression or condition implementing it (`100.0 * SUM(gross_margin) / SUM(revenue)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The table the fragment applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// `measure` (an aggregate expression), `filter` (a condition), `order` (an ordering) or
    /// `note` (prose only).
    #[serde(default = "default_rule_kind")]
    pub kind: String,
    #[serde(default, skip)]
    pub source: String,
}

fn default_rule_kind() -> String {
    "note".into()
}

/// The knowledge of one domain (one database).
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    /// Domain name, equal to the database name it documents.
    pub domain: String,
    pub tables: Vec<TableDoc>,
    pub examples: Vec<Example>,
    pub rules: Vec<BusinessRule>,
    /// The curated semantic model as read from `semantic.yml`: `None` without the file, `Err`
    /// when it does not load (the engine then serves the inferred model and reports why).
    /// Not embedded: the semantic layer reads it through its own lexicon.
    pub semantic: Option<Result<SemanticManifest, ManifestError>>,
}

impl KnowledgeBase {
    /// The table doc with this name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&TableDoc> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// The kinds of knowledge items. Table docs, examples and rules are embedded, one vector
/// collection each ([`ItemKind::ALL`]); the semantic kinds (semantic models, metrics, named
/// filters: the lists of `semantic.yml`) are curated the same way but read by the semantic
/// layer, not retrieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Table,
    Example,
    Rule,
    /// A semantic model of `semantic.yml` (a table with its entities, dimensions, measures).
    SemanticModel,
    /// A metric of `semantic.yml`.
    Metric,
    /// A named filter of `semantic.yml` (querent's extension).
    Filter,
}

impl ItemKind {
    /// The plural name of this kind, as in the API's paths: the vector collection of the
    /// embedded kinds (`tables`, `examples`, `rules`), the list key in `semantic.yml` of the
    /// others (`semantic_models`, `metrics`, `filters`).
    pub fn collection(self) -> &'static str {
        match self {
            Self::Table => "tables",
            Self::Example => "examples",
            Self::Rule => "rules",
            Self::SemanticModel => "semantic_models",
            Self::Metric => "metrics",
            Self::Filter => "filters",
        }
    }

    /// True for the kinds that live in `semantic.yml`.
    pub fn is_semantic(self) -> bool {
        matches!(self, Self::SemanticModel | Self::Metric | Self::Filter)
    }

    /// The embedded kinds, one vector collection each.
    pub const ALL: [ItemKind; 3] = [Self::Table, Self::Example, Self::Rule];

    /// Every curated kind.
    pub const CURATED: [ItemKind; 6] = [
        Self::Table,
        Self::Example,
        Self::Rule,
        Self::SemanticModel,
        Self::Metric,
        Self::Filter,
    ];
}

/// One knowledge item as it is embedded and indexed: the text that is embedded, a stable key
/// and the hash of its content (re-embedding happens only when the hash changes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexItem {
    pub kind: ItemKind,
    /// Database (domain) the item belongs to.
    pub database: String,
    /// Stable key within the kind and database (table name, example question, rule name).
    pub key: String,
    /// The text that is embedded.
    pub text: String,
    /// SHA-256 (hex) of the item's serialized content.
    pub content_hash: String,
    /// The item itself, as JSON (the vector payload).
    pub payload: serde_json::Value,
}

impl IndexItem {
    /// Builds an index item from any serializable knowledge item.
    pub fn new<T: Serialize>(
        kind: ItemKind,
        database: &str,
        key: &str,
        text: String,
        item: &T,
    ) -> Self {
        let payload = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        hasher.update(payload.to_string().as_bytes());
        Self {
            kind,
            database: database.to_string(),
            key: key.to_string(),
            text,
            content_hash: hex::encode(hasher.finalize()),
            payload,
        }
    }
}

impl KnowledgeBase {
    /// All items of this knowledge base, ready for embedding.
    pub fn index_items(&self) -> Vec<IndexItem> {
        let mut items = Vec::new();
        for t in &self.tables {
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| {
                    let mut s = c.name.replace('_', " ");
                    if !c.synonyms.is_empty() {
                        s.push_str(&format!(" ({})", c.synonyms.join(", ")));
                    }
                    s
                })
                .collect();
            let text = format!(
                "table {} {}: {} Columns: {}",
                t.name,
                if t.synonyms.is_empty() {
                    String::new()
                } else {
                    format!("({})", t.synonyms.join(", "))
                },
                t.description,
                cols.join("; ")
            );
            items.push(IndexItem::new(
                ItemKind::Table,
                &self.domain,
                &t.name,
                text,
                t,
            ));
        }
        for e in &self.examples {
            items.push(IndexItem::new(
                ItemKind::Example,
                &self.domain,
                &e.question,
                e.question.clone(),
                e,
            ));
        }
        for r in &self.rules {
            let text = format!("{}: {} {}", r.name, r.description, r.keywords.join(", "));
            items.push(IndexItem::new(
                ItemKind::Rule,
                &self.domain,
                &r.name,
                text,
                r,
            ));
        }
        items
    }
}
