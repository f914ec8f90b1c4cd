//! The HTTP server: the OpenAPI routes ([`api`]), the web pages ([`pages`]) and the error body
//! every failure gets. It only translates requests and errors; the engine does the work.
//!
//! Enter at [`app`] (the endpoint tree, testable in-process) or [`serve`] (bind and run).

pub mod api;
pub mod errors;
pub mod jobs;
pub mod knowledge;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod rate_limits;
pub mod shutdown;

use std::sync::Arc;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;

use crate::engine::Engine;
use crate::knowledge::curation::Curator;
use crate::settings::Settings;

/// The OpenAPI service with every API route, for the spec and the app.
pub fn api_service(
    engine: Arc<Engine>,
    curator: Arc<Curator>,
    access: knowledge::Access,
    ops: Arc<ops::Ops>,
) -> OpenApiService<(api::Api, knowledge::KnowledgeApi, jobs::JobsApi), ()> {
    let apis = (
        api::Api {
            engine: engine.clone(),
            ops: ops.clone(),
            data_dir: curator.data_dir().to_path_buf(),
        },
        knowledge::KnowledgeApi { curator, access },
        jobs::JobsApi { engine, ops },
    );
    OpenApiService::new(apis, "querent", env!("CARGO_PKG_VERSION"))
        .description("Answers questions about business data in plain language: SQL, rows, chart, insights, summary.")
}

/// The whole endpoint tree: API, OpenAPI spec (`/openapi.json`), Swagger UI (`/docs`), pages.
/// Every error, ours or the framework's, leaves as `{"error": {code, message, details}}`.
/// Around it: body limits and `Allow` on 405 ([`limits`]); request ids, metrics (`/metrics`),
/// compression, rate and time limits ([`ops`], [`rate_limits`]).
pub fn app(engine: Arc<Engine>, settings: &Settings) -> anyhow::Result<impl Endpoint> {
    let ops = Arc::new(ops::Ops::new(engine.clone(), &settings.ops));
    let curator = Arc::new(Curator::open(
        engine.clone(),
        &settings.knowledge_dir,
        &settings.data_dir,
    )?);
    // replicas (#14): apply the knowledge changes made through the others
    curator.watch_replicas();
    let access = knowledge::Access {
        // an empty key is no key: writes stay disabled
        api_key: settings
            .api_key
            .clone()
            .filter(|k| !k.expose().trim().is_empty()),
        named_keys: match &settings.api_keys {
            Some(keys) => crate::settings::keys::CuratorKeys::parse(keys)
                .map_err(|e| anyhow::anyhow!("QUERENT_API_KEYS / --api-keys: {e}"))?,
            None => Default::default(),
        },
        key_for_reads: settings.key_for_reads,
    };
    let service = api_service(engine, curator, access, ops.clone());
    // harden (#13): body size cap and `Allow` on 405, around every route.
    let allowed = Arc::new(limits::AllowedMethods::from_spec(&service.spec()));
    // harden (#13): the published document is completed (security scheme, stream type,
    // common error answers); Swagger UI shows the same one.
    let original_spec = service.spec();
    let spec_options = openapi::SpecOptions {
        key_for_reads: settings.key_for_reads,
    };
    let spec_text = openapi::complete_spec(&original_spec, spec_options);
    let spec = poem::endpoint::make_sync(move |_| {
        poem::IntoResponse::with_content_type(spec_text.clone(), "application/json; charset=utf-8")
    });
    let docs_html =
        openapi::swagger_ui_html(&original_spec, &service.swagger_ui_html(), spec_options);
    let docs = poem::endpoint::make_sync(move |_| poem::web::Html(docs_html.clone()));
    let pages = Arc::new(pages::Pages::load(&settings.templates_dir)?);
    let route = Route::new()
        .nest_no_strip("/api", service)
        .at("/openapi.json", spec)
        .at("/metrics", metrics_endpoint(ops.clone()))
        .nest("/docs", docs)
        .nest("/", pages::routes(pages, &settings.static_dir));
    let (outer, inner) = (ops.clone(), ops);
    Ok(route
        .around(move |ep, req| limits::limit_requests(ep, req, allowed.clone()))
        .catch_all_error(errors::framework_error_response)
        .around(move |ep, req| ops::protect(inner.clone(), ep, req))
        .with(poem::middleware::Compression::new())
        .around(move |ep, req| ops::observe(outer.clone(), ep, req)))
}

/// `GET /metrics`: the Prometheus text format ([`metrics`]).
fn metrics_endpoint(ops: Arc<ops::Ops>) -> impl Endpoint {
    poem::get(poem::endpoint::make(move |_req| {
        let ops = ops.clone();
        async move {
            // Reading the index's counts may touch disk or a Qdrant server: off the async threads.
            let body = tokio::task::spawn_blocking(move || ops.metrics.encode())
                .await
                .unwrap_or_default();
            poem::Response::builder()
                .content_type(metrics::CONTENT_TYPE)
                .body(body)
        }
    }))
}

/// Serves `endpoint` on an already bound listener until `shutdown` resolves; requests in
/// flight then get `grace` to finish (`None`: as long as they take).
/// Binding first lets callers (and tests) use port 0 and learn the port.
pub async fn serve(
    listener: std::net::TcpListener,
    endpoint: impl Endpoint + 'static,
    shutdown: impl std::future::Future<Output = ()> + Send,
    grace: Option<std::time::Duration>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let acceptor = TcpAcceptor::from_std(listener)?;
    tracing::info!(addr = ?acceptor.local_addr(), "serving");
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(endpoint, shutdown, grace)
        .await
}
