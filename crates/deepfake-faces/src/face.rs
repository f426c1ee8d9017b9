//! One detected face: its box, detection probability and five landmarks.

use serde::{Deserialize, Serialize};

/// A face found by [`crate::Mtcnn::detect`], in the pixel coordinates of the image it was found in
/// (x to the right, y down, origin at the top-left corner of the top-left pixel).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// `[x1, y1, x2, y2]`: left, top, right, bottom, in pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// O-Net's probability that the box holds a face, in [0, 1].
    pub probability: f32,
    /// `[x, y]` of the left eye, right eye, nose tip, left and right mouth corners, as they
    /// appear in the image (the left eye is the one further left).
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    /// Box area in square pixels.
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }
}
