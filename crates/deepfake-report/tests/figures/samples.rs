//! The sample grid: the most confident errors first, then correct predictions spread over
//! the rest; each thumbnail framed green (right) or red (wrong) with its three lines.

use std::path::Path;

use deepfake_metrics::Scored;
use deepfake_report::figures::SampleGrid;
use image::{Rgb, RgbImage};

use crate::svg::{self, Svg};

/// Ten images: 0-2 wrong (a real scored 0.9, a fake scored 0.3, a real scored 0.6:
/// confidences 90%, 70%, 60%), 3-9 right.
fn scored_images(dir: &Path) -> (Scored, Vec<String>) {
    let labels = vec![
        false, true, false, true, false, true, false, true, false, true,
    ];
    let scores = vec![0.9, 0.3, 0.6, 0.8, 0.1, 0.95, 0.2, 0.7, 0.4, 0.85];
    let names = (0..10)
        .map(|i| {
            let path = dir.join(format!("img_{i}.png"));
            RgbImage::from_pixel(40, 30, Rgb([20 * i as u8, 90, 160]))
                .save(&path)
                .expect("image written");
            path.to_string_lossy().into_owned()
        })
        .collect();
    (Scored::new(labels, scores).expect("scores"), names)
}

/// The three lines under the tile at `origin` (the thumbnail's top-left corner).
fn lines_at(figure: &Svg, origin: (f64, f64)) -> Vec<String> {
    (0..3)
        .map(|k| {
            let (x, y) = (origin.0 + 64.0, origin.1 + 128.0 + 18.0 + 16.0 * k as f64);
            figure
                .texts
                .iter()
                .find(|t| t.x == x && t.y == y)
                .unwrap_or_else(|| panic!("no line {k} at ({x}, {y})"))
                .text
                .clone()
        })
        .collect()
}

#[test]
fn the_grid_shows_the_most_confident_errors_then_spread_correct_ones() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (scored, names) = scored_images(dir.path());
    // Of 4 tiles, half at most are errors: the 90% and 70% ones; then 2 of the 7 correct
    // (indices 3..=9), every 3.5th: the 1st and the 4th (images 3 and 6).
    let grid = SampleGrid::load(&scored, &names, 0.5, 4);
    let rendered = grid.write(dir.path()).expect("written");
    let figure = svg::parse(&rendered.svg_text);
    assert!(rendered.title.starts_with("Sample predictions (4 shown;"));
    let expected = [
        (
            "true Real · img_0.png",
            "pred Fake ✗",
            "confidence 90.0%",
            "#d64541",
        ),
        (
            "true Fake · img_1.png",
            "pred Real ✗",
            "confidence 70.0%",
            "#d64541",
        ),
        (
            "true Fake · img_3.png",
            "pred Fake ✓",
            "confidence 80.0%",
            "#2e8b57",
        ),
        (
            "true Real · img_6.png",
            "pred Real ✓",
            "confidence 80.0%",
            "#2e8b57",
        ),
    ];
    assert_eq!(figure.images.len(), 4, "{:?}", figure.images);
    for (i, (truth, predicted, confidence, colour)) in expected.into_iter().enumerate() {
        // Four 160-pixel columns; thumbnails 128 wide, centred, 8 from the top.
        let origin = (160.0 * i as f64 + 16.0, 8.0);
        let image = &figure.images[i];
        assert_eq!(
            (image.x, image.y, image.width, image.height),
            (origin.0, origin.1, 128.0, 128.0)
        );
        assert_eq!(lines_at(&figure, origin), [truth, predicted, confidence]);
        let frame = figure
            .rects
            .iter()
            .find(|r| r.x == origin.0 - 2.0 && r.y == origin.1 - 2.0)
            .expect("a frame");
        assert_eq!(
            (frame.width, frame.height, frame.stroke.as_str()),
            (131.0, 131.0, colour)
        );
    }
    let size = figure.rects.first().expect("the background");
    assert_eq!((size.width, size.height), (640.0, 200.0));
}

#[test]
fn heatmaps_sit_beside_their_thumbnails_in_wider_cells() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (scored, names) = scored_images(dir.path());
    let source = |_: &Path, w: u32, h: u32| Some(vec![0.5; (w * h) as usize]);
    let grid = SampleGrid::load(&scored, &names, 0.5, 6).with_heatmaps(&source);
    let rendered = grid.write(dir.path()).expect("written");
    let figure = svg::parse(&rendered.svg_text);
    assert!(
        rendered.title.contains("Grad-CAM heatmap"),
        "{}",
        rendered.title
    );
    // A cell: 160 + the 128-pixel map, an 8-pixel gap and its 44-pixel colour bar = 340;
    // 6 tiles in 2 rows of 4 columns.
    let background = figure.rects.first().expect("the background");
    assert_eq!((background.width, background.height), (4.0 * 340.0, 400.0));
    assert_eq!(figure.images.len(), 12, "a map and a thumbnail per tile");
    for i in 0..6 {
        let origin = (340.0 * (i % 4) as f64 + 16.0, 200.0 * (i / 4) as f64 + 8.0);
        let map = &figure.images[2 * i];
        assert_eq!(
            (map.x, map.y, map.width, map.height),
            (origin.0 + 136.0, origin.1, 172.0, 128.0)
        );
        let thumbnail = &figure.images[2 * i + 1];
        assert_eq!((thumbnail.x, thumbnail.y), origin);
        assert_eq!(lines_at(&figure, origin).len(), 3);
    }
}
