//! MTCNN face detection (Zhang et al. 2016) as facenet-pytorch 2.6.0's `MTCNN.detect` runs it:
//! an image pyramid through P-Net, candidates refined by R-Net, boxes and landmarks from O-Net.

use burn::tensor::Device;
use image::RgbImage;

use crate::candidates::{
    Candidate, Overlap, apply_regression, crop_window, make_square, non_maximum_suppression,
};
use crate::error::Result;
use crate::face::Face;
use crate::host_nets::HostNets;
use crate::networks::{CropScores, Networks, ProposalMaps};
use crate::resample::{Planes, Window, area_resize_normalised};
use crate::weights::MtcnnNets;

/// Crops per R-Net / O-Net batch (bounds memory on images with thousands of candidates).
const CROP_BATCH: usize = 256;

/// MTCNN's search settings (facenet-pytorch's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MtcnnConfig {
    /// Smallest face side searched for, in pixels.
    pub min_face_size: f64,
    /// Probability a candidate needs to pass P-Net, R-Net and O-Net.
    pub thresholds: [f32; 3],
    /// Ratio between consecutive pyramid scales.
    pub factor: f64,
}

impl Default for MtcnnConfig {
    fn default() -> Self {
        Self {
            min_face_size: 20.0,
            thresholds: [0.6, 0.7, 0.7],
            factor: 0.709,
        }
    }
}

/// The face detector: the three networks (on a Burn device or the host CPU engine) and the
/// search settings.
#[derive(Debug)]
pub struct Mtcnn {
    nets: Networks,
    config: MtcnnConfig,
}

impl Mtcnn {
    /// MTCNN with facenet-pytorch's weights (embedded) and default settings on `device`.
    pub fn new(device: &Device) -> Result<Self> {
        Ok(Self::from_nets(MtcnnNets::bundled(device)?))
    }

    /// MTCNN with the given networks (on Burn's operations, on their device) and default
    /// settings.
    pub fn from_nets(nets: MtcnnNets) -> Self {
        Self {
            nets: Networks::Burn(Box::new(nets)),
            config: MtcnnConfig::default(),
        }
    }

    /// MTCNN with facenet-pytorch's weights on the host CPU engine (`deepfake-cpu`) and
    /// default settings: the form for a CPU, faster than Burn's CPU backend (flex) and the
    /// same faces within float rounding (`device` only loads the weights).
    ///
    /// # Errors
    /// [`crate::FacesError::Host`] when this CPU lacks a kernel the engine needs (AVX2 + FMA
    /// for the 2x2 convolutions): use [`Self::new`] there.
    pub fn new_host(device: &Device) -> Result<Self> {
        let nets = MtcnnNets::bundled(device)?;
        Ok(Self {
            nets: Networks::Host(Box::new(HostNets::new(&nets)?)),
            config: MtcnnConfig::default(),
        })
    }

    /// The networks and where they run.
    pub fn networks(&self) -> &Networks {
        &self.nets
    }

    /// The same detector with other search settings.
    pub fn with_config(mut self, config: MtcnnConfig) -> Self {
        self.config = config;
        self
    }

    /// The search settings.
    pub fn config(&self) -> &MtcnnConfig {
        &self.config
    }

