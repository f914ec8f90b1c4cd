//! The config file (`--config querent.toml` or `QUERENT_CONFIG`): the same keys as the
//! `QUERENT_…` environment variables, in TOML, below the environment and the flags.
//!
//! Top-level keys are settings (`data_dir = ".querent"` is `QUERENT_DATA_DIR`); keys of the
//! `[llm]` table are the LLM's (`[llm] model = "llama3.1"` is `QUERENT_LLM_MODEL`, `api_key` is
//! `OPENAI_API_KEY`); the `[api_keys]` table (`alice = "KEY"`) is `QUERENT_API_KEYS`, the named
//! curator keys; keys of the `[bigquery]` table are BigQuery's (`[bigquery] project = "p"` is
//! `QUERENT_BIGQUERY_PROJECT`; `datasets` may be an array). [`apply`] exports each key whose
//! variable is not set already, before clap reads flags and environment, so the order is:
//! defaults < file < environment < flags.

use std::path::Path;

/// The environment variables a config file's text sets, in file order.
///
/// Errors: the TOML does not parse, or a value is a table or an array where a scalar is
/// expected.
pub fn env_pairs(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let table: toml::Table = text.parse()?;
    let mut out = Vec::new();
    for (key, value) in &table {
        match value {
            toml::Value::Table(inner) if key == "bigquery" => {
                for (k, v) in inner {
                    let name = format!("QUERENT_BIGQUERY_{}", k.to_ascii_uppercase());
                    let value = match v {
                        // `datasets = ["a", "b"]` is the comma list of the variable.
                        toml::Value::Array(items) => items
                            .iter()
                            .map(|i| scalar(&format!("bigquery.{k}"), i))
                            .collect::<anyhow::Result<Vec<_>>>()?
                            .join(","),
                        v => scalar(&format!("bigquery.{k}"), v)?,
                    };
                    out.push((name, value));
                }
            }
            toml::Value::Table(inner) if key == "llm" => {
                for (k, v) in inner {
                    let name = if k == "api_key" {
                        "OPENAI_API_KEY".to_string()
                    } else {
                        format!("QUERENT_LLM_{}", k.to_ascii_uppercase())
                    };
                    out.push((name, scalar(&format!("llm.{k}"), v)?));
                }
            }
            toml::Value::Table(inner) if key == "api_keys" => {
                out.push(("QUERENT_API_KEYS".into(), named_keys(inner)?))
            }
            v => out.push((
                format!("QUERENT_{}", key.to_ascii_uppercase()),
                scalar(key, v)?,
            )),
        }
    }
    Ok(out)
}

/// Reads the config file at `path` and exports its keys that the environment does not set
/// already. Call once, at start, before any thread is spawned and before clap parses.
///
/// Errors: the file cannot be read or is not valid (see [`env_pairs`]).
pub fn apply(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
    let pairs =
        env_pairs(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
    for (name, value) in pairs {
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

/// The config file named by `--config PATH` / `--config=PATH` in `args`, else `QUERENT_CONFIG`.
pub fn path_from_args(args: &[String]) -> Option<std::path::PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(Into::into);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(p.into());
        }
    }
    std::env::var_os("QUERENT_CONFIG").map(Into::into)
}

/// The `[api_keys]` table (`alice = "KEY"`) as `QUERENT_API_KEYS`' `alice=KEY,...`; errors
/// name the entry, never its key.
fn named_keys(table: &toml::Table) -> anyhow::Result<String> {
    let mut pairs = Vec::with_capacity(table.len());
    for (name, key) in table {
        match key {
            toml::Value::String(k) if !k.contains(',') => pairs.push(format!("{name}={k}")),
            _ => anyhow::bail!("'api_keys.{name}' must be a string without commas"),
        }
    }
    Ok(pairs.join(","))
}

fn scalar(key: &str, v: &toml::Value) -> anyhow::Result<String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => anyhow::bail!("'{key}' must be a string, number or boolean, not {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_keys_and_the_llm_table_map_to_their_environment_variables() {
        let pairs = env_pairs(
            "max_rows = 50\ndata_dir = \"/tmp/q\"\n[llm]\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3.1\"\napi_key = \"sk-x\"\ntimeout_ms = 1500\n",
        )
        .unwrap();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("QUERENT_MAX_ROWS"), Some("50"));
        assert_eq!(get("QUERENT_DATA_DIR"), Some("/tmp/q"));
        assert_eq!(
            get("QUERENT_LLM_BASE_URL"),
            Some("http://127.0.0.1:11434/v1")
        );
        assert_eq!(get("QUERENT_LLM_MODEL"), Some("llama3.1"));
        assert_eq!(get("OPENAI_API_KEY"), Some("sk-x"));
        assert_eq!(get("QUERENT_LLM_TIMEOUT_MS"), Some("1500"));
    }

    #[test]
    fn the_api_keys_table_becomes_the_named_keys_variable_and_a_bad_key_is_not_shown() {
        let pairs = env_pairs("[api_keys]\nalice = \"k-1\"\nbob = \"k-2\"\n").unwrap();
        assert_eq!(
            pairs,
            vec![(
                "QUERENT_API_KEYS".to_string(),
                "alice=k-1,bob=k-2".to_string()
            )]
        );
        let pairs = env_pairs("api_keys = \"carol=k-3\"\n").unwrap();
        assert_eq!(pairs[0], ("QUERENT_API_KEYS".into(), "carol=k-3".into()));
        let e = env_pairs("[api_keys]\nalice = \"se,cret\"\n").unwrap_err();
        assert!(e.to_string().contains("api_keys.alice"), "{e}");
        assert!(!e.to_string().contains("se,cret"), "{e}");
    }

    #[test]
    fn the_bigquery_table_maps_to_its_variables_and_a_dataset_array_to_a_comma_list() {
        let pairs = env_pairs(
            "[bigquery]\nproject = \"acme\"\ndatasets = [\"sales\", \"hr\"]\nmax_bytes_billed = 1000\n",
        )
        .unwrap();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("QUERENT_BIGQUERY_PROJECT"), Some("acme"));
        assert_eq!(get("QUERENT_BIGQUERY_DATASETS"), Some("sales,hr"));
        assert_eq!(get("QUERENT_BIGQUERY_MAX_BYTES_BILLED"), Some("1000"));
    }

    #[test]
    fn an_array_value_is_an_error_naming_its_key() {
        let e = env_pairs("[llm]\nmodel = [1, 2]\n").unwrap_err();
        assert!(e.to_string().contains("llm.model"), "{e}");
    }

    #[test]
    fn the_config_path_is_read_from_either_form_of_the_flag() {
        let args: Vec<String> = ["querent", "serve", "--config", "a.toml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(path_from_args(&args), Some("a.toml".into()));
        let args: Vec<String> = ["querent", "--config=b.toml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(path_from_args(&args), Some("b.toml".into()));
    }
}
