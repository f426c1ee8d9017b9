//! The router: routes, shared state and the layers every request passes through.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deepfake::predict::Detector;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::batcher::Queue;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::model_identity::ModelIdentity;
use crate::options::ServeOptions;
use crate::{explain_route, predict_route, probes};

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The model (scored only by the batching worker; handlers use it to decode).
    pub detector: Arc<Detector>,
    /// Which model this is.
    pub identity: ModelIdentity,
    /// The batching queue.
    pub queue: Queue,
    /// The Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Set once the model is warmed up.
    pub ready: Arc<AtomicBool>,
    /// One explain request at a time (explaining runs outside the batching queue).
    pub explain_turn: tokio::sync::Semaphore,
    /// Limits and batching settings.
    pub options: ServeOptions,
}

/// The router with every route. Layers, innermost first: a panic in a handler becomes a
/// JSON 500; a request over `request_timeout` gets 408; every answer is counted in the
/// metrics; the body limit applies; each request is traced.
pub fn router(state: Arc<AppState>) -> Router {
    let routes = Router::new()
        .route("/", get(probes::index))
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route("/v1/model", get(probes::model))
        .route("/v1/predict", post(predict_route::predict))
        .route("/v1/explain", post(explain_route::explain));
    with_layers(routes, state)
}

/// `routes` behind the layers of [`router`].
fn with_layers(routes: Router<Arc<AppState>>, state: Arc<AppState>) -> Router {
    routes
        .route_layer(CatchPanicLayer::custom(panic_answer))
        .route_layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.options.request_timeout,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            count_request,
        ))
        .layer(DefaultBodyLimit::max(state.options.max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Counts each answered request by route and status, with its latency.
async fn count_request(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record_request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The answer to a request whose handler panicked (the server goes on).
fn panic_answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown cause");
    tracing::error!("a request handler panicked: {detail}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the server failed on this request (see its log); other requests are unaffected",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use axum::body::Body;
    use axum::http::Request;
    use burn::tensor::Device;
    use deepfake::model::DetectorConfig;
    use tower::ServiceExt;

    use super::*;
    use crate::options::ServeOptions;

    fn state() -> Arc<AppState> {
        let config = DetectorConfig::tiny();
        let device = Device::flex();
        let model = config.init(&device).unwrap();
        let options = ServeOptions::default();
        Arc::new(AppState {
            detector: Arc::new(Detector::new(model, config, &device)),
            identity: ModelIdentity {
                path: "test".into(),
                architecture: "tiny".into(),
                parameters: 0,
                image_size: 64,
                sha256: "0".repeat(64),
                server_version: "test".into(),
            },
            queue: Queue::new(options.queue_capacity).0,
            metrics: Arc::new(Metrics::new(options.max_batch)),
            ready: Arc::new(AtomicBool::new(true)),
            explain_turn: tokio::sync::Semaphore::new(1),
            options,
        })
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_json_and_is_counted() {
        let state = state();
        let routes = Router::new().route(
            "/boom",
            get(|| async {
                panic!("deliberate");
                #[allow(unreachable_code)]
                ""
            }),
        );
        let app = with_layers(routes, Arc::clone(&state));
        for _ in 0..2 {
            let request = Request::get("/boom").body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["error"]["code"], "internal_error");
        }
        let metrics = state.metrics.encode();
        assert!(
            metrics.contains("deepfake_http_requests_total{route=\"/boom\",status=\"500\"} 2"),
            "{metrics}"
        );
    }
}