    /// The faces in `image`, largest box first (facenet-pytorch's `select_largest` order).
    /// An image with no face, or smaller than 12 pixels on a side, gives none.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Face>> {
        self.detect_with(image, &self.config)
    }

    /// [`Self::detect`] with other search settings for this image only (e.g. a larger
    /// minimum face in video frames).
    pub fn detect_with(&self, image: &RgbImage, config: &MtcnnConfig) -> Result<Vec<Face>> {
        let planes = Planes::from_rgb(image);
        let proposals = self.propose(&planes, config)?;
        if proposals.is_empty() {
            return Ok(Vec::new());
        }
        let refined = self.refine(&planes, &proposals, config)?;
        if refined.is_empty() {
            return Ok(Vec::new());
        }
        let mut faces = self.output(&planes, &refined, config)?;
        faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
        Ok(faces)
    }

    /// The scales of the image pyramid: the first maps `min_face_size` to P-Net's 12 pixels,
    /// each next is `factor` times smaller, down to a shorter side of 12 pixels.
    pub fn pyramid_scales(&self, width: usize, height: usize) -> Vec<f64> {
        pyramid_scales(width, height, &self.config)
    }

    /// Stage 1: P-Net over the pyramid; candidates squared after regression.
    fn propose(&self, planes: &Planes, config: &MtcnnConfig) -> Result<Vec<Candidate>> {
        let mut candidates = Vec::new();
        for scale in pyramid_scales(planes.width, planes.height, config) {
            let height = (planes.height as f64 * scale + 1.0) as usize;
            let width = (planes.width as f64 * scale + 1.0) as usize;
            let mut input = Vec::new();
            area_resize_normalised(planes, Window::whole(planes), height, width, &mut input);
            let ProposalMaps {
                regression,
                probability,
                size: [out_h, out_w],
            } = self.nets.propose(input, [height, width])?;
            let cells = out_h * out_w;
            let scale = scale as f32;
            let mut at_scale = Vec::new();
            for y in 0..out_h {
                for x in 0..out_w {
                    let cell = y * out_w + x;
                    let score = probability[cells + cell];
                    if score < config.thresholds[0] {
                        continue;
                    }
                    // The 12x12 window under the cell (stride 2), back in image pixels.
                    let (x, y) = (x as f32, y as f32);
                    at_scale.push(Candidate {
                        bbox: [
                            ((2.0 * x + 1.0) / scale).floor(),
                            ((2.0 * y + 1.0) / scale).floor(),
                            ((2.0 * x + 12.0) / scale).floor(),
                            ((2.0 * y + 12.0) / scale).floor(),
                        ],
                        score,
                        regression: std::array::from_fn(|k| regression[k * cells + cell]),
                    });
                }
            }
            let kept = non_maximum_suppression(&at_scale, 0.5, Overlap::Union);
            candidates.extend(kept.into_iter().map(|i| at_scale[i]));
        }
        let kept = non_maximum_suppression(&candidates, 0.7, Overlap::Union);
        Ok(kept
            .into_iter()
            .map(|i| {
                let c = candidates[i];
                // Regression in units of the box's width and height (no +1 at this stage).
                let w = c.bbox[2] - c.bbox[0];
                let h = c.bbox[3] - c.bbox[1];
                let mut c = Candidate {
                    bbox: [
                        c.bbox[0] + c.regression[0] * w,
                        c.bbox[1] + c.regression[1] * h,
                        c.bbox[2] + c.regression[2] * w,
                        c.bbox[3] + c.regression[3] * h,
                    ],
                    ..c
                };
                make_square(&mut c);
                c
            })
            .collect())
    }

    /// Stage 2: R-Net on 24x24 crops of the proposals.
    fn refine(
        &self,
        planes: &Planes,
        proposals: &[Candidate],
        config: &MtcnnConfig,
    ) -> Result<Vec<Candidate>> {
        let (boxes, crops) = crops(planes, proposals, 24);
        let mut passed = Vec::new();
        for (chunk, start) in batches(&crops, boxes.len(), 24) {
            let n = chunk.len() / (3 * 24 * 24);
            let CropScores {
                regression,
                probability,
                ..
            } = self.nets.refine(chunk, n)?;
            for i in 0..n {
                let score = probability[2 * i + 1];
                if score > config.thresholds[1] {
                    passed.push(Candidate {
                        bbox: boxes[start + i].bbox,
                        score,
                        regression: std::array::from_fn(|k| regression[4 * i + k]),
                    });
                }
            }
        }
        let kept = non_maximum_suppression(&passed, 0.7, Overlap::Union);
        Ok(kept
            .into_iter()
            .map(|i| {
                let mut c = passed[i];
                apply_regression(&mut c);
                make_square(&mut c);
                c
            })
            .collect())
    }

    /// Stage 3: O-Net on 48x48 crops; boxes, probabilities and landmarks.
    fn output(
        &self,
        planes: &Planes,
        refined: &[Candidate],
        config: &MtcnnConfig,
    ) -> Result<Vec<Face>> {
        let (boxes, crops) = crops(planes, refined, 48);
        let mut passed = Vec::new();
        let mut landmarks = Vec::new();
        for (chunk, start) in batches(&crops, boxes.len(), 48) {
            let n = chunk.len() / (3 * 48 * 48);
            let CropScores {
                regression,
                probability,
                landmarks: points,
            } = self.nets.output(chunk, n)?;
            for i in 0..n {
                let score = probability[2 * i + 1];
                if score <= config.thresholds[2] {
                    continue;
                }
                let b = boxes[start + i].bbox;
                // Landmarks are fractions of the (pre-regression) box, plus one pixel.
                let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
                let p = &points[10 * i..10 * i + 10];
                landmarks.push(std::array::from_fn(|k| {
                    [w * p[k] + b[0] - 1.0, h * p[5 + k] + b[1] - 1.0]
                }));
                let mut c = Candidate {
                    bbox: b,
                    score,
                    regression: std::array::from_fn(|k| regression[4 * i + k]),
                };
                apply_regression(&mut c);
                passed.push(c);
            }
        }
        let kept = non_maximum_suppression(&passed, 0.7, Overlap::Min);
        Ok(kept
            .into_iter()
            .map(|i| Face {
                bbox: passed[i].bbox,
                probability: passed[i].score,
                landmarks: landmarks[i],
            })
            .collect())
    }
}

