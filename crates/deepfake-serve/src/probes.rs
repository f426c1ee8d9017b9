//! The routes around prediction: `/healthz`, `/readyz`, `/metrics`, `/v1/model` and the
//! upload page at `/`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;

/// The upload page: a form that posts to `/v1/predict` and shows the verdict (no external
/// assets).
const INDEX_PAGE: &str = include_str!("index.html");

/// `GET /`: the upload page.
pub async fn index() -> Html<&'static str> {
    Html(INDEX_PAGE)
}

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 once the model is loaded and warmed up, 503 before.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        Json(json!({ "status": "ready", "model": state.identity })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "warming up" })),
        )
            .into_response()
    }
}

/// `GET /v1/model`: the served model, its decision threshold and temperature, and the
/// server's batching settings.
pub async fn model(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "model": state.identity,
        "threshold": state.detector.threshold(),
        "temperature": state.detector.temperature(),
        "max_batch": state.options.max_batch,
        "max_wait_ms": state.options.max_wait.as_secs_f64() * 1e3,
        "queue_capacity": state.options.queue_capacity,
        "max_body_bytes": state.options.max_body_bytes,
        "max_pixels": state.options.max_pixels,
    }))
}

/// `GET /metrics`: Prometheus text exposition (OpenMetrics).
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state.metrics.set_queue_depth(state.queue.depth());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
