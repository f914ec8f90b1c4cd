//! The web pages: the chat page at `/` and its static files under `/static/`.
//!
//! This room owns the HTML side of the server: [`Pages`] compiles every minijinja template under
//! `templates/` once, at construction (a syntax error fails start-up and names the file), and
//! [`routes`] serves the rendered chat page and the files of `static/` (`app.js`, `app.css`).
//! The page itself is plain JavaScript that talks to the JSON API (`/api/health`,
//! `/api/examples`, `/api/query`); the API routes live next door in the server module and are
//! not touched here.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use poem::endpoint::StaticFilesEndpoint;
use poem::http::StatusCode;
use poem::web::{Data, Html};
use poem::{get, handler, EndpointExt, IntoResponse, Response, Route};

/// The name of the chat page template, relative to the templates directory.
const CHAT_TEMPLATE: &str = "chat.html";
/// The curation page template.
const KNOWLEDGE_TEMPLATE: &str = "knowledge.html";

/// The Content-Security-Policy of the chat page: only our own scripts run (an SVG chart that
/// slipped a script past the page's sanitiser would still be blocked), nothing is loaded from
/// elsewhere, and the page cannot be framed. Inline styles stay allowed because chart SVGs may
/// carry `style` attributes.
const CHAT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The web pages: templates compiled once at construction.
pub struct Pages {
    env: minijinja::Environment<'static>,
}

impl Pages {
    /// Loads every template under `templates_dir` (recursively; hidden files are skipped), each
    /// named by its path relative to the directory with `/` separators (`chat.html`,
    /// `prompts/sql.jinja`). HTML templates (`.html`, `.htm`, `.xml`) auto-escape their values.
    ///
    /// # Errors
    ///
    /// Fails when the directory cannot be read, when a file cannot be read as UTF-8, or when a
    /// template has a syntax error; each error names the file.
    pub fn load(templates_dir: &Path) -> anyhow::Result<Self> {
        let mut env = minijinja::Environment::new();
        // An undefined variable is a bug in the page, not something to render as empty text.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        if templates_dir.is_dir() {
            let mut files = Vec::new();
            collect_files(templates_dir, &mut files).with_context(|| {
                format!("reading templates directory {}", templates_dir.display())
            })?;
            // Sorted so that a failing start-up always reports the same file first.
            files.sort();
            for path in files {
                let name = template_name(templates_dir, &path)?;
                let source = fs::read_to_string(&path)
                    .with_context(|| format!("reading template {}", path.display()))?;
                env.add_template_owned(name, source)
                    .with_context(|| format!("compiling template {}", path.display()))?;
            }
        } else {
            // started outside the installation: the templates built into the binary
            tracing::info!(
                dir = %templates_dir.display(),
                "no templates folder there: using the templates built into the binary"
            );
            for (name, source) in BUILTIN_TEMPLATES {
                env.add_template(name, source)
                    .with_context(|| format!("compiling built-in template {name}"))?;
            }
        }
        // `extends` and `include` resolve at render time: render the page once now so that a
        // missing base template fails start-up, not the first visitor.
        let pages = Self { env };
        pages.chat().with_context(|| {
            format!("rendering {CHAT_TEMPLATE} from {}", templates_dir.display())
        })?;
        // The curation page is optional for a custom templates folder; when present it must render.
        if pages.env.get_template(KNOWLEDGE_TEMPLATE).is_ok() {
            pages.knowledge().with_context(|| {
                format!(
                    "rendering {KNOWLEDGE_TEMPLATE} from {}",
                    templates_dir.display()
                )
            })?;
        }
        Ok(pages)
    }

    /// Renders `chat.html` with `{title, version}` (the crate's version).
    ///
    /// # Errors
    ///
    /// Fails when the template is missing or does not render (an undefined variable, a missing
    /// parent template).
    pub fn chat(&self) -> Result<String, minijinja::Error> {
        self.env
            .get_template(CHAT_TEMPLATE)?
            .render(minijinja::context! {
                title => "querent",
                version => env!("CARGO_PKG_VERSION"),
            })
    }
}

impl Pages {
    /// Renders `knowledge.html` (the curation page) with `{title, version}`.
    ///
    /// # Errors
    ///
    /// Fails when the template is missing or does not render.
    pub fn knowledge(&self) -> Result<String, minijinja::Error> {
        self.env
            .get_template(KNOWLEDGE_TEMPLATE)?
            .render(minijinja::context! {
                title => "querent",
                version => env!("CARGO_PKG_VERSION"),
            })
    }
}