/// The scales of the image pyramid for `config` (see [`Mtcnn::pyramid_scales`]).
fn pyramid_scales(width: usize, height: usize, config: &MtcnnConfig) -> Vec<f64> {
    let m = 12.0 / config.min_face_size;
    let mut min_side = width.min(height) as f64 * m;
    let mut scale = m;
    let mut scales = Vec::new();
    while min_side >= 12.0 {
        scales.push(scale);
        scale *= config.factor;
        min_side *= config.factor;
    }
    scales
}

/// The candidates that have pixels inside the image, and their crops area-resized to
/// `size x size` and normalised, `[n, 3, size, size]` flattened.
fn crops(planes: &Planes, candidates: &[Candidate], size: usize) -> (Vec<Candidate>, Vec<f32>) {
    let mut kept = Vec::with_capacity(candidates.len());
    let mut pixels = Vec::with_capacity(candidates.len() * 3 * size * size);
    for c in candidates {
        if let Some(window) = crop_window(c, planes.width, planes.height) {
            area_resize_normalised(planes, window, size, size, &mut pixels);
            kept.push(*c);
        }
    }
    (kept, pixels)
}

/// `crops` of `n` images of `size x size` in batches of at most [`CROP_BATCH`], each with the
/// index of its first crop.
fn batches(crops: &[f32], n: usize, size: usize) -> impl Iterator<Item = (&[f32], usize)> {
    let per_crop = 3 * size * size;
    debug_assert_eq!(crops.len(), n * per_crop);
    crops
        .chunks(CROP_BATCH * per_crop)
        .enumerate()
        .map(|(b, chunk)| (chunk, b * CROP_BATCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_crop_batch_crops_and_name_their_first() {
        let n = 2 * CROP_BATCH + 3;
        let crops = vec![0.0f32; n * 3 * 2 * 2];
        let got: Vec<(usize, usize)> = batches(&crops, n, 2)
            .map(|(chunk, first)| (chunk.len() / 12, first))
            .collect();
        assert_eq!(
            got,
            vec![
                (CROP_BATCH, 0),
                (CROP_BATCH, CROP_BATCH),
                (3, 2 * CROP_BATCH)
            ]
        );
    }
}
