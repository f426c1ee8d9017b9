//! Videos through ffmpeg: the frames sampled are the ones ffmpeg alone decodes at
//! `sample_frame_indices`' positions (an MP4 with a frame count in its header, a Matroska file
//! without one, a video shorter than the sequence, a truncated one), phone rotation is applied,
//! every limit refuses just past its value, and bad files are errors naming them; then the
//! parsers of ffprobe's JSON and ffmpeg's PPM stream on their edge cases, and which file names
//! are videos. The clips are made here with `ffmpeg -f lavfi` (none are committed); `.ci/run`
//! installs ffmpeg.

use std::path::{Path, PathBuf};
use std::process::Command;

use deepfake_data::error::DataError;
use deepfake_data::sequence::sample_frame_indices;
use deepfake_data::video::{
    SampledVideo, VideoLimits, is_video_file, parse_probe, sample_frames, split_ppm_frames,
};
use image::RgbImage;

/// Runs the `ffmpeg` binary quietly with `args`, failing the test with its error output.
fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin"])
        .args(args)
        .output()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(
        output.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `dir/name`: lavfi's moving test pattern, `seconds` long at `rate` frames/s, 320x240.
fn test_clip(dir: &Path, name: &str, rate: u32, seconds: u32) -> PathBuf {
    let path = dir.join(name);
    let source = format!("testsrc2=size=320x240:rate={rate}:duration={seconds}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

/// Every frame of `clip` that ffmpeg alone decodes (PNG, RGB), in order.
fn every_frame(clip: &Path) -> Vec<RgbImage> {
    let frames = clip.with_extension("frames");
    std::fs::create_dir_all(&frames).unwrap();
    // A truncated file makes ffmpeg report an error after its last whole frame.
    let _ = Command::new("ffmpeg")
        .args(["-v", "quiet", "-y", "-nostdin", "-i"])
        .arg(clip)
        .args(["-fps_mode", "passthrough"])
        .arg(frames.join("%04d.png"))
        .status()
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| image::open(f).unwrap().to_rgb8())
        .collect()
}

/// Asserts that `indices` are `expected` and each frame is ffmpeg's own decode of its index,
/// not of the next one (the pattern moves, so a frame off by one would not match).
fn assert_frames_at(sampled: &SampledVideo, expected: &[u64], reference: &[RgbImage]) {
    assert_eq!(sampled.indices, expected);
    assert_eq!(sampled.frames.len(), expected.len());
    for (&index, frame) in sampled.indices.iter().zip(&sampled.frames) {
        let index = index as usize;
        assert!(
            frame == &reference[index],
            "frame {index} differs from ffmpeg's own decode"
        );
        if let Some(next) = reference.get(index + 1) {
            assert!(frame != next, "frames {index} and {} are equal", index + 1);
        }
    }
}

/// `sample_frame_indices(frames, t)` as stream indices.
fn even_indices(frames: usize, t: usize) -> Vec<u64> {
    sample_frame_indices(frames, t)
        .into_iter()
        .map(|i| i as u64)
        .collect()
}

#[test]
fn sampled_frames_are_the_frames_ffmpeg_decodes_at_the_even_indices() {
    let dir = tempfile::tempdir().unwrap();
    let clip = test_clip(dir.path(), "testsrc2.mp4", 25, 2);
    let reference = every_frame(&clip);
    assert_eq!(reference.len(), 50);
    let sampled = sample_frames(&clip, 8, VideoLimits::default()).unwrap();
    assert_eq!(sampled.info.frames, 50);
    assert_eq!((sampled.info.width, sampled.info.height), (320, 240));
    assert_eq!(sampled.info.fps, 25.0);
    assert_eq!(sampled.info.seconds, 2.0);
    assert_frames_at(&sampled, &even_indices(50, 8), &reference);
}

#[test]
fn a_matroska_file_counts_its_frames_from_duration_and_rate() {
    // Matroska headers carry neither a frame count nor a stream duration (ffprobe reports
    // only the container's 2.000000 s): 2 s x 25 frames/s.
    let dir = tempfile::tempdir().unwrap();
    let clip = test_clip(dir.path(), "testsrc2.mkv", 25, 2);
    let reference = every_frame(&clip);
    assert_eq!(reference.len(), 50);
    let sampled = sample_frames(&clip, 5, VideoLimits::default()).unwrap();
    assert_eq!(sampled.info.frames, 50);
    assert_eq!(sampled.info.seconds, 2.0);
    assert_frames_at(&sampled, &even_indices(50, 5), &reference);
}

#[test]
fn a_video_shorter_than_the_sequence_gives_each_frame_once() {
    let dir = tempfile::tempdir().unwrap();
    let clip = test_clip(dir.path(), "short.mp4", 5, 1);
    let reference = every_frame(&clip);
    assert_eq!(reference.len(), 5);
    // 8 evenly spaced positions over 5 frames repeat some: [0, 0, 1, 2, 2, 3, 4, 4].
    assert_eq!(even_indices(5, 8), [0, 0, 1, 2, 2, 3, 4, 4]);
    let sampled = sample_frames(&clip, 8, VideoLimits::default()).unwrap();
    assert_frames_at(&sampled, &[0, 1, 2, 3, 4], &reference);
    // T = 0 is taken as 1: the middle frame.
    let one = sample_frames(&clip, 0, VideoLimits::default()).unwrap();
    assert_frames_at(&one, &[2], &reference);
}

#[test]
fn a_truncated_video_gives_the_frames_that_decode() {
    // Half a Matroska file: its header still promises 2 s (50 frames), 22 decode.
    let dir = tempfile::tempdir().unwrap();
    let whole = test_clip(dir.path(), "whole.mkv", 25, 2);
    let bytes = std::fs::read(&whole).unwrap();
    let clip = dir.path().join("half.mkv");
    std::fs::write(&clip, &bytes[..bytes.len() / 2]).unwrap();
    let reference = every_frame(&clip);
    assert!(
        (10..40).contains(&reference.len()),
        "{} frames decode",
        reference.len()
    );
    let sampled = sample_frames(&clip, 8, VideoLimits::default()).unwrap();
    assert_eq!(sampled.info.frames, 50);
    let decodable: Vec<u64> = even_indices(50, 8)
        .into_iter()
        .filter(|&i| (i as usize) < reference.len())
        .collect();
    assert!(decodable.len() >= 2 && decodable.len() < 8, "{decodable:?}");
    assert_frames_at(&sampled, &decodable, &reference);
}

#[test]
fn a_rotated_phone_video_comes_upright() {
    let dir = tempfile::tempdir().unwrap();
    let upright = test_clip(dir.path(), "upright.mp4", 25, 2);
    // As a phone records portrait video: landscape frames and a 90 degree display rotation.
    let clip = dir.path().join("rotated.mp4");
    ffmpeg(&[
        "-i",
        upright.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        clip.to_str().unwrap(),
    ]);
    let sampled = sample_frames(&clip, 2, VideoLimits::default()).unwrap();
    assert_eq!(sampled.frames[0].dimensions(), (240, 320));
}

/// The limit message of `sample_frames(clip, 4, limits)`, or `None` when it is accepted.
fn refusal(clip: &Path, limits: VideoLimits) -> Option<String> {
    match sample_frames(clip, 4, limits) {
        Ok(_) => None,
        Err(DataError::VideoLimit { path, what }) => {
            assert_eq!(path, clip);
            Some(what)
        }
        Err(other) => panic!("not a limit error: {other}"),
    }
}

#[test]
fn each_limit_refuses_just_past_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let clip = test_clip(dir.path(), "testsrc2.mp4", 25, 2);
    let at = VideoLimits {
        max_seconds: 2.0,
        max_frames: 50,
        max_pixels: 320 * 240,
    };
    assert_eq!(refusal(&clip, at), None, "a video exactly at every limit");
    let seconds = refusal(
        &clip,
        VideoLimits {
            max_seconds: 1.5,
            ..at
        },
    )
    .unwrap();
    assert_eq!(seconds, "2.0 s long, over the limit of 1.5 s");
    let frames = refusal(
        &clip,
        VideoLimits {
            max_frames: 49,
            ..at
        },
    )
    .unwrap();
    assert_eq!(frames, "50 frames, over the limit of 49");
    let pixels = refusal(
        &clip,
        VideoLimits {
            max_pixels: 320 * 240 - 1,
            ..at
        },
    )
    .unwrap();
    assert_eq!(
        pixels,
        "320x240 frames = 76800 pixels, over the limit of 76799"
    );
    // The defaults: an hour, an hour at 60 frames/s, 8K UHD.
    let default = VideoLimits::default();
    assert_eq!(default.max_seconds, 3600.0);
    assert_eq!(default.max_frames, 216_000);
    assert_eq!(default.max_pixels, 33_177_600);
}

/// The reason of `sample_frames`' `DataError::Video` for `path`.
fn video_error(path: &Path) -> String {
    match sample_frames(path, 4, VideoLimits::default()) {
        Err(DataError::Video {
            path: named,
            reason,
        }) => {
            assert_eq!(named, path);
            reason
        }
        Err(other) => panic!("not a video error: {other}"),
        Ok(sampled) => panic!("{} decoded {} frames", path.display(), sampled.frames.len()),
    }
}

#[test]
fn bad_videos_are_errors_that_name_them_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mp4");
    assert_eq!(video_error(&missing), "no such file");
    let text = dir.path().join("text.mp4");
    std::fs::write(&text, b"not a video at all, just text with an .mp4 name").unwrap();
    let reason = video_error(&text);
    assert!(
        reason.starts_with("not a video ffprobe can read: "),
        "{reason}"
    );
    assert!(
        reason.contains("Invalid data"),
        "ffprobe's own last line: {reason}"
    );
    let empty = dir.path().join("empty.mkv");
    std::fs::write(&empty, b"").unwrap();
    assert!(video_error(&empty).starts_with("not a video ffprobe can read"));
}