/// A poem route tree: GET / (the chat page, text/html), GET /knowledge (the curation page) and /static/* (files from `static_dir`,
/// poem's `StaticFilesEndpoint`, which refuses paths that climb out of the directory). The lead
/// nests it into the app next to the API.
/// When `static_dir` does not exist (querent started outside its installation), the static
/// files built into the binary are served instead.
pub fn routes(pages: Arc<Pages>, static_dir: &Path) -> Route {
    let route = Route::new()
        .at("/", get(chat_page).data(pages.clone()))
        .at("/knowledge", get(knowledge_page).data(pages));
    if static_dir.is_dir() {
        route.nest("/static", StaticFilesEndpoint::new(static_dir))
    } else {
        route.at("/static/:file", get(builtin_static))
    }
}

/// The page templates built into the binary (used when the templates folder is missing).
const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("chat.html", include_str!("../../templates/chat.html")),
    (
        "knowledge.html",
        include_str!("../../templates/knowledge.html"),
    ),
];

/// The static files built into the binary: name, content type, bytes.
const BUILTIN_STATIC: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "knowledge.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/knowledge.css"),
    ),
    (
        "knowledge.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/knowledge.js"),
    ),
];

/// GET `/static/{file}` from the files built into the binary; 404 for any other name.
#[handler]
fn builtin_static(poem::web::Path(file): poem::web::Path<String>) -> Response {
    match BUILTIN_STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => Response::builder()
            .content_type(*content_type)
            .header("x-content-type-options", "nosniff")
            .body(*bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// GET `/`: the chat page, or a plain 500 when it fails to render (logged; never a blank page).
#[handler]
fn chat_page(pages: Data<&Arc<Pages>>) -> Response {
    match pages.chat() {
        Ok(html) => Html(html)
            .with_header("content-security-policy", CHAT_CSP)
            .with_header("x-content-type-options", "nosniff")
            .with_header("referrer-policy", "no-referrer")
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the chat page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The chat page could not be rendered; the error is in the server log.",
            )
                .into_response()
        }
    }
}

/// GET `/knowledge`: the curation page, with the chat page's headers.
#[handler]
fn knowledge_page(pages: Data<&Arc<Pages>>) -> Response {
    match pages.knowledge() {
        Ok(html) => Html(html)
            .with_header("content-security-policy", CHAT_CSP)
            .with_header("x-content-type-options", "nosniff")
            .with_header("referrer-policy", "no-referrer")
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the knowledge page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The knowledge page could not be rendered; the error is in the server log.",
            )
                .into_response()
        }
    }
}

