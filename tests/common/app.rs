//! The app in process: [`spawn_app`] builds the engine and the HTTP app from the library, as
//! `querent serve` does, and serves it on 127.0.0.1:0 from a thread of the test process, with
//! its own data directory. No child process: a test sees the server's panics and needs no
//! built binary. (The few end-to-end tests of the binary itself are in `tests/cli.rs`.)

use std::path::Path;
use std::sync::{Arc, OnceLock};

use querent::{Engine, Settings};

use super::{demo_db, repo, Server};

/// A running app on a free port, stopped when dropped.
pub struct TestApp {
    pub base_url: String,
    pub engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _data_dir: tempfile::TempDir,
}

impl Server for TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The settings of a test app: the repository's templates, static files and knowledge
/// (unless `knowledge` is given), the shared demo database, a fresh data directory.
pub fn test_settings(data_dir: &Path, knowledge: Option<&Path>) -> Settings {
    let root = repo();
    let mut settings = Settings::default();
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.data_dir = data_dir.to_path_buf();
    settings.knowledge_dir = knowledge
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("knowledge"));
    settings.demo_db = demo_db();
    settings.templates_dir = root.join("templates");
    settings.static_dir = root.join("static");
    settings
}

/// Builds and serves an app on the demo database with the repository's knowledge.
pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// Builds and serves an app whose settings `configure` changes first (its data directory is
/// the app's own).
pub fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(data_dir.path(), None);
    configure(&mut settings);
    let engine = Arc::new(Engine::build(&settings).expect("the engine builds"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app_engine = engine.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async move {
            let app = querent::server::app(app_engine, &settings).expect("the app builds");
            let stop = async move {
                let _ = stopped.await;
            };
            querent::server::serve(listener, app, stop, None)
                .await
                .expect("the app serves");
        });
    });
    TestApp {
        base_url,
        engine,
        stop: Some(stop),
        thread: Some(thread),
        _data_dir: data_dir,
    }
}

/// The app on the demo database shared by the tests of one binary.
pub fn demo_app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(spawn_app)
}
