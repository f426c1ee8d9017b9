//! Videos as frame sequences, decoded by the `ffmpeg` and `ffprobe` binaries run as
//! subprocesses (no libav build dependency; `apt-get install ffmpeg`): `ffprobe` reads the
//! first video stream's frame count and duration, [`sample_frame_indices`] picks `T` frames
//! evenly, and `ffmpeg` decodes just those, upright (phone videos' rotation applied), as PPM
//! images over a pipe.

use std::path::Path;
use std::process::{Command, Stdio};

use image::RgbImage;
use serde::Deserialize;

use crate::error::{DataError, Result};
use crate::sequence::sample_frame_indices;

/// File extensions taken as videos.
pub const VIDEO_EXTENSIONS: [&str; 9] = [
    "mp4", "m4v", "mov", "avi", "mkv", "webm", "mpg", "mpeg", "wmv",
];

/// Whether `path` names a video, by its extension.
pub fn is_video_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What a video may be before it is decoded: longer, more frames or larger frames are
/// refused with [`DataError::VideoLimit`], from `ffprobe`'s header values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoLimits {
    /// Longest duration, seconds (default 3600).
    pub max_seconds: f64,
    /// Most frames in the stream (default 216,000: an hour at 60 frames/s).
    pub max_frames: u64,
    /// Largest frame, pixels (default 33.2 million: 8K UHD).
    pub max_pixels: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        Self {
            max_seconds: 3600.0,
            max_frames: 216_000,
            max_pixels: 7680 * 4320,
        }
    }
}

/// The first video stream of a file, as `ffprobe` reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Coded frame width, pixels.
    pub width: u32,
    /// Coded frame height, pixels.
    pub height: u32,
    /// Frames in the stream (from the header, else duration x frame rate).
    pub frames: u64,
    /// Duration, seconds.
    pub seconds: f64,
    /// Average frame rate, frames per second.
    pub fps: f64,
}

/// Frames sampled from a video.
#[derive(Debug, Clone)]
pub struct SampledVideo {
    /// The stream as probed.
    pub info: VideoInfo,
    /// 0-based index in the stream of each decoded frame.
    pub indices: Vec<u64>,
    /// The frames, upright, in stream order.
    pub frames: Vec<RgbImage>,
}

/// Reads the first video stream's size, frame count and duration with `ffprobe`.
pub fn probe(path: &Path) -> Result<VideoInfo> {
    let error = |reason: String| video_error(path, reason);
    if !path.is_file() {
        return Err(error("no such file".into()));
    }
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg("stream=width,height,nb_frames,avg_frame_rate,duration:format=duration")
        .args(["-of", "json"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| tool_error(path, "ffprobe", e))?;
    if !output.status.success() {
        return Err(error(format!(
            "not a video ffprobe can read: {}",
            last_line(&output.stderr)
        )));
    }
    parse_probe(&output.stdout).map_err(error)
}

/// The stream's size, frame count and duration from `ffprobe -of json`'s output (the
/// first video stream; the container's duration when the stream has none; the frame count
/// from duration x rate when the header has none).
///
/// # Errors
/// A message for output that is not ffprobe's JSON, has no video stream or frame size, or
/// gives no way to count the frames.
pub fn parse_probe(json: &[u8]) -> std::result::Result<VideoInfo, String> {
    let probed: Probe =
        serde_json::from_slice(json).map_err(|e| format!("unexpected ffprobe output: {e}"))?;
    let Some(stream) = probed.streams.into_iter().next() else {
        return Err("no video stream".into());
    };
    let (Some(width), Some(height)) = (stream.width, stream.height) else {
        return Err("the video stream has no frame size".into());
    };
    let fps = stream
        .avg_frame_rate
        .as_deref()
        .and_then(parse_rate)
        .unwrap_or(0.0);
    let seconds = number(&stream.duration)
        .or_else(|| probed.format.as_ref().and_then(|f| number(&f.duration)))
        .unwrap_or(0.0);
    let frames = number(&stream.nb_frames)
        .map(|n| n as u64)
        .filter(|&n| n > 0)
        .unwrap_or_else(|| (seconds * fps).round().max(0.0) as u64);
    if frames == 0 {
        return Err(
            "no frames: the header gives neither a frame count nor a duration and rate".into(),
        );
    }
    Ok(VideoInfo {
        width,
        height,
        frames,
        seconds,
        fps,
    })
}

/// Decodes `t` frames spread evenly over the video (the centre of each of `t` equal segments,
/// as for frame folders), after checking `limits`. A video with fewer than `t` frames gives
/// each of its frames once; one whose header promises more frames than it holds (truncated)
/// gives the frames that decode; none at all is an error.
pub fn sample_frames(path: &Path, t: usize, limits: VideoLimits) -> Result<SampledVideo> {
    let info = probe(path)?;
    check_limits(path, &info, limits)?;
    let t = t.max(1);
    let mut indices: Vec<u64> =
        sample_frame_indices(usize::try_from(info.frames).unwrap_or(usize::MAX), t)
            .into_iter()
            .map(|i| i as u64)
            .collect();
    indices.dedup();
    let select = indices
        .iter()
        .map(|i| format!("eq(n\\,{i})"))
        .collect::<Vec<_>>()
        .join("+");
    // `output` reads stdout and stderr together: a video that makes ffmpeg print many errors
    // cannot fill the stderr pipe and stall it while we wait on stdout.
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-vf"])
        .arg(format!("select='{select}'"))
        .args(["-fps_mode", "passthrough", "-frames:v"])
        .arg(indices.len().to_string())
        .args(["-f", "image2pipe", "-c:v", "ppm", "pipe:1"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| tool_error(path, "ffmpeg", e))?;
    let frames = split_ppm_frames(&output.stdout, limits.max_pixels)
        .map_err(|reason| video_error(path, reason))?;
    if frames.is_empty() {
        return Err(video_error(
            path,
            format!(
                "no frame decoded (corrupt or truncated video): {}",
                last_line(&output.stderr)
            ),
        ));
    }
    indices.truncate(frames.len());
    Ok(SampledVideo {
        info,
        indices,
        frames,
    })
}

fn check_limits(path: &Path, info: &VideoInfo, limits: VideoLimits) -> Result<()> {
    let over = |what: String| {
        Err(DataError::VideoLimit {
            path: path.to_path_buf(),
            what,
        })
    };
    if info.seconds > limits.max_seconds {
        return over(format!(
            "{:.1} s long, over the limit of {:.1} s",
            info.seconds, limits.max_seconds
        ));
    }
    if info.frames > limits.max_frames {
        return over(format!(
            "{} frames, over the limit of {}",
            info.frames, limits.max_frames
        ));
    }
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > limits.max_pixels {
        return over(format!(
            "{}x{} frames = {pixels} pixels, over the limit of {}",
            info.width, info.height, limits.max_pixels
        ));
    }
    Ok(())
}

/// Splits ffmpeg's stream of binary PPM images (`P6\n<w> <h>\n255\n` then `w*h*3` bytes)
/// into frames; a last frame cut short is dropped.
///
/// # Errors
/// A message for a header that is not an 8-bit PPM's or a frame over `max_pixels`.
pub fn split_ppm_frames(
    mut bytes: &[u8],
    max_pixels: u64,
) -> std::result::Result<Vec<RgbImage>, String> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let mut fields = Vec::with_capacity(4);
        let mut at = 0;
        while fields.len() < 4 {
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            if start == at {
                return Err("a truncated frame header from ffmpeg".into());
            }
            fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        }
        at += 1; // the single whitespace byte after maxval
        let parse = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| format!("a bad frame header field {s:?}"))
        };
        if fields[0] != "P6" || parse(&fields[3])? != 255 {
            return Err(format!("not an 8-bit PPM frame from ffmpeg: {fields:?}"));
        }
        let (width, height) = (parse(&fields[1])?, parse(&fields[2])?);
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(format!("a {width}x{height} frame, over the pixel limit"));
        }
        let size = width as usize * height as usize * 3;
        let Some(pixels) = bytes.get(at..at + size) else {
            // The last frame was cut short: keep the whole ones.
            break;
        };
        let frame = RgbImage::from_raw(width, height, pixels.to_vec())
            .ok_or_else(|| "a frame of the wrong size".to_string())?;
        frames.push(frame);
        bytes = &bytes[at + size..];
    }
    Ok(frames)
}