#[test]
fn ffprobe_output_gives_size_frames_duration_and_rate() {
    // As ffprobe prints an MP4 (frame count in the header) and a Matroska file (neither a
    // frame count nor a stream duration: the container's duration x the rate).
    let mp4 = br#"{"streams":[{"width":320,"height":240,"avg_frame_rate":"25/1",
        "duration":"2.000000","nb_frames":"50"}],"format":{"duration":"2.040000"}}"#;
    let info = parse_probe(mp4).unwrap();
    assert_eq!((info.width, info.height, info.frames), (320, 240, 50));
    assert_eq!((info.seconds, info.fps), (2.0, 25.0));
    // The header's count wins over duration x rate (a phone's variable frame rate).
    let phone = br#"{"streams":[{"width":1080,"height":1920,"avg_frame_rate":"30/1",
        "duration":"60.012000","nb_frames":"1798"}]}"#;
    assert_eq!(parse_probe(phone).unwrap().frames, 1798);
    let mkv = br#"{"streams":[{"width":64,"height":48,"avg_frame_rate":"30000/1001"}],
        "format":{"duration":"10.010000"}}"#;
    let info = parse_probe(mkv).unwrap();
    assert_eq!(info.seconds, 10.01);
    assert_eq!(info.frames, 300, "10.01 s x 29.97 frames/s");
    // A header count of 0 is no count.
    let zero = br#"{"streams":[{"width":8,"height":8,"avg_frame_rate":"5/1","duration":"3",
        "nb_frames":"0"}]}"#;
    assert_eq!(parse_probe(zero).unwrap().frames, 15);
    // A stream duration of 0 is kept; one that is not a finite, non-negative number is no
    // duration, and the container's is used.
    let instant = br#"{"streams":[{"width":8,"height":8,"avg_frame_rate":"5/1","duration":"0",
        "nb_frames":"3"}],"format":{"duration":"4.5"}}"#;
    assert_eq!(parse_probe(instant).unwrap().seconds, 0.0);
    for duration in ["N/A", "-2", "-1", "inf", "NaN", ""] {
        let json = format!(
            r#"{{"streams":[{{"width":8,"height":8,"avg_frame_rate":"5/1","duration":"{duration}"}}],
            "format":{{"duration":"4.5"}}}}"#
        );
        let info = parse_probe(json.as_bytes()).unwrap();
        assert_eq!(
            (info.seconds, info.frames),
            (4.5, 23),
            "stream duration {duration}"
        );
    }
}

