//! `POST /v1/predict`: score uploaded images through the batching queue.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use deepfake::data::DataError;
use deepfake::predict::{PredictError, PredictionRecord, Preprocessed};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::ApiError;
use crate::model_identity::ModelIdentity;
use crate::upload::{Upload, read_images};

/// The answer to `POST /v1/predict`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PredictResponse {
    /// The model that scored the images.
    pub model: ModelIdentity,
    /// One record per image, in upload order: the record `predict --format json` prints.
    pub results: Vec<PredictionRecord>,
    /// Where the time went.
    pub timing: Timing,
}

/// Where a request's time went, in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    /// From the request's arrival to its answer.
    pub total_ms: f64,
    /// Reading the body, decoding and preprocessing every image.
    pub decode_ms: f64,
    /// Longest wait of one of its images for a forward pass.
    pub queue_ms: f64,
    /// Longest forward pass one of its images rode in.
    pub model_ms: f64,
    /// Per image, the number of images in its forward pass.
    pub batch_sizes: Vec<usize>,
}

/// Scores the uploaded images: 200 with a [`PredictResponse`], or an [`ApiError`].
pub async fn predict(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let arrived = Instant::now();
    let uploads = read_images(
        request,
        state.options.max_body_bytes,
        state.queue.capacity(),
        "--queue-capacity",
    )
    .await?;
    let mut reservation = state.queue.reserve(uploads.len())?;
    let names: Vec<String> = uploads.iter().map(|u| u.name.clone()).collect();
    let prepared = prepare(&state, uploads).await?;
    let decoded = Instant::now();
    let mut answers = Vec::with_capacity(prepared.len());
    for image in prepared {
        answers.push(reservation.send(image).ok_or_else(|| {
            internal(
                "model_failed",
                "a reserved queue slot was missing".to_string(),
            )
        })?);
    }
    drop(reservation);
    let mut results = Vec::with_capacity(answers.len());
    let (mut queued, mut forward) = (Duration::ZERO, Duration::ZERO);
    let mut batch_sizes = Vec::with_capacity(answers.len());
    for (name, answer) in names.into_iter().zip(answers) {
        let scored = answer.await.map_err(|_| {
            internal(
                "model_failed",
                format!("{name}: the forward pass failed (see the server log)"),
            )
        })?;
        let prediction = scored
            .result
            .map_err(|e| internal("model_failed", format!("{name}: {e}")))?;
        queued = queued.max(scored.queued);
        forward = forward.max(scored.forward);
        batch_sizes.push(scored.batch_size);
        results.push(state.detector.record(name, Ok(prediction), None));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(Json(PredictResponse {
        model: state.identity.clone(),
        results,
        timing: Timing {
            total_ms: ms(arrived.elapsed()),
            decode_ms: ms(decoded - arrived),
            queue_ms: ms(queued),
            model_ms: ms(forward),
            batch_sizes,
        },
    }))
}

/// Decodes and preprocesses every upload in parallel on a blocking thread: 422 for a corrupt
/// image or one over the pixel limit (naming it).
async fn prepare(
    state: &Arc<AppState>,
    uploads: Vec<Upload>,
) -> Result<Vec<Preprocessed>, ApiError> {
    let detector = Arc::clone(&state.detector);
    let decoded = tokio::task::spawn_blocking(move || {
        uploads
            .par_iter()
            .map(|u| detector.prepare_bytes(&u.bytes, Path::new(&u.name)))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| internal("decode_failed", format!("decoding panicked: {e}")))?;
    decoded
        .into_iter()
        .map(|r| r.map_err(|e| decode_error(e, state.options.max_pixels)))
        .collect()
}

pub(crate) fn decode_error(error: PredictError, max_pixels: u64) -> ApiError {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    match error {
        PredictError::Input(DataError::TooLarge {
            path,
            width,
            height,
            ..
        }) => ApiError::new(
            status,
            "image_too_large",
            format!(
                "{} is {width}x{height} pixels, over the limit of {:.1} megapixels \
                 (--max-megapixels)",
                path.display(),
                max_pixels as f64 / (1024.0 * 1024.0)
            ),
        ),
        other => ApiError::new(status, "corrupt_image", other.to_string()),
    }
}

pub(crate) fn internal(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
}
