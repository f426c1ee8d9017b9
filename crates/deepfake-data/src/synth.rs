//! Synthetic proxy data in the exact 140k-faces layout, so every command works without a
//! download. "Real" images are procedural face-like scenes (head, hair, eyes, mouth, smooth
//! shading, 1/f texture, sensor noise, varied colours and poses). "Fake" images come from the
//! same generator followed by traces real generators leave: an upsampling step with a
//! checkerboard (transposed-convolution-like) pattern, over-smooth texture with little sensor
//! noise, and a small colour-balance shift. None of these moves the image's mean intensity.
//! `difficulty` in [0, 1] weakens the traces (1 = nearly invisible).

use std::path::{Path, PathBuf};

use deepfake_formats::Label;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::augment::item_rng;
use crate::error::{DataError, Result};

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

/// A float RGB canvas, values in [0, 255].
struct Canvas {
    size: usize,
    pixels: Vec<[f32; 3]>,
}

impl Canvas {
    fn to_image(&self) -> RgbImage {
        let s = self.size as u32;
        RgbImage::from_fn(s, s, |x, y| {
            let p = self.pixels[y as usize * self.size + x as usize];
            image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }
}

/// Smooth 1/f-like noise in about [-1, 1]: octaves of bilinearly interpolated random grids,
/// amplitude halving as frequency doubles.
fn fractal_noise(size: usize, base_cells: usize, octaves: usize, rng: &mut impl Rng) -> Vec<f32> {
    let mut out = vec![0.0f32; size * size];
    let mut amplitude = 1.0f32;
    let mut cells = base_cells.max(1);
    for _ in 0..octaves {
        let grid: Vec<f32> = (0..(cells + 1) * (cells + 1))
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        for y in 0..size {
            let gy = y as f32 / size as f32 * cells as f32;
            let (y0, ty) = (gy.floor() as usize, gy.fract());
            for x in 0..size {
                let gx = x as f32 / size as f32 * cells as f32;
                let (x0, tx) = (gx.floor() as usize, gx.fract());
                let at = |i: usize, j: usize| grid[j * (cells + 1) + i];
                let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
                let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
                out[y * size + x] += amplitude * (top * (1.0 - ty) + bottom * ty);
            }
        }
        amplitude *= 0.5;
        cells *= 2;
    }
    out
}

fn random_colour(rng: &mut impl Rng, low: f32, high: f32) -> [f32; 3] {
    [0, 1, 2].map(|_| rng.random_range(low..high))
}

/// Renders one face-like scene ("real" content).
fn render_scene(size: usize, rng: &mut impl Rng) -> Canvas {
    let s = size as f32;
    let bg_a = random_colour(rng, 20.0, 230.0);
    let bg_b = random_colour(rng, 20.0, 230.0);
    let bg_noise = fractal_noise(size, 2, 4, rng);
    let skin_base = {
        let tone = rng.random_range(0.25f32..1.0);
        [
            90.0 + 150.0 * tone,
            55.0 + 135.0 * tone,
            40.0 + 120.0 * tone,
        ]
    };
    let hair = random_colour(rng, 10.0, 160.0);
    let skin_noise = fractal_noise(size, 4, 5, rng);
    let (cx, cy) = (
        s * rng.random_range(0.42..0.58),
        s * rng.random_range(0.47..0.60),
    );
    let (rx, ry) = (
        s * rng.random_range(0.24..0.32),
        s * rng.random_range(0.32..0.40),
    );
    let pose = rng.random_range(-0.35f32..0.35);
    let (sin, cos) = pose.sin_cos();
    let light = rng.random_range(0.0f32..std::f32::consts::TAU);
    let (lx, ly) = (light.cos(), light.sin());
    let hair_line = rng.random_range(-0.55f32..-0.25);
    let eye_dx = rng.random_range(0.30f32..0.42);
    let eye_y = rng.random_range(-0.25f32..-0.10);
    let eye_r = rng.random_range(0.08f32..0.13);
    let iris = random_colour(rng, 20.0, 120.0);
    let mouth_y = rng.random_range(0.40f32..0.55);
    let mouth_w = rng.random_range(0.25f32..0.45);
    let lips = [
        rng.random_range(120.0f32..200.0),
        rng.random_range(40.0..90.0),
        rng.random_range(50.0..100.0),
    ];
    let mut pixels = Vec::with_capacity(size * size);
    for y in 0..size {
        for x in 0..size {
            let i = y * size + x;
            let t = (x + y) as f32 / (2.0 * s);
            let n = bg_noise[i] * 25.0;
            let mut p = [0, 1, 2].map(|c| bg_a[c] * (1.0 - t) + bg_b[c] * t + n);
            // Face coordinates: unit circle = head outline, rotated by the pose.
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let u = (cos * dx + sin * dy) / rx;
            let v = (-sin * dx + cos * dy) / ry;
            let r2 = u * u + v * v;
            if r2 < 1.0 {
                let z = (1.0 - r2).sqrt();
                let shade = 0.55 + 0.45 * (z * 0.7 + 0.3 * (u * lx + v * ly)).clamp(0.0, 1.0);
                let texture = 1.0 + 0.06 * skin_noise[i];
                p = skin_base.map(|c| c * shade * texture);
                let eye = |side: f32| {
                    let (ex, ey) = ((u - side * eye_dx) / eye_r, (v - eye_y) / (eye_r * 0.6));
                    ex * ex + ey * ey
                };
                for side in [-1.0, 1.0] {
                    let e = eye(side);
                    if e < 1.0 {
                        p = [235.0, 232.0, 225.0].map(|c| c * shade);
                        if e < 0.35 {
                            p = iris.map(|c| c * shade);
                        }
                        if e < 0.08 {
                            p = [12.0, 10.0, 10.0];
                        }
                    }
                }
                let (mx, my) = (u / mouth_w, (v - mouth_y) / 0.06);
                if mx * mx + my * my < 1.0 {
                    p = lips.map(|c| c * shade);
                }
            }
            // Hair: a band over the top of the head.
            if r2 < 1.25 && v < hair_line + 0.15 * (u * 6.0).sin() * 0.3 {
                let texture = 1.0 + 0.25 * skin_noise[(i * 7) % (size * size)];
                p = hair.map(|c| c * texture);
            }
            pixels.push(p);
        }
    }
    Canvas { size, pixels }
}

/// Sensor noise of standard deviation `sigma` levels.
fn add_noise(canvas: &mut Canvas, sigma: f32, rng: &mut impl Rng) {
    if sigma <= 0.0 {
        return;
    }
    let normal = Normal::new(0.0f32, sigma).unwrap_or_else(|_| Normal::new(0.0, 1.0).unwrap());
    for p in &mut canvas.pixels {
        for c in p.iter_mut() {
            *c += normal.sample(rng);
        }
    }
}

/// The generator traces: average-pool by `k`, upsample back by repetition with a zero-mean
/// checkerboard modulation (the footprint of a stride-2 transposed convolution), and a
/// colour-balance shift that keeps luma.
fn add_generator_traces(canvas: &mut Canvas, strength: f32, rng: &mut impl Rng) {
    let size = canvas.size;
    let k = (size / 32).max(1);
    let cell = 2 * k;
    let mut out = canvas.pixels.clone();
    for by in (0..size).step_by(k) {
        for bx in (0..size).step_by(k) {
            let mut mean = [0.0f32; 3];
            let mut count = 0.0;
            for y in by..(by + k).min(size) {
                for x in bx..(bx + k).min(size) {
                    let p = canvas.pixels[y * size + x];
                    for c in 0..3 {
                        mean[c] += p[c];
                    }
                    count += 1.0;
                }
            }
            for y in by..(by + k).min(size) {
                for x in bx..(bx + k).min(size) {
                    // +1 / -1 in a period-`cell` checkerboard.
                    let sign = if ((x % cell) < k) ^ ((y % cell) < k) {
                        1.0
                    } else {
                        -1.0
                    };
                    out[y * size + x] = mean.map(|m| m / count * (1.0 + sign * 0.06 * strength));
                }
            }
        }
    }
    let shift = rng.random_range(-0.04f32..0.04) * strength;
    for p in &mut out {
        // Raise red, lower blue by luma-neutral amounts (0.299 r + 0.114 b unchanged).
        let dr = p[0] * shift;
        p[0] += dr;
        p[2] -= dr * 0.299 / 0.114;
    }
    canvas.pixels = out;
}

/// Where the fake traces of an image are: a square patch, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRegion {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Side.
    pub side: u32,
}

impl TraceRegion {
    /// Whether pixel `(x, y)` is inside.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        (self.x..self.x + self.side).contains(&x) && (self.y..self.y + self.side).contains(&y)
    }
}