#[test]
fn ffprobe_output_without_a_usable_stream_is_refused() {
    let refused = |json: &[u8]| parse_probe(json).unwrap_err();
    assert!(refused(b"Invalid data").starts_with("unexpected ffprobe output"));
    assert_eq!(refused(br#"{"streams":[]}"#), "no video stream");
    assert_eq!(
        refused(br#"{"streams":[{"height":8,"nb_frames":"3"}]}"#),
        "the video stream has no frame size"
    );
    let no_count = "no frames: the header gives neither a frame count nor a duration and rate";
    assert_eq!(
        refused(br#"{"streams":[{"width":8,"height":8,"avg_frame_rate":"25/1"}]}"#),
        no_count
    );
    // Rates with a zero or negative side, or no number, are no rate.
    for rate in ["0/0", "25/0", "0/1", "-25/1", "25/-1", "fast", "x/1"] {
        let json = format!(
            r#"{{"streams":[{{"width":8,"height":8,"avg_frame_rate":"{rate}","duration":"2"}}]}}"#
        );
        assert_eq!(refused(json.as_bytes()), no_count, "rate {rate}");
    }
}

#[test]
fn ppm_streams_split_at_their_headers_and_refuse_what_is_not_rgb8() {
    let mut bytes = b"P6\n2 1\n255\n".to_vec();
    bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
    bytes.extend_from_slice(b"P6 1 1 255\n");
    bytes.extend_from_slice(&[7, 8, 9]);
    let whole = bytes.clone();
    // A last frame cut short (ffmpeg stopped mid-frame) is dropped.
    bytes.extend_from_slice(b"P6\n2 2\n255\n");
    bytes.extend_from_slice(&[0; 5]);
    let frames = split_ppm_frames(&bytes, 4).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(
        (frames[0].dimensions(), frames[0].as_raw().as_slice()),
        ((2, 1), &[1, 2, 3, 4, 5, 6][..])
    );
    assert_eq!(
        (frames[1].dimensions(), frames[1].as_raw().as_slice()),
        ((1, 1), &[7, 8, 9][..])
    );
    // A frame of exactly the pixel limit passes; one more pixel does not.
    assert_eq!(split_ppm_frames(&whole, 2).unwrap().len(), 2);
    assert_eq!(
        split_ppm_frames(&whole, 1).unwrap_err(),
        "a 2x1 frame, over the pixel limit"
    );
    // A header cut short, at its end or within it.
    for cut in [&b"P6\n2 1\n"[..], b"P6\n2", b"P6"] {
        assert_eq!(
            split_ppm_frames(cut, 100).unwrap_err(),
            "a truncated frame header from ffmpeg",
            "{cut:?}"
        );
    }
    assert!(split_ppm_frames(b"P5\n1 1\n255\n\0", 100).is_err(), "grey");
    assert!(
        split_ppm_frames(b"P6\n1 1\n65535\n\0\0\0\0\0\0", 100).is_err(),
        "16-bit"
    );
    assert!(
        split_ppm_frames(b"P6\n1 x\n255\n\0\0\0", 100).is_err(),
        "not a number"
    );
    assert!(split_ppm_frames(b"", 100).unwrap().is_empty());
}

#[test]
fn videos_are_known_by_their_extension_in_any_case() {
    for name in [
        "a.mp4", "b.MOV", "c.Mkv", "d.webm", "e.avi", "f.m4v", "g.mpg", "h.mpeg", "i.wmv",
    ] {
        assert!(is_video_file(Path::new(name)), "{name}");
    }
    for name in ["a.png", "b.jpg", "mp4", "c.mp4.txt", "d"] {
        assert!(!is_video_file(Path::new(name)), "{name}");
    }
}
