//! Synthetic proxy data in the exact 140k-faces layout, so every command works without a
//! download. "Real" images are procedural face-like scenes (head, hair, eyes, mouth, smooth
//! shading, 1/f texture, sensor noise, varied colours and poses). "Fake" images come from the
//! same generator followed by traces real generators leave: an upsampling step with a
//! checkerboard (transposed-convolution-like) pattern, over-smooth texture with little sensor
//! noise, and a small colour-balance shift. None of these moves the image's mean intensity.
//! `difficulty` in [0, 1] weakens the traces (1 = nearly invisible).
//!
//! - `face`: the scene; `fractal`: its textures; `canvas`: the float canvas and sensor noise;
//! - `traces`: what a generator leaves;
//! - [`regions`](TraceRegion): where the traces are when a data set confines them;
//! - this file: one image ([`render`]) and the data set on disk ([`write_dataset`]).

mod canvas;
mod face;
mod fractal;
mod regions;
mod traces;

use std::path::{Path, PathBuf};

use deepfake_formats::Label;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use regions::{REGIONS_FILE, TraceRegion, read_regions};

use crate::augment::item_rng;
use crate::error::{DataError, Result};
use canvas::{Canvas, add_sensor_noise};
use face::Face;
use traces::add_generator_traces;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Images per class in the train split; valid and test get a fifth each (as 100k/20k/20k).
    pub per_class: usize,
    /// Side of the square images, in pixels.
    pub size: u32,
    /// Seed: the same config writes the same files.
    pub seed: u64,
    /// How faint the fake traces are, in [0, 1].
    pub difficulty: f64,
    /// JPEG quality of the written files.
    pub jpeg_quality: u8,
    /// Confine the fake traces to one square patch per fake image, this fraction of the side
    /// (placed at random; recorded in `regions.csv`): a ground truth for explanations.
    /// `None`: the traces cover the whole image.
    #[serde(default)]
    pub trace_region: Option<f64>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            per_class: 500,
            size: 128,
            seed: 0,
            difficulty: 0.3,
            jpeg_quality: 95,
            trace_region: None,
        }
    }
}

/// How strong a fake's traces are at `difficulty` (clamped to [0, 1]):
/// `0.25 + 0.75 * (1 - difficulty)`, from 1 (difficulty 0) down to 0.25 (difficulty 1).
pub fn trace_strength(difficulty: f64) -> f32 {
    0.25 + 0.75 * (1.0 - difficulty.clamp(0.0, 1.0)) as f32
}

/// Renders image `index` of class `label` (deterministic in `seed`, `label`, `index`).
pub fn render(label: Label, index: u64, config: &SynthConfig) -> RgbImage {
    render_with_region(label, index, config).0
}

/// [`render`], with where the fake traces are when `config.trace_region` confines them.
///
/// Every image starts from a random face-like scene. A real one gets sensor noise of sigma
/// uniform in [2, 5) levels. A fake one gets the generator traces at strength
/// [`trace_strength`]`(difficulty)` and sensor noise of that sigma times
/// `1 - 0.8 * strength`. With `trace_region`, a fake's traces stay inside a square patch of
/// that fraction of the side (clamped to [0.05, 1], at a random place); outside it the image
/// is the scene with the full sensor noise, as a real one.
pub fn render_with_region(
    label: Label,
    index: u64,
    config: &SynthConfig,
) -> (RgbImage, Option<TraceRegion>) {
    let mut rng = item_rng(config.seed, label.index() as u64, index);
    let size = config.size.max(16) as usize;
    let mut canvas = Face::random(size, &mut rng).paint();
    let strength = trace_strength(config.difficulty);
    let mut region = None;
    match label {
        Label::Real => add_sensor_noise(&mut canvas, rng.random_range(2.0..5.0), &mut rng),
        Label::Fake => {
            let original = canvas.pixels.clone();
            add_generator_traces(&mut canvas, strength, &mut rng);
            let real_sigma = rng.random_range(2.0f32..5.0);
            let sigma = real_sigma * (1.0 - 0.8 * strength);
            add_sensor_noise(&mut canvas, sigma, &mut rng);
            if let Some(fraction) = config.trace_region {
                let side = ((fraction.clamp(0.05, 1.0) * size as f64).round() as u32).max(1);
                let free = size as u32 - side.min(size as u32);
                let patch = TraceRegion {
                    x: rng.random_range(0..=free),
                    y: rng.random_range(0..=free),
                    side,
                };
                // Outside the patch: the untouched scene with a real camera's noise.
                let mut real = Canvas {
                    size,
                    pixels: original,
                };
                add_sensor_noise(&mut real, real_sigma, &mut rng);
                for (i, pixel) in canvas.pixels.iter_mut().enumerate() {
                    if !patch.contains((i % size) as u32, (i / size) as u32) {
                        *pixel = real.pixels[i];
                    }
                }
                region = Some(patch);
            }
        }
    }
    (canvas.to_image(), region)
}

