//! `deepfake predict`: score images, folders or frame sequences with a trained detector.
//!
//! `deepfake predict [--checkpoint DIR] PATH...` (`-` reads paths from stdin). Exit status:
//! 0 all inputs scored, 1 some inputs failed, 2 usage, model or device error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepfake::data::DecodeLimits;
use deepfake::data::video::{VideoLimits, is_video_file};
use deepfake::eval::Checkpoint;
use deepfake::formats::Label;
use deepfake::predict::{
    Detector, FaceMode, FaceRecord, FacesPrediction, NO_FACE, Prediction,
    PredictionRecord as Record, Preprocessed, Result as DeepfakeResult, SavedModel, expand_inputs,
};
use image::RgbImage;
use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::faces_flag::FacesFlag;
use crate::predict_output::{Format, write_records};
use crate::{DeviceFlag, VerifyFlag, progress};

/// Score images with the deepfake detector: Real or Fake, P(fake) and confidence per input.
#[derive(Parser)]
#[command(name = "predict")]
pub struct Args {
    /// Files, folders (searched recursively; images found by content, videos by extension)
    /// or `-` for a list of paths on stdin. With --frames, each folder is one frame sequence.
    /// Videos (.mp4, .mov, .mkv, .webm, .avi, ...) are decoded with ffmpeg and scored as a
    /// sequence of --frames frames sampled evenly (16 unless given).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Saved model or training run [default: the newest run in runs/].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Decision threshold on P(fake) [default: the model's, 0.5 unless set].
    #[arg(long)]
    threshold: Option<f64>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Treat each folder as one clip and score it as a sequence of this many frames; also
    /// the frames sampled per video [videos: 16 unless given].
    #[arg(long, value_name = "T")]
    frames: Option<usize>,
    /// Refuse videos longer than this many seconds.
    #[arg(long, default_value_t = 3600.0)]
    max_video_seconds: f64,
    /// Refuse images larger than this many megapixels.
    #[arg(long, default_value_t = 64.0)]
    max_megapixels: f64,
    /// Add per-input timing to the records.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    verify: VerifyFlag,
    /// Also explain each verdict: write `<name>.heatmap.png` (the image with its Grad-CAM map
    /// of the Fake logit, a colour bar and P(fake)) into this folder, and add its path to the
    /// record. Explains whole images (--faces off); not with --frames.
    #[arg(long, value_name = "DIR")]
    heatmap: Option<PathBuf>,
    /// Faces in images and videos. `auto`: find the faces (MTCNN) and score each one's
    /// aligned crop, the image's verdict being its most suspicious face's; an image that
    /// already is one aligned face (like the training crops) is scored whole, and an image
    /// without a face gets a record saying so instead of a verdict. Videos: the largest face
    /// is tracked across the sampled frames. `only`: always crop, even aligned images. `off`:
    /// score whole images and frames. [default: auto; off for --frames folders and --heatmap]
    #[arg(long, value_enum, value_name = "MODE")]
    faces: Option<FacesFlag>,
    /// Write each scored face's aligned crop (256x256 PNG, `<name>.face<k>.png`) into this
    /// folder and add its path to the face's record.
    #[arg(long, value_name = "DIR")]
    save_crops: Option<PathBuf>,
}

impl Args {
    /// The face mode: `--faces`, or auto unless the inputs are explained (--heatmap) or
    /// folders of frames (--frames), which score whole images.
    fn face_mode(&self) -> FaceMode {
        match self.faces {
            Some(flag) => flag.into(),
            None if self.heatmap.is_some() => FaceMode::Off,
            None => FaceMode::Auto,
        }
    }
}

/// An input file and its position among the inputs (records come out in that order).
type Positioned<'a> = (usize, &'a PathBuf);

/// Frames sampled per video when --frames is not given.
const DEFAULT_VIDEO_FRAMES: usize = 16;

/// A bar for more than a few inputs.
fn progress(total: usize) -> Option<ProgressBar> {
    if total <= 8 {
        return None;
    }
    progress::bar(total, "scoring")
}