/// The error for a tool that could not be started: not installed, or not runnable.
fn tool_error(path: &Path, tool: &str, e: std::io::Error) -> DataError {
    let reason = if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "{tool} not found: videos are decoded by the ffmpeg tools; install them (apt-get install ffmpeg)"
        )
    } else {
        format!("cannot run {tool}: {e}")
    };
    video_error(path, reason)
}

fn video_error(path: &Path, reason: String) -> DataError {
    DataError::Video {
        path: path.to_path_buf(),
        reason,
    }
}

fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no message)")
        .trim()
        .to_string()
}

/// `"30000/1001"` or `"25"` as frames per second.
fn parse_rate(text: &str) -> Option<f64> {
    let (num, den) = text.split_once('/').unwrap_or((text, "1"));
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    (den > 0.0 && num > 0.0).then(|| num / den)
}

fn number(text: &Option<String>) -> Option<f64> {
    text.as_deref()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    width: Option<u32>,
    height: Option<u32>,
    nb_frames: Option<String>,
    avg_frame_rate: Option<String>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_parse() {
        assert_eq!(parse_rate("25"), Some(25.0));
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 1e-2);
        // A zero rate is no rate. `parse_probe` counts 0 frames per second the same as no rate,
        // so only here can the two differ; the other refused rates are tested through it.
        for no_rate in ["0/0", "0/1", "0"] {
            assert_eq!(parse_rate(no_rate), None, "{no_rate}");
        }
    }

    #[test]
    fn a_missing_tool_is_named_with_its_install_command() {
        let path = Path::new("clip.mp4");
        let reason = |kind| match tool_error(path, "ffprobe", std::io::Error::from(kind)) {
            DataError::Video { path, reason } => {
                assert_eq!(path, Path::new("clip.mp4"));
                reason
            }
            other => panic!("{other}"),
        };
        assert_eq!(
            reason(std::io::ErrorKind::NotFound),
            "ffprobe not found: videos are decoded by the ffmpeg tools; install them (apt-get install ffmpeg)"
        );
        assert!(reason(std::io::ErrorKind::PermissionDenied).starts_with("cannot run ffprobe: "));
    }

    #[test]
    fn the_last_line_of_a_tool_message_is_its_last_non_blank_one() {
        assert_eq!(last_line(b"first\n  second line  \n\n \n"), "second line");
        assert_eq!(last_line(b"only"), "only");
        assert_eq!(last_line(b"\n \n"), "(no message)");
    }
}
