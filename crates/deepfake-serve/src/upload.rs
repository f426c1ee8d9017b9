//! Reading the images of a `POST /v1/predict`: one image as the raw body, or any number of
//! files in a `multipart/form-data` body.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use bytes::BytesMut;
use http_body_util::BodyExt;

use crate::error::ApiError;

/// One uploaded image, still encoded.
#[derive(Debug)]
pub struct Upload {
    /// The file name of a multipart field (else its field name, else `part-N`), or `body`.
    pub name: String,
    /// The encoded image.
    pub bytes: Bytes,
}

/// How much of an over-limit body is still read (and discarded) so the client, still
/// sending, reads the 413 instead of a reset connection: this many times the limit.
const DRAIN_FACTOR: usize = 4;

/// The uploads of a request that are all images in a known format, at most `max_images` of
/// them: 400 (malformed or empty), 413 (over `max_body_bytes`, or more images than
/// `max_images`, the limit set by the option `limit_flag`), 415 (an upload that is not an
/// image, named).
pub async fn read_images(
    request: Request,
    max_body_bytes: usize,
    max_images: usize,
    limit_flag: &str,
) -> Result<Vec<Upload>, ApiError> {
    let uploads = read_uploads(request, max_body_bytes).await?;
    if uploads.len() > max_images {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_images",
            format!(
                "{} images in one request; at most {max_images} ({limit_flag})",
                uploads.len()
            ),
        ));
    }
    for upload in &uploads {
        check_format(upload)?;
    }
    Ok(uploads)
}

/// 415 unless the upload's content is an image format the decoder knows.
fn check_format(upload: &Upload) -> Result<(), ApiError> {
    image::guess_format(&upload.bytes).map(|_| ()).map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_an_image",
            format!(
                "{} is not an image in a supported format (JPEG, PNG, WebP, BMP or GIF)",
                upload.name
            ),
        )
    })
}

/// The uploads of a request (at least one), or 400 (malformed or empty), 413 (over
/// `max_body_bytes`).
async fn read_uploads(request: Request, max_body_bytes: usize) -> Result<Vec<Upload>, ApiError> {
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let drain_limit = max_body_bytes.saturating_mul(DRAIN_FACTOR);
    if declared.is_some_and(|bytes| bytes > drain_limit as u64) {
        return Err(too_large(max_body_bytes));
    }
    let body = read_body(body, max_body_bytes, drain_limit).await?;
    let uploads = if content_type.starts_with("multipart/form-data") {
        read_multipart(Request::from_parts(parts, Body::from(body))).await?
    } else {
        vec![Upload {
            name: "body".to_string(),
            bytes: body,
        }]
    };
    if uploads.iter().all(|u| u.bytes.is_empty()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "no_image",
            "the request has no image: send one image as the body (Content-Type: image/jpeg, \
             image/png, ...) or files as multipart/form-data fields",
        ));
    }
    Ok(uploads)
}

/// The whole body, or 413 once it passes `limit` bytes: the rest is then read and dropped
/// up to `drain_limit` bytes in all, so the client gets to read the answer.
async fn read_body(mut body: Body, limit: usize, drain_limit: usize) -> Result<Bytes, ApiError> {
    let mut data = BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("reading the request body failed: {e}"),
            )
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(chunk.len());
        if total > drain_limit {
            break;
        }
        if total <= limit {
            data.extend_from_slice(&chunk);
        }
    }
    if total > limit {
        return Err(too_large(limit));
    }
    Ok(data.freeze())
}

/// Every file field of a multipart body (a field with a file name, or with an `image/*` or
/// `application/octet-stream` content type); other fields are ignored.
async fn read_multipart(request: Request) -> Result<Vec<Upload>, ApiError> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_multipart", e.body_text()))?;
    let mut uploads = Vec::new();
    let mut index = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e.body_text())),
        };
        index += 1;
        let is_file = field.file_name().is_some()
            || field
                .content_type()
                .is_some_and(|t| t.starts_with("image/") || t == "application/octet-stream");
        if !is_file {
            continue;
        }
        let name = field
            .file_name()
            .or(field.name())
            .filter(|n| !n.is_empty())
            .map_or_else(|| format!("part-{index}"), str::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| multipart_error(e.body_text()))?;
        uploads.push(Upload { name, bytes });
    }
    Ok(uploads)
}

fn too_large(max_body_bytes: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is over the limit of {max_body_bytes} bytes (--max-body-mb)"),
    )
}

fn multipart_error(text: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_multipart",
        format!("malformed multipart body: {text}"),
    )
}