/// Writes the data set into `out` in the 140k layout: `train.csv`, `valid.csv`, `test.csv`
/// (columns `,original_path,id,label,label_str,path`, `label` 1 = real as in the original)
/// and `real_vs_fake/real-vs-fake/{split}/{real,fake}/NNNNN.jpg`, then `regions.csv` when
/// the traces are confined and [`SYNTHETIC_MARKER`] last. The CSVs, the regions and the
/// marker are written atomically. Returns the number of images written.
pub fn write_dataset(out: &Path, config: &SynthConfig) -> Result<usize> {
    if config.per_class == 0 || config.size < 16 {
        return Err(DataError::InvalidParameter(
            "synthetic data needs per_class >= 1 and size >= 16".into(),
        ));
    }
    let base = out.join("real_vs_fake").join("real-vs-fake");
    let held_out = config.per_class.div_ceil(5);
    let splits = [
        ("train", config.per_class, 0u64),
        ("valid", held_out, 1_000_000),
        ("test", held_out, 2_000_000),
    ];
    let mut written = 0;
    let mut regions = String::from("path,x,y,side\n");
    for (split, n, offset) in splits {
        let mut rows = Vec::new();
        for label in [Label::Real, Label::Fake] {
            let dir = base.join(split).join(label.name());
            std::fs::create_dir_all(&dir).map_err(|source| DataError::Write {
                path: dir.clone(),
                source,
            })?;
            let files: Vec<(u64, PathBuf)> = (0..n as u64)
                .map(|i| (offset + i, dir.join(format!("{:05}.jpg", offset + i))))
                .collect();
            let placed = files
                .par_iter()
                .map(|(index, path)| {
                    let (image, region) = render_with_region(label, *index, config);
                    write_jpeg(&image, path, config).map(|()| (*index, region))
                })
                .collect::<Result<Vec<_>>>()?;
            for (index, region) in placed {
                if let Some(r) = region {
                    regions += &format!(
                        "{split}/{}/{index:05}.jpg,{},{},{}\n",
                        label.name(),
                        r.x,
                        r.y,
                        r.side
                    );
                }
            }
            for (index, _) in &files {
                rows.push((
                    *index,
                    label,
                    format!("{split}/{}/{index:05}.jpg", label.name()),
                ));
            }
        }
        // Interleave the classes with a seeded shuffle, as the original CSVs are mixed.
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ offset);
        rand::seq::SliceRandom::shuffle(rows.as_mut_slice(), &mut rng);
        let mut csv = String::from(",original_path,id,label,label_str,path\n");
        for (row, (index, label, path)) in rows.iter().enumerate() {
            let label_number = if *label == Label::Real { 1 } else { 0 };
            csv += &format!(
                "{row},synthetic/{index}.jpg,{index},{label_number},{},{path}\n",
                label.name()
            );
        }
        deepfake_formats::write_atomic(&out.join(format!("{split}.csv")), csv.as_bytes())?;
        written += rows.len();
    }
    if config.trace_region.is_some() {
        deepfake_formats::write_atomic(&out.join(REGIONS_FILE), regions.as_bytes())?;
    }
    // Marks the folder as synthetic, so reports can say so.
    deepfake_formats::write_json(&out.join(SYNTHETIC_MARKER), config)?;
    Ok(written)
}

/// File written at the root of every synthetic data set: the [`SynthConfig`] as JSON.
pub const SYNTHETIC_MARKER: &str = "synthetic.json";

/// The generator settings when `root` (or a parent up to three levels, for the inner
/// folders of the layout) holds a synthetic data set, `None` for real data.
pub fn synthetic_config(root: &Path) -> Option<SynthConfig> {
    root.ancestors()
        .take(4)
        .find_map(|dir| deepfake_formats::read_json(&dir.join(SYNTHETIC_MARKER)).ok())
}

fn write_jpeg(image: &RgbImage, path: &Path, config: &SynthConfig) -> Result<()> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, config.jpeg_quality)
        .encode_image(image)
        .map_err(|e| DataError::InvalidParameter(format!("JPEG encoding failed: {e}")))?;
    std::fs::write(path, bytes).map_err(|source| DataError::Write {
        path: path.to_path_buf(),
        source,
    })
}
