//! The `querent` command: glue between the command line and the library.
//!
//! `serve` runs the HTTP server, `ask` answers one question, `demo-data` writes the demo
//! database, `index` syncs the vector index (`index migrate` copies it to a Qdrant server),
//! `eval` measures execution accuracy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use querent::engine::AskRequest;
use querent::{Engine, Settings};

#[derive(Parser)]
#[command(
    name = "querent",
    version,
    about = "Answers questions about business data in plain language"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API, chat page, Swagger UI).
    Serve {
        /// Stop when standard input closes: for a supervising process (and the tests) whose
        /// exit must take the server with it.
        #[arg(long)]
        exit_on_stdin_close: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Answer one question and print the answer.
    Ask {
        /// The question.
        question: String,
        /// The database to ask (default: the first served).
        #[arg(long)]
        database: Option<String>,
        /// Print the same JSON as the API.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Write the demo retail database.
    DemoData {
        /// Multiplies the number of stores (1 = 100k..400k sales rows).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Output file.
        #[arg(long, default_value = "data/retail.sqlite")]
        out: PathBuf,
    },
    /// Measure execution accuracy: run each `{question, sql, db_id?, category?}` line of FILE
    /// through the same pipeline as the server, execute predicted and gold SQL, compare rows.
    Eval {
        /// JSON lines of `{question, sql, db_id?, category?|hardness?}`.
        file: PathBuf,
        /// Evaluate a seeded random sample of this many lines.
        #[arg(long)]
        sample: Option<usize>,
        /// Seed of the sample.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Write one JSON line per question here.
        #[arg(long)]
        per_question: Option<PathBuf>,
        /// Evaluate the pattern engine alone (no retrieval, no guard), as in development.
        #[arg(long)]
        pattern_only: bool,
        /// The database of lines without `db_id` (a name served from --database-dir, or
        /// `retail` for the demo database).
        #[arg(long)]
        database: Option<String>,
        /// The curation-lift benchmark: in each database (with at least
        /// --curate-min-questions lines), a seeded choice of N questions become curated
        /// examples (written to --curate-dir/<db>/examples.yml) and the others are the test,
        /// run without and with them.
        #[arg(long, value_name = "N")]
        curate_first: Option<usize>,
        /// Databases with fewer lines are left out of the curation-lift benchmark.
        #[arg(long, default_value_t = 30)]
        curate_min_questions: usize,
        /// A seeded choice of this many databases for the curation-lift benchmark (all when unset).
        #[arg(long)]
        curate_databases: Option<usize>,
        /// Where the curation-lift benchmark writes its knowledge folders (a new temp dir when unset).
        #[arg(long)]
        curate_dir: Option<PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Load the knowledge base and sync the vector index (only changed items are embedded);
    /// `index migrate` copies the embedded index to a Qdrant server.
    #[command(args_conflicts_with_subcommands = true)]
    Index {
        #[command(subcommand)]
        command: Option<IndexCommand>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Measure retrieval: recall@k of the tables each line's gold SQL uses, over the databases
    /// of --database-dir (JSON lines `{question, sql, db_id?}`).
    EvalRetrieval {
        file: PathBuf,
        /// Tables retrieved per question.
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Evaluate a seeded random sample of this many lines.
        #[arg(long)]
        sample: Option<usize>,
        /// Seed of the sample.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[command(flatten)]
        settings: Settings,
    },
    /// Work on the knowledge files.
    Knowledge {
        #[command(subcommand)]
        command: KnowledgeCommand,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Copy the embedded index (under --data-dir) to the Qdrant server of --qdrant-url: every
    /// point with its vector and payload, nothing re-embedded. Safe to re-run.
    Migrate {
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum KnowledgeCommand {
    /// Merge a dbt project (a YAML file or the project folder) into a domain: models' and
    /// columns' descriptions into its table docs (hand-written synonyms, units and keys are
    /// kept), semantic_models and metrics into its semantic.yml (querent-only keys are kept).
    ImportDbt {
        /// The dbt schema.yml or other project YAML file, or the dbt project folder.
        path: PathBuf,
        /// The domain (database name); the only domain folder when there is one.
        #[arg(long)]
        domain: Option<String>,
        /// The knowledge base folder.
        #[arg(long, env = "QUERENT_KNOWLEDGE_DIR", default_value = "knowledge")]
        knowledge_dir: PathBuf,
    },
    /// Write the knowledge files as they stand to a folder (for review in git): with
    /// --qdrant-url, the knowledge folder is first brought up to the replicas' shared change log.
    Export {
        /// The folder to write `<domain>/*.yml` into.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Apply a folder of knowledge files (`<domain>/*.yml`, e.g. reviewed in git) as curation
    /// writes: each item added, changed or removed is validated and recorded in the change log
    /// (with --qdrant-url the shared one, so every replica applies it).
    Import {
        /// The folder to read `<domain>/*.yml` from.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Re-run a domain's examples through the pipeline and print which answers changed since
    /// the last run (the baseline lives under the data directory).
    Regression {
        /// The database (default: the first served).
        #[arg(long)]
        database: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
}

fn main() {
    // Before anything is allocated: a freed large block goes back to the system.
    querent::warehouse::allocator::return_large_blocks();
    // The config file sits below the environment and the flags: export its keys first (the
    // log's format and filter may be among them).
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = querent::settings::file::path_from_args(&args) {
        if let Err(e) = querent::settings::file::apply(&path) {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
    querent::logging::init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            settings,
            exit_on_stdin_close,
        } => serve(settings, exit_on_stdin_close),
        Command::Ask {
            question,
            database,
            json,
            settings,
        } => ask(settings, question, database, json),
        Command::DemoData { scale, out } => {
            let started = std::time::Instant::now();
            let stats = querent::demo_data::generate(&out, scale)?;
            println!(
                "wrote {} ({} products, {} stores, {} sales rows, {:.1} MB) in {:.1} s",
                stats.path.display(),
                stats.products,
                stats.stores,
                stats.sales_rows,
                stats.bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Eval {
            file,
            sample,
            seed,
            per_question,
            pattern_only,
            database,
            curate_first,
            curate_min_questions,
            curate_databases,
            curate_dir,
            settings,
        } => eval(
            settings,
            file,
            sample,
            seed,
            per_question,
            pattern_only,
            database,
            curate_first.map(|n| Curation {
                per_database: n,
                min_questions: curate_min_questions,
                databases: curate_databases,
                dir: curate_dir,
            }),
        ),
        Command::EvalRetrieval {
            file,
            k,
            sample,
            seed,
            settings,
        } => {
            let lines = querent::eval::read_lines(&file, sample, seed)?;
            let engine = Engine::build(&settings)?;
            let report = querent::retrieval::eval::evaluate(&engine, &lines, k);
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Knowledge {
            command:
                KnowledgeCommand::ImportDbt {
                    path,
                    domain,
                    knowledge_dir,
                },
        } => import_dbt(&path, domain, &knowledge_dir),
        Command::Knowledge {
            command: KnowledgeCommand::Export { to, settings },
        } => export_knowledge(&settings, &to),
        Command::Knowledge {
            command: KnowledgeCommand::Import { from, settings },
        } => import_knowledge(&settings, &from),
        Command::Knowledge {
            command: KnowledgeCommand::Regression { database, settings },
        } => {
            let engine = Engine::build(&settings)?;
            let report = querent::knowledge::regression::run(
                &engine,
                database.as_deref(),
                &settings.data_dir,
            )?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Index {
            command: Some(IndexCommand::Migrate { settings }),
            ..
        } => migrate_index(&settings),
        Command::Index {
            command: None,
            settings,
        } => {
            let engine = Engine::build(&settings)?;
            for db in engine.databases() {
                println!(
                    "{}: {} tables, {} examples, {} rules",
                    db.name, db.tables, db.examples, db.rules
                );
            }
            print_issues(&engine);
            Ok(())
        }
    }
}

/// `querent index migrate`: the embedded index under `--data-dir` to the server of
/// `--qdrant-url`; progress on standard error, the report as JSON on standard output.
fn migrate_index(settings: &Settings) -> anyhow::Result<()> {
    use querent::retrieval::index::{migrate, EmbeddedIndex, ServerIndex};
    let url = settings
        .qdrant_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .context("index migrate needs the target server: --qdrant-url or QUERENT_QDRANT_URL")?;
    let root = settings.data_dir.join("index");
    if !root.is_dir() {
        anyhow::bail!(
            "no embedded index at {} (run `querent index` or `querent serve` once without --qdrant-url)",
            root.display()
        );
    }
    let source = EmbeddedIndex::open(&root)?;
    let target = ServerIndex::open(settings.qdrant_server(url))?;
    let report = migrate(&source, &target, |collection, copied| {
        eprintln!("{collection}: {copied} points copied");
    })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn serve(settings: Settings, exit_on_stdin_close: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let grace = querent::server::shutdown::grace(settings.ops.shutdown_grace_s);
    let engine = runtime.block_on(async {
        let listener = std::net::TcpListener::bind(settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let s = settings.clone();
        // The curated examples are checked in the background: the first answer comes sooner.
        let engine =
            Arc::new(tokio::task::spawn_blocking(move || Engine::build_with(&s, false)).await??);
        engine.check_examples_in_background();
        let app = querent::server::app(engine.clone(), &settings)?;
        // Tests and scripts read this line to find the port (`--addr 127.0.0.1:0`).
        println!("querent listening on http://{}", listener.local_addr()?);
        use std::io::Write;
        std::io::stdout().flush()?;
        let closed = exit_on_stdin_close.then(|| {
            let (stdin_closed, closed) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = stdin_closed.send(());
            });
            closed
        });
        let shutdown = querent::server::shutdown::signal(closed);
        querent::server::serve(listener, app, shutdown, Some(grace)).await?;
        anyhow::Ok(engine)
    })?;
    // The server waited up to the grace for the requests in flight; what still runs on a
    // blocking thread has outlived it (a question past its own time limit): it is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let started = std::time::Instant::now();
    engine.flush_index();
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "vector index flushed; stopped"
    );
    Ok(())
}

fn ask(
    settings: Settings,
    question: String,
    database: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let engine = Engine::build(&settings)?;
    let answer = engine.ask_blocking(&AskRequest {
        question,
        database,
        ..Default::default()
    });
    match answer {
        Ok(a) if json => println!("{}", serde_json::to_string_pretty(&a)?),
        Ok(a) => {
            println!("{}\n", a.summary);
            println!(
                "{}\n",
                querent::answer::format_table(&a.columns, &a.rows, 20)
            );
            for insight in &a.insights {
                println!("- {insight}");
            }
            println!(
                "\nSQL ({}, confidence {:.2}):\n{}",
                a.generation_method, a.confidence, a.sql
            );
        }
        Err(e) if json => {
            let body = querent::server::errors::ErrorBody::from_error(&e).to_json();
            println!("{}", serde_json::to_string_pretty(&body)?);
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("{} ({})", e, e.code());
            std::process::exit(2);
        }
    }
    Ok(())
}

fn eval(
    mut settings: Settings,
    file: PathBuf,
    sample: Option<usize>,
    seed: u64,
    per_question: Option<PathBuf>,
    pattern_only: bool,
    database: Option<String>,
    curation: Option<Curation>,
) -> anyhow::Result<()> {
    // Gold results can be long: compare whole results, not the server's default row limit.
    settings.max_rows = settings.max_rows.max(20_000);
    let (domains, _) = querent::knowledge::files::load_all(&settings.knowledge_dir);
    let engine = if pattern_only {
        None
    } else {
        Some(Arc::new(Engine::build(&settings)?))
    };
    let opts = querent::eval::EvalOptions {
        engine,
        file,
        database_dir: settings
            .database_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")),
        default_database: if settings.database_dir.is_none() {
            Some(settings.demo_db.clone())
        } else {
            None
        },
        database,
        sample,
        seed,
        min_confidence: settings.min_confidence,
        per_question,
        knowledge: domains
            .into_iter()
            .map(|kb| (kb.domain.clone(), kb))
            .collect(),
        timeout_ms: settings.query_timeout_ms,
        max_rows: settings.max_rows,
    };
    if let Some(c) = curation {
        let dir = c.dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("querent-curation-{}", std::process::id()))
        });
        let report = querent::eval::run_curation_lift(
            &opts,
            c.per_database,
            c.min_questions,
            c.databases,
            &dir,
        )?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let report = querent::eval::run_eval(&opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The curation-lift benchmark's settings (`querent eval --curate-first N`).
struct Curation {
    per_database: usize,
    min_questions: usize,
    databases: Option<usize>,
    dir: Option<PathBuf>,
}

fn import_dbt(path: &Path, domain: Option<String>, knowledge_dir: &Path) -> anyhow::Result<()> {
    use querent::knowledge::{dbt, files, ItemKind};
    let domain = match domain {
        Some(d) => d,
        None => {
            let (domains, _) = files::load_all(knowledge_dir);
            match domains.as_slice() {
                [only] => only.domain.clone(),
                _ => anyhow::bail!(
                    "name the domain with --domain (folders in {}: {})",
                    knowledge_dir.display(),
                    domains
                        .iter()
                        .map(|d| d.domain.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let dir = knowledge_dir.join(&domain);
    let (mut kb, issues) = files::load_domain(&dir, &domain);
    if let Some(issue) = issues
        .iter()
        .find(|i| i.source.contains(files::TABLES_FILE))
    {
        anyhow::bail!("fix {} first: {issue}", files::TABLES_FILE);
    }
    let mut manifest = match querent::semantic::load(knowledge_dir, &domain) {
        Some(Ok(m)) => m,
        Some(Err(e)) => anyhow::bail!("fix {} first: {e}", querent::semantic::SEMANTIC_FILE),
        None => querent::semantic::SemanticManifest::default(),
    };
    // Everything is read, merged and validated before either file is written.
    let report = dbt::import_project(path, &mut kb, &mut manifest)?;
    if report.models > 0 {
        files::save_kind(&dir, &kb, ItemKind::Table)?;
        println!(
            "{}: {} models read, {} table docs added, {} updated, {} column descriptions set",
            dir.join(files::TABLES_FILE).display(),
            report.models,
            report.tables_added,
            report.tables_updated,
            report.columns_changed
        );
    }
    if report.semantic_models + report.metrics > 0 {
        querent::semantic::save(&dir, &domain, &manifest)?;
        println!(
            "{}: {} semantic models and {} metrics read, {} added, {} replaced",
            dir.join(querent::semantic::SEMANTIC_FILE).display(),
            report.semantic_models,
            report.metrics,
            report.semantic.added,
            report.semantic.replaced
        );
    }
    Ok(())
}

/// `querent knowledge export`: the knowledge files, brought up to the shared change log when
/// there is one, copied to `to`.
fn export_knowledge(settings: &Settings, to: &Path) -> anyhow::Result<()> {
    if let Some(url) = settings
        .qdrant_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        let replication = querent::replication::Replication::open(settings.qdrant_server(url))?;
        let changes = querent::knowledge::curation::replay(&replication, &settings.knowledge_dir)?;
        eprintln!(
            "{changes} shared changes applied to {}",
            settings.knowledge_dir.display()
        );
    }
    let mut files = 0;
    for domain in std::fs::read_dir(&settings.knowledge_dir)? {
        let domain = domain?.path();
        if !domain.is_dir() {
            continue;
        }
        let target = to.join(domain.file_name().unwrap_or_default());
        std::fs::create_dir_all(&target)?;
        for file in std::fs::read_dir(&domain)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                std::fs::copy(&file, target.join(file.file_name().unwrap_or_default()))?;
                files += 1;
            }
        }
    }
    println!("{files} knowledge files written to {}", to.display());
    Ok(())
}

/// `querent knowledge import`: every item of `from` that differs from the knowledge as it
/// stands is created, updated or deleted through the curator (validated, logged).
fn import_knowledge(settings: &Settings, from: &Path) -> anyhow::Result<()> {
    use querent::knowledge::curation::{self, item_id, version_of, Curator};
    use querent::knowledge::{files, ItemKind};
    let engine = Arc::new(Engine::build(settings)?);
    let curator = Curator::open(engine.clone(), &settings.knowledge_dir, &settings.data_dir)?;
    let (domains, issues) = files::load_all(from);
    if let Some(issue) = issues.first() {
        anyhow::bail!("{}: {} (nothing imported)", issue.source, issue.message);
    }
    let (mut created, mut updated, mut deleted) = (0, 0, 0);
    for kb in &domains {
        let database = kb.domain.as_str();
        engine.database(Some(database))?;
        for kind in ItemKind::ALL {
            let wanted = curation::items_json(kb, kind);
            let (now, _) = files::load_domain(&settings.knowledge_dir.join(database), database);
            let current = curation::items_json(&now, kind);
            let id_of = |item: &serde_json::Value| {
                let key = match kind {
                    ItemKind::Example => item["question"].as_str(),
                    _ => item["name"].as_str(),
                };
                item_id(database, kind, key.unwrap_or_default())
            };
            let current: std::collections::HashMap<String, serde_json::Value> =
                current.into_iter().map(|v| (id_of(&v), v)).collect();
            let mut seen = std::collections::HashSet::new();
            for item in wanted {
                let id = id_of(&item);
                seen.insert(id.clone());
                match current.get(&id) {
                    Some(now) if *now == item => {}
                    Some(now) => {
                        curator.update(kind, &id, &version_of(Some(now)), item, "import")?;
                        updated += 1;
                    }
                    None => {
                        curator.create(kind, Some(database), item, "import")?;
                        created += 1;
                    }
                }
            }
            for (id, now) in current.iter().filter(|(id, _)| !seen.contains(*id)) {
                curator.delete(kind, id, &version_of(Some(now)), "import")?;
                deleted += 1;
            }
        }
    }
    println!("imported: {created} created, {updated} updated, {deleted} deleted");
    Ok(())
}

fn print_issues(engine: &Engine) {
    for issue in engine.load_issues() {
        eprintln!("warning: {}: {}", issue.source, issue.message);
    }
}
