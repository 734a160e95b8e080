//! The HTTP endpoint: `GET /metrics` and `GET /healthz`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Metrics;

/// The content type of [`Metrics::render`]'s output (OpenMetrics text 1.0.0).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Metrics {
    /// Serves `GET /metrics` (the exposition of [`Metrics::render`], with
    /// content type [`CONTENT_TYPE`]) and `GET /healthz` (`ok`) on
    /// `listener` until `shutdown` is cancelled; then stops accepting,
    /// lets in-flight requests finish, and returns.
    ///
    /// # Errors
    ///
    /// An I/O error of the listener that ends serving.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        axum::serve(listener, router(self))
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }
}

/// The routes of the endpoint, over `metrics`.
fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(exposition))
        .route("/healthz", get(healthz))
        .with_state(metrics)
}

async fn exposition(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render())
}

async fn healthz() -> &'static str {
    "ok"
}
