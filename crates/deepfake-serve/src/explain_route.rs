//! `POST /v1/explain`: Grad-CAM explanations of uploaded images.
//!
//! Explaining runs a forward and a backward pass of the head, outside the batching queue: one
//! request's images at a time (in batches of `max_batch`), while the batching worker goes on
//! scoring predictions.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use base64::Engine as _;
use deepfake::formats::Label;
use deepfake::predict::PredictionRecord;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::ApiError;
use crate::model_identity::ModelIdentity;
use crate::predict_route::{decode_error, internal};
use crate::upload::read_images;

/// The answer to `POST /v1/explain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplainResponse {
    /// The model that scored the images.
    pub model: ModelIdentity,
    /// One per image, in upload order.
    pub results: Vec<ExplainedRecord>,
    /// From the request's arrival to its answer, in milliseconds.
    pub total_ms: f64,
}

/// The record `predict` prints, with the explanation of its verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplainedRecord {
    /// label, p_fake, confidence, ... as in `predict --format json`.
    #[serde(flatten)]
    pub record: PredictionRecord,
    /// The Grad-CAM map of the Fake logit.
    pub explanation: ExplanationBody,
}

/// A Grad-CAM map as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplanationBody {
    /// The explained class (`fake`).
    pub class: String,
    /// `[h, w]` of `map` (`[7, 7]` at 224x224).
    pub map_size: [usize; 2],
    /// The map, row-major, in `[0, 1]`.
    pub map: Vec<f32>,
    /// The uploaded image with the map over it, a colour bar and P(fake): a base64 PNG.
    pub heatmap_png_base64: String,
}

/// Explains the uploaded images: 200 with an [`ExplainResponse`], or the same errors as
/// `/v1/predict` (400, 413, 415, 422).
pub async fn explain(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Json<ExplainResponse>, ApiError> {
    let arrived = Instant::now();
    let uploads = read_images(
        request,
        state.options.max_body_bytes,
        state.options.max_batch,
        "--max-batch",
    )
    .await?;
    let _turn = state
        .explain_turn
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("shutting_down", "the server is shutting down"))?;
    let detector = Arc::clone(&state.detector);
    let max_pixels = state.options.max_pixels;
    let results = tokio::task::spawn_blocking(move || {
        let mut images = Vec::with_capacity(uploads.len());
        let mut prepared = Vec::with_capacity(uploads.len());
        for upload in &uploads {
            let name = Path::new(&upload.name);
            let image = detector
                .decode_bytes(&upload.bytes, name)
                .map_err(|e| decode_error(e, max_pixels))?;
            prepared.push(
                detector
                    .prepare_image(&image)
                    .map_err(|e| decode_error(e, max_pixels))?,
            );
            images.push(image);
        }
        let explanations = detector.explain_prepared(&prepared, Label::Fake);
        let mut results = Vec::with_capacity(uploads.len());
        for ((upload, image), explanation) in uploads.iter().zip(&images).zip(explanations) {
            let png = explanation
                .overlay_png(image)
                .map_err(|e| internal("heatmap_failed", format!("{}: {e}", upload.name)))?;
            results.push(ExplainedRecord {
                record: detector.record(upload.name.clone(), Ok(explanation.prediction), None),
                explanation: ExplanationBody {
                    class: explanation.class.name().to_string(),
                    map_size: explanation.map_size,
                    map: explanation.map,
                    heatmap_png_base64: base64::engine::general_purpose::STANDARD.encode(png),
                },
            });
        }
        Ok::<_, ApiError>(results)
    })
    .await
    .map_err(|e| internal("model_failed", format!("explaining panicked: {e}")))??;
    Ok(Json(ExplainResponse {
        model: state.identity.clone(),
        results,
        total_ms: arrived.elapsed().as_secs_f64() * 1e3,
    }))
}