/// Appends every regular, non-hidden file under `dir` (recursively) to `out`.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = path
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// The template name of `path`: its path under `root`, components joined by `/`.
fn template_name(root: &Path, path: &Path) -> anyhow::Result<String> {
    let relative = path
        .strip_prefix(root)
        .with_context(|| format!("template {} is outside {}", path.display(), root.display()))?;
    let parts = relative
        .components()
        .map(|part| {
            part.as_os_str()
                .to_str()
                .with_context(|| format!("template path {} is not UTF-8", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_dir(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }

    fn real_pages() -> Pages {
        Pages::load(&repo_dir("templates")).expect("the templates in the repository load")
    }

    #[test]
    fn chat_page_renders_the_question_form_and_the_script() {
        let html = real_pages().chat().unwrap();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(html.contains("<form id=\"ask-form\""), "{html}");
        assert!(html.contains("<textarea id=\"question\""), "{html}");
        assert!(html.contains("<label for=\"question\""), "{html}");
        assert!(html.contains("<select id=\"database\""), "{html}");
        assert!(html.contains("aria-live=\"polite\""), "{html}");
        assert!(
            html.contains("<script src=\"/static/app.js\" defer></script>"),
            "{html}"
        );
        assert!(html.contains("href=\"/static/app.css\""), "{html}");
        assert!(html.contains(env!("CARGO_PKG_VERSION")), "{html}");
    }

    #[test]
    fn chat_page_loads_nothing_from_other_hosts() {
        let html = real_pages().chat().unwrap();
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in html.match_indices(attribute) {
                let value = &html[at + attribute.len()..];
                assert!(
                    value.starts_with('/') || value.starts_with('#'),
                    "{attribute} points elsewhere: {}",
                    &value[..value.len().min(60)]
                );
            }
        }
    }

    #[test]
    fn load_names_the_file_with_a_syntax_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("chat.html"), "<p>{{ title }}</p>").unwrap();
        fs::create_dir(dir.path().join("prompts")).unwrap();
        fs::write(dir.path().join("prompts/broken.jinja"), "{% if %}").unwrap();

        let err = Pages::load(dir.path())
            .err()
            .expect("a syntax error fails the load");
        let message = format!("{err:#}");
        assert!(message.contains("broken.jinja"), "{message}");
        assert!(message.contains("syntax error"), "{message}");
    }

    #[test]
    fn load_fails_when_the_chat_page_extends_a_missing_base() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("chat.html"),
            "{% extends \"missing.html\" %}{% block main %}{% endblock %}",
        )
        .unwrap();

        let err = Pages::load(dir.path())
            .err()
            .expect("a missing parent fails the load");
        let message = format!("{err:#}");
        assert!(message.contains("chat.html"), "{message}");
        assert!(message.contains("missing.html"), "{message}");
    }

    #[test]
    fn a_missing_templates_directory_falls_back_to_the_templates_built_into_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let pages = Pages::load(&dir.path().join("nowhere")).expect("built-in templates load");
        assert_eq!(pages.chat().unwrap(), real_pages().chat().unwrap());
        assert_eq!(
            pages.knowledge().unwrap(),
            real_pages().knowledge().unwrap()
        );
    }

    #[test]
    fn every_page_template_and_static_file_is_built_into_the_binary_as_it_is_on_disk() {
        let mut pages = Vec::new();
        collect_files(&repo_dir("templates"), &mut pages).unwrap();
        for path in pages
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
        {
            let name = template_name(&repo_dir("templates"), path).unwrap();
            let builtin = BUILTIN_TEMPLATES.iter().find(|(n, _)| *n == name);
            assert_eq!(
                builtin.map(|(_, s)| s.to_string()),
                Some(fs::read_to_string(path).unwrap()),
                "{name}"
            );
        }
        let mut files = Vec::new();
        collect_files(&repo_dir("static"), &mut files).unwrap();
        for path in files {
            let name = template_name(&repo_dir("static"), &path).unwrap();
            let builtin = BUILTIN_STATIC.iter().find(|(n, _, _)| *n == name);
            assert_eq!(
                builtin.map(|(_, _, b)| b.to_vec()),
                Some(fs::read(&path).unwrap()),
                "{name}"
            );
        }
    }

    #[test]
    fn nested_templates_are_named_by_their_relative_path_and_html_is_escaped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("parts")).unwrap();
        fs::write(dir.path().join("parts/head.html"), "<h1>{{ title }}</h1>").unwrap();
        fs::write(dir.path().join(".hidden.html"), "{% if %}").unwrap();
        fs::write(
            dir.path().join("chat.html"),
            "{% include \"parts/head.html\" %}<p>{{ \"<b>\" }}</p>",
        )
        .unwrap();

        let html = Pages::load(dir.path()).unwrap().chat().unwrap();
        assert_eq!(html, "<h1>querent</h1><p>&lt;b&gt;</p>");
    }

    /// Sends a GET through the route tree in process and returns the status, the content type
    /// and the body.
    async fn get(app: &Route, uri: &str) -> (StatusCode, String, String) {
        use poem::Endpoint as _;
        let request = poem::Request::builder().uri(uri.parse().unwrap()).finish();
        let response = app.get_response(request).await;
        let status = response.status();
        let content_type = response.content_type().unwrap_or_default().to_owned();
        let body = response.into_body().into_string().await.unwrap();
        (status, content_type, body)
    }

    #[tokio::test]
    async fn routes_serve_the_page_as_html_and_the_static_files() {
        let app = routes(Arc::new(real_pages()), &repo_dir("static"));

        let request = poem::Request::builder().uri("/".parse().unwrap()).finish();
        let page = poem::Endpoint::get_response(&app, request).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
        let csp = page.headers().get("content-security-policy").unwrap();
        assert!(csp.to_str().unwrap().contains("script-src 'self'"));

        let (status, _, body) = get(&app, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<form id=\"ask-form\""));

        let (status, content_type, script) = get(&app, "/static/app.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.contains("javascript"), "{content_type}");
        assert!(script.contains("/api/query"));

        let (status, content_type, _) = get(&app, "/static/app.css").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/css"), "{content_type}");

        let (status, _, _) = get(&app, "/static/nope.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, body) = get(&app, "/static/%2e%2e/Cargo.toml").await;
        assert!(status.is_client_error(), "{status}");
        assert!(!body.contains("[package]"));
    }
}