/// The time of `inputs` inputs scored together (one batch), per input, in milliseconds:
/// the `ms` of `--verbose` records.
fn ms_per_input(elapsed: Duration, inputs: usize) -> f64 {
    elapsed.as_secs_f64() * 1e3 / inputs.max(1) as f64
}

/// The output record of one input.
fn record(
    detector: &Detector,
    path: &Path,
    result: std::result::Result<Prediction, String>,
    ms: Option<f64>,
) -> Record {
    detector.record(path.display().to_string(), result, ms)
}

/// Scores everything; returns the records (in input order).
fn score(args: &Args, detector: &Detector) -> Result<Vec<Record>> {
    let mut stdin = std::io::stdin().lock();
    if let Some(frames) = args.frames {
        // Each folder is one clip; videos are sampled as without --frames.
        let (videos, clips): (Vec<Positioned>, Vec<Positioned>) = args
            .paths
            .iter()
            .enumerate()
            .partition(|(_, path)| path.is_file() && is_video_file(path));
        let mut records = score_videos(args, detector, &videos);
        let bar = progress(clips.len());
        for &(position, clip) in &clips {
            let start = Instant::now();
            let result = detector
                .predict_clip(clip, frames)
                .map_err(|e| e.to_string());
            let ms = args.verbose.then(|| ms_per_input(start.elapsed(), 1));
            records.push((position, record(detector, clip, result, ms)));
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        records.sort_by_key(|(position, _)| *position);
        return Ok(records.into_iter().map(|(_, record)| record).collect());
    }
    let inputs = expand_inputs(&args.paths, &mut stdin).context("reading the inputs")?;
    if let Some(dir) = &args.heatmap {
        return score_with_heatmaps(args, detector, &inputs.files, dir);
    }
    let (videos, images): (Vec<Positioned>, Vec<Positioned>) = inputs
        .files
        .iter()
        .enumerate()
        .partition(|(_, path)| is_video_file(path));
    let mut records = match args.face_mode() {
        FaceMode::Off => score_images(args, detector, &images),
        mode => score_images_for_faces(args, detector, &images, mode)?,
    };
    records.extend(score_videos(args, detector, &videos));
    // Back into the order the inputs were given.
    records.sort_by_key(|(position, _)| *position);
    Ok(records.into_iter().map(|(_, record)| record).collect())
}

/// Scores each video as a sequence of sampled frames, with the frames' own scores.
fn score_videos(args: &Args, detector: &Detector, videos: &[Positioned]) -> Vec<(usize, Record)> {
    let limits = VideoLimits {
        max_seconds: args.max_video_seconds,
        ..VideoLimits::default()
    };
    let frames = args.frames.unwrap_or(DEFAULT_VIDEO_FRAMES);
    let bar = progress(videos.len());
    let mut records = Vec::with_capacity(videos.len());
    for &(position, path) in videos {
        let start = Instant::now();
        let result = detector.predict_video(path, frames, limits, args.face_mode());
        let ms = args.verbose.then(|| ms_per_input(start.elapsed(), 1));
        let record = match result {
            Ok(video) => record(detector, path, Ok(video.prediction), ms).with_frames(video.frames),
            Err(e) => record(detector, path, Err(e.to_string()), ms),
        };
        records.push((position, record));
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    records
}

/// Scores images in batches; each record keeps the position of its input.
fn score_images(args: &Args, detector: &Detector, images: &[Positioned]) -> Vec<(usize, Record)> {
    let bar = progress(images.len());
    let mut records = Vec::with_capacity(images.len());
    // Chunks of a few batches keep the progress bar moving and memory bounded.
    for chunk in images.chunks(args.batch_size.max(1) * 4) {
        let paths: Vec<&Path> = chunk.iter().map(|(_, path)| path.as_path()).collect();
        let start = Instant::now();
        let results = detector.predict_paths(&paths);
        let ms = args
            .verbose
            .then(|| ms_per_input(start.elapsed(), chunk.len()));
        for (&(position, path), result) in chunk.iter().zip(results) {
            records.push((
                position,
                record(detector, path, result.map_err(|e| e.to_string()), ms),
            ));
        }
        if let Some(bar) = &bar {
            bar.inc(chunk.len() as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    records
}

/// Finds and scores the faces in each image: one record per image with its faces (and their
/// crops written into --save-crops), the verdict its most suspicious face's.
fn score_images_for_faces(
    args: &Args,
    detector: &Detector,
    images: &[Positioned],
    mode: FaceMode,
) -> Result<Vec<(usize, Record)>> {
    if let Some(dir) = &args.save_crops {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the crops folder {}", dir.display()))?;
    }
    let bar = progress(images.len());
    let mut used = HashSet::new();
    let mut records = Vec::with_capacity(images.len());
    for chunk in images.chunks(args.batch_size.max(1)) {
        let decoded: Vec<DeepfakeResult<RgbImage>> = chunk
            .par_iter()
            .map(|(_, path)| detector.decode_file(path))
            .collect();
        for (&(position, path), image) in chunk.iter().zip(decoded) {
            let start = Instant::now();
            let result = image.and_then(|image| detector.predict_faces(&image, mode));
            let ms = args.verbose.then(|| ms_per_input(start.elapsed(), 1));
            let record = match result {
                Ok(found) => faces_record(args, detector, path, found, ms, &mut used),
                Err(e) => record(detector, path, Err(e.to_string()), ms),
            };
            records.push((position, record));
        }
        if let Some(bar) = &bar {
            bar.inc(chunk.len() as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(records)
}

/// The record of an image's faces, writing their crops when asked (a crop that cannot be
/// written makes the record an error: nothing is reported as saved that is not).
fn faces_record(
    args: &Args,
    detector: &Detector,
    path: &Path,
    found: FacesPrediction,
    ms: Option<f64>,
    used: &mut HashSet<String>,
) -> Record {
    let Some(prediction) = found.prediction else {
        return Record::without_verdict(
            path.display().to_string(),
            NO_FACE,
            detector.threshold(),
            detector.temperature(),
            ms,
        )
        .with_faces(Vec::new());
    };
    let mut faces = Vec::with_capacity(found.faces.len());
    for (k, verdict) in found.faces.iter().enumerate() {
        let mut saved = None;
        if let (Some(dir), Some(crop)) = (&args.save_crops, &verdict.crop) {
            let out = dir.join(unique_name(path, &format!("face{}.png", k + 1), used));
            if let Err(e) = write_png(crop, &out) {
                return record(detector, path, Err(e), ms);
            }
            saved = Some(out.display().to_string());
        }
        faces.push(FaceRecord::new(verdict, saved));
    }
    record(detector, path, Ok(prediction), ms).with_faces(faces)
}

/// Encodes `image` as PNG and writes it atomically to `path`.
fn write_png(image: &RgbImage, path: &Path) -> std::result::Result<(), String> {
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| format!("encoding the face crop {}: {e}", path.display()))?;
    deepfake::formats::write_atomic(path, png.get_ref())
        .map_err(|e| format!("writing the face crop: {e}"))
}

/// Scores `files` through Grad-CAM (the same verdicts, with the map of the Fake logit) and
/// writes each scored input's heatmap into `dir`; an input that failed gets no heatmap.
fn score_with_heatmaps(
    args: &Args,
    detector: &Detector,
    files: &[PathBuf],
    dir: &Path,
) -> Result<Vec<Record>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the heatmap folder {}", dir.display()))?;
    let bar = progress(files.len());
    let mut used = HashSet::new();
    let mut records = Vec::with_capacity(files.len());
    for chunk in files.chunks(detector.batch_size()) {
        let start = Instant::now();
        let decoded: Vec<DeepfakeResult<(RgbImage, Preprocessed)>> = chunk
            .par_iter()
            .map(|path| {
                let image = detector.decode_file(path)?;
                let prepared = detector.prepare_image(&image)?;
                Ok((image, prepared))
            })
            .collect();
        let ready: Vec<Preprocessed> = decoded
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|(_, p)| p.clone()))
            .collect();
        let mut explanations = detector.explain_prepared(&ready, Label::Fake).into_iter();
        let per_image = args
            .verbose
            .then(|| ms_per_input(start.elapsed(), chunk.len()));
        for (path, item) in chunk.iter().zip(decoded) {
            let out = dir.join(unique_name(path, "heatmap.png", &mut used));
            let result = item.and_then(|(image, _)| {
                let explanation = explanations
                    .next()
                    .expect("explain_prepared gives one explanation per image");
                explanation.write_overlay(&image, &out)?;
                Ok(explanation.prediction)
            });
            let scored = result.is_ok();
            let record = record(detector, path, result.map_err(|e| e.to_string()), per_image);
            records.push(if scored {
                record.with_heatmap(out.display().to_string())
            } else {
                record
            });
        }
        if let Some(bar) = &bar {
            bar.inc(chunk.len() as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(records)
}

/// `<stem>.<suffix>` (e.g. `photo.heatmap.png`), with `-2`, `-3`, ... after the stem when
/// inputs in different folders share a stem.
fn unique_name(path: &Path, suffix: &str, used: &mut HashSet<String>) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "input".to_string(), |s| s.to_string_lossy().into_owned());
    let mut name = format!("{stem}.{suffix}");
    let mut n = 1;
    while !used.insert(name.clone()) {
        n += 1;
        name = format!("{stem}-{n}.{suffix}");
    }
    name
}

fn load_detector(args: &Args) -> Result<Detector> {
    if args.heatmap.is_some() && args.frames.is_some() {
        bail!("--heatmap explains images; it does not work with --frames");
    }
    if args.heatmap.is_some() && args.face_mode() != FaceMode::Off {
        bail!("--heatmap explains whole images; pass --faces off with it");
    }
    if args.save_crops.is_some() && args.face_mode() == FaceMode::Off {
        bail!("--save-crops writes the face crops of --faces auto or only, not of --faces off");
    }
    if args.max_megapixels.is_nan() || args.max_megapixels <= 0.0 {
        bail!("--max-megapixels must be positive");
    }
    if args.max_video_seconds.is_nan() || args.max_video_seconds <= 0.0 {
        bail!("--max-video-seconds must be positive");
    }
    if args.frames == Some(0) {
        bail!("--frames must be at least 1");
    }
    let device = args.device.device();
    let checkpoint = match &args.checkpoint {
        Some(path) => path.clone(),
        None => Checkpoint::newest_run(Path::new("runs"))?.model_dir,
    };
    let check = args.verify.check();
    let saved = SavedModel::open(&checkpoint, &device, check)
        .with_context(|| format!("loading the model from {}", checkpoint.display()))?;
    let mut detector = Detector::from_saved(saved, &device)
        .with_batch_size(args.batch_size)
        .with_decode_limits(DecodeLimits {
            max_pixels: (args.max_megapixels * 1024.0 * 1024.0) as u64,
        });
    if let Some(threshold) = args.threshold {
        detector = detector.with_threshold(threshold);
    }
    Ok(detector)
}

/// Scores every input and prints the records; the exit status says whether all were scored.
pub fn run(args: Args) -> ExitCode {
    let detector = match load_detector(&args) {
        Ok(detector) => detector,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let records = match score(&args, &detector) {
        Ok(records) => records,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = write_records(&mut stdout, &records, args.format) {
        eprintln!("error: writing the output: {e:#}");
        return ExitCode::from(2);
    }
    let failed = records.iter().filter(|r| r.error.is_some()).count();
    let count = |label: &str| {
        records
            .iter()
            .filter(|r| r.label.as_deref() == Some(label))
            .count()
    };
    let without_verdict = records.iter().filter(|r| r.note.is_some()).count();
    let noted = if without_verdict > 0 {
        format!(", {without_verdict} without a face")
    } else {
        String::new()
    };
    eprintln!(
        "{} inputs: {} fake, {} real{noted}, {} failed; {:.1} inputs/s",
        records.len(),
        count("fake"),
        count("real"),
        failed,
        records.len() as f64 / seconds.max(1e-9)
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ms_per_input;

    #[test]
    fn a_batch_time_is_shared_by_its_inputs_in_milliseconds() {
        assert_eq!(ms_per_input(Duration::from_micros(1_500), 1), 1.5);
        assert_eq!(ms_per_input(Duration::from_millis(300), 4), 75.0);
        assert_eq!(ms_per_input(Duration::from_millis(7), 0), 7.0);
    }
}
