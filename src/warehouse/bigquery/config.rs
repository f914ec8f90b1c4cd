//! BigQuery's settings: the billing project, the datasets served, credentials, the endpoint and
//! the cost guard.
//!
//! Read once by clap (flags and `QUERENT_BIGQUERY_*` environment variables, after the config
//! file's `[bigquery]` table has been applied, see `settings::file`) and handed down to
//! [`super::BigQueryClient::connect`]; nothing below reads the environment. The access token is
//! a [`Secret`], which never prints.

use std::path::PathBuf;

use clap::Args;

use crate::sql::llm::config::Secret;

/// Default cap on the bytes one query may bill: 10 GB.
pub const DEFAULT_MAX_BYTES_BILLED: u64 = 10_000_000_000;

/// Where the BigQuery datasets are and how querent authenticates.
///
/// BigQuery is used when a project is set; each dataset of `datasets` is then served as a
/// database named after it.
#[derive(Debug, Clone, Args)]
pub struct BigQuerySettings {
    /// The Google Cloud project that runs (and pays for) the queries. Setting it serves the
    /// datasets of --bigquery-datasets.
    #[arg(
        id = "bigquery_project",
        long = "bigquery-project",
        env = "QUERENT_BIGQUERY_PROJECT"
    )]
    pub project: Option<String>,

    /// The datasets to serve, comma-separated; each is a database named after it. A dataset
    /// of another project is written `project.dataset` (e.g. `bigquery-public-data.samples`).
    #[arg(
        id = "bigquery_datasets",
        long = "bigquery-datasets",
        env = "QUERENT_BIGQUERY_DATASETS",
        value_delimiter = ','
    )]
    pub datasets: Vec<String>,

    /// Where the jobs run (`US`, `EU`, `europe-west1`, ...); BigQuery infers it when absent.
    #[arg(
        id = "bigquery_location",
        long = "bigquery-location",
        env = "QUERENT_BIGQUERY_LOCATION"
    )]
    pub location: Option<String>,

    /// A service-account key file (JSON). Without it: the access token below, else the
    /// application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's, or the
    /// metadata server's). The account needs only BigQuery Data Viewer and BigQuery Job User.
    #[arg(
        id = "bigquery_credentials",
        long = "bigquery-credentials",
        env = "QUERENT_BIGQUERY_CREDENTIALS"
    )]
    pub credentials: Option<PathBuf>,

    /// A static OAuth access token (e.g. from `gcloud auth print-access-token`; it expires
    /// after about an hour), or any token an emulator accepts.
    #[arg(
        id = "bigquery_access_token",
        long = "bigquery-access-token",
        env = "QUERENT_BIGQUERY_ACCESS_TOKEN",
        hide_env_values = true
    )]
    pub access_token: Option<Secret>,

    /// The REST API's base URL, up to and including `/bigquery/v2` (for an emulator); Google's
    /// when absent.
    #[arg(
        id = "bigquery_base_url",
        long = "bigquery-base-url",
        env = "QUERENT_BIGQUERY_BASE_URL"
    )]
    pub base_url: Option<String>,

    /// The most bytes one query may bill (`maximumBytesBilled`): BigQuery refuses a query that
    /// would bill more, before it runs. Introspection's sampling is capped the same way.
    #[arg(
        id = "bigquery_max_bytes_billed",
        long = "bigquery-max-bytes-billed",
        env = "QUERENT_BIGQUERY_MAX_BYTES_BILLED",
        default_value_t = DEFAULT_MAX_BYTES_BILLED
    )]
    pub max_bytes_billed: u64,
}

impl BigQuerySettings {
    /// True when a project is set: the datasets are served.
    pub fn is_configured(&self) -> bool {
        self.project
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
    }

    /// The datasets to serve, trimmed, empty entries dropped.
    pub fn dataset_refs(&self) -> anyhow::Result<Vec<DatasetRef>> {
        let project = self.project.as_deref().unwrap_or("").trim();
        self.datasets
            .iter()
            .map(|d| d.trim())
            .filter(|d| !d.is_empty())
            .map(|d| DatasetRef::parse(d, project))
            .collect()
    }
}

/// One dataset: the project that holds it and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    pub project: String,
    pub dataset: String,
}

impl DatasetRef {
    /// Parses `dataset` or `project.dataset`; `default_project` fills a bare name.
    ///
    /// Errors: more than two parts, or an empty part.
    pub fn parse(text: &str, default_project: &str) -> anyhow::Result<Self> {
        let parts: Vec<&str> = text.split('.').map(str::trim).collect();
        let (project, dataset) = match parts.as_slice() {
            [d] => (default_project, *d),
            [p, d] => (*p, *d),
            _ => anyhow::bail!("'{text}' is not a dataset: write `dataset` or `project.dataset`"),
        };
        if project.is_empty() || dataset.is_empty() {
            anyhow::bail!("'{text}' is not a dataset: write `dataset` or `project.dataset`");
        }
        Ok(Self {
            project: project.to_string(),
            dataset: dataset.to_string(),
        })
    }
}

impl std::fmt::Display for DatasetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.project, self.dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_take_the_billing_project_unless_they_name_their_own() {
        assert_eq!(
            DatasetRef::parse("shop", "billing").unwrap(),
            DatasetRef {
                project: "billing".into(),
                dataset: "shop".into()
            }
        );
        assert_eq!(
            DatasetRef::parse("bigquery-public-data.samples", "billing")
                .unwrap()
                .to_string(),
            "bigquery-public-data.samples"
        );
        assert!(DatasetRef::parse("a.b.c", "billing").is_err());
        assert!(DatasetRef::parse("shop", "").is_err());
    }
}