/// File at the data set's root listing each fake image's [`TraceRegion`] when the traces
/// are confined (`path,x,y,side`, paths as in the split CSVs).
pub const REGIONS_FILE: &str = "regions.csv";

/// Renders image `index` of class `label` (deterministic in `seed`, `label`, `index`).
pub fn render(label: Label, index: u64, config: &SynthConfig) -> RgbImage {
    render_with_region(label, index, config).0
}

/// [`render`], with where the fake traces are when `config.trace_region` confines them.
pub fn render_with_region(
    label: Label,
    index: u64,
    config: &SynthConfig,
) -> (RgbImage, Option<TraceRegion>) {
    let mut rng = item_rng(config.seed, label.index() as u64, index);
    let size = config.size.max(16) as usize;
    let mut canvas = render_scene(size, &mut rng);
    let strength = (1.0 - config.difficulty.clamp(0.0, 1.0)) as f32;
    let mut region = None;
    match label {
        Label::Real => add_noise(&mut canvas, rng.random_range(2.0..5.0), &mut rng),
        Label::Fake => {
            let original = canvas.pixels.clone();
            add_generator_traces(&mut canvas, 0.25 + 0.75 * strength, &mut rng);
            let real_sigma = rng.random_range(2.0f32..5.0);
            let sigma = real_sigma * (1.0 - 0.8 * (0.25 + 0.75 * strength));
            add_noise(&mut canvas, sigma, &mut rng);
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
                add_noise(&mut real, real_sigma, &mut rng);
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

/// The trace regions of a data set written with `trace_region` (`root/regions.csv`), by
/// path as in the split CSVs (`test/fake/02000000.jpg`).
pub fn read_regions(root: &Path) -> Result<std::collections::HashMap<String, TraceRegion>> {
    let path = root.join(REGIONS_FILE);
    deepfake_formats::check_file_size(&path, deepfake_formats::MAX_CSV_BYTES, "regions CSV")?;
    let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
        path: path.clone(),
        source,
    })?;
    let mut regions = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let bad = || {
            DataError::InvalidParameter(format!(
                "{}:{}: expected path,x,y,side",
                path.display(),
                n + 1
            ))
        };
        let mut fields = line.split(',');
        let name = fields.next().ok_or_else(bad)?.to_string();
        let mut number = || -> Result<u32> {
            fields
                .next()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(bad)
        };
        let region = TraceRegion {
            x: number()?,
            y: number()?,
            side: number()?,
        };
        regions.insert(name, region);
    }
    Ok(regions)
}

/// Writes the data set into `out` in the 140k layout: `train.csv`, `valid.csv`, `test.csv`
/// (columns `,original_path,id,label,label_str,path`, `label` 1 = real as in the original)
/// and `real_vs_fake/real-vs-fake/{split}/{real,fake}/NNNNN.jpg`. Returns the files written.
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
            std::fs::create_dir_all(&dir).map_err(|source| DataError::Io {
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
        let csv_path = out.join(format!("{split}.csv"));
        std::fs::write(&csv_path, csv).map_err(|source| DataError::Io {
            path: csv_path,
            source,
        })?;
        written += rows.len();
    }
    if config.trace_region.is_some() {
        let path = out.join(REGIONS_FILE);
        std::fs::write(&path, regions).map_err(|source| DataError::Io { path, source })?;
    }
    // Marks the folder as synthetic, so reports can say so.
    let marker = out.join(SYNTHETIC_MARKER);
    let json = serde_json::to_string_pretty(config)
        .map_err(|e| DataError::InvalidParameter(format!("encoding {SYNTHETIC_MARKER}: {e}")))?;
    std::fs::write(&marker, json).map_err(|source| DataError::Io {
        path: marker,
        source,
    })?;
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
    std::fs::write(path, bytes).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}
