//! The sample grid: the most confident errors first, then correct predictions spread over
//! the rest; each thumbnail framed green (right) or red (wrong) with its three lines.

use std::path::Path;

use deepfake_metrics::Scored;
use deepfake_report::figures::{SampleGrid, heatmap_overlay};
use image::{Rgb, RgbImage};

use crate::svg::{self, FAKE, GOOD, Svg};

/// Ten images, image `i` all of colour (20 i, 90, 160): 0-2 wrong (a real scored 0.9, a
/// fake scored 0.3, a real scored 0.6: confidences 90%, 70%, 60%), 3-9 right. Image 0 has
/// a name too long for its tile.
fn scored_images(dir: &Path) -> (Scored, Vec<String>) {
    let labels = vec![
        false, true, false, true, false, true, false, true, false, true,
    ];
    let scores = vec![0.9, 0.3, 0.6, 0.8, 0.1, 0.95, 0.2, 0.7, 0.4, 0.85];
    let names = (0..10)
        .map(|i| {
            let long = if i == 0 { "a_long_file_" } else { "" };
            let path = dir.join(format!("{long}img_{i}.png"));
            RgbImage::from_pixel(40, 30, Rgb([20 * i as u8, 90, 160]))
                .save(&path)
                .expect("image written");
            path.to_string_lossy().into_owned()
        })
        .collect();
    (Scored::new(labels, scores).expect("scores"), names)
}

/// The three lines under the tile at `origin` (the thumbnail's top-left corner), each
/// with its colour.
fn lines_at(figure: &Svg, origin: (f64, f64)) -> Vec<(String, String)> {
    (0..3)
        .map(|k| {
            let (x, y) = (origin.0 + 64.0, origin.1 + 128.0 + 18.0 + 16.0 * k as f64);
            figure
                .texts
                .iter()
                .find(|t| t.x == x && t.y == y)
                .map(|t| (t.text.clone(), t.fill.clone()))
                .unwrap_or_else(|| panic!("no line {k} at ({x}, {y})"))
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
            "true Real · …e_img_0.png",
            "pred Fake ✗",
            "confidence 90.0%",
            FAKE,
        ),
        (
            "true Fake · img_1.png",
            "pred Real ✗",
            "confidence 70.0%",
            FAKE,
        ),
        (
            "true Fake · img_3.png",
            "pred Fake ✓",
            "confidence 80.0%",
            GOOD,
        ),
        (
            "true Real · img_6.png",
            "pred Real ✓",
            "confidence 80.0%",
            GOOD,
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
        // The verdict line in the frame's colour, the others black.
        let lines = [(truth, "black"), (predicted, colour), (confidence, "black")]
            .map(|(text, fill)| (text.to_string(), fill.to_string()));
        assert_eq!(lines_at(&figure, origin), lines);
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
    assert!(!grid.is_empty());
    assert!(SampleGrid::default().is_empty());

    // The PNG: each thumbnail at its place, framed in its colour, its three lines under it
    // (the verdict in the frame's colour, the truth in black).
    let png = image::open(&rendered.png).expect("the PNG").to_rgb8();
    assert_eq!(png.dimensions(), (640, 200));
    let frames = [FAKE, FAKE, GOOD, GOOD].map(svg::rgb);
    for (i, (image, frame)) in [0u8, 1, 3, 6].into_iter().zip(frames).enumerate() {
        let (x, y) = (160 * i as u32 + 16, 8);
        assert_eq!(
            png.get_pixel(x + 64, y + 64).0,
            [20 * image, 90, 160],
            "tile {i}"
        );
        // The frame's four sides, 2 pixels outside the thumbnail.
        for (c, r) in [
            (x - 2, y + 64),
            (x + 129, y + 64),
            (x + 64, y - 2),
            (x + 64, y + 129),
        ] {
            assert_eq!(
                png.get_pixel(c, r).0,
                frame,
                "tile {i}'s frame at ({c}, {r})"
            );
        }
        assert_eq!(png.get_pixel(x - 6, y + 64).0, [255, 255, 255], "tile {i}");
        let band = |line: u32| {
            let top = y + 128 + 6 + 16 * line;
            (top..top + 12).flat_map(move |row| (x..x + 128).map(move |col| (col, row)))
        };
        let black = |line| band(line).any(|(c, r)| png.get_pixel(c, r).0.iter().all(|&v| v < 60));
        let tinted = |line: u32| {
            band(line).any(|(c, r)| {
                let [red, green, blue] = png.get_pixel(c, r).0.map(i32::from);
                if frame[0] > 100 {
                    red - green > 80 && red - blue > 80
                } else {
                    green - red > 50 && green - blue > 20
                }
            })
        };
        // The verdict and confidence lines centred under the thumbnail: their ink's extent
        // centred on x + 64 (the first line can be wider than the cell, cut at the edge).
        for line in 1..3 {
            let top = y + 128 + 6 + 16 * line;
            let inked: Vec<u32> = (top..top + 12)
                .flat_map(|row| (x - 16..x + 144).map(move |col| (col, row)))
                .filter(|&(c, r)| png.get_pixel(c, r).0 != [255, 255, 255])
                .map(|(c, _)| c)
                .collect();
            let (Some(&first), Some(&last)) = (inked.iter().min(), inked.iter().max()) else {
                panic!("tile {i}: line {line} has no ink");
            };
            let centre = f64::from(first + last) / 2.0;
            assert!(
                (centre - f64::from(x + 64)).abs() <= 3.0,
                "tile {i}: line {line} centred at {centre}, not {}",
                x + 64
            );
        }
        assert!(
            black(0) && !tinted(0),
            "tile {i}: the truth line is not black"
        );
        assert!(
            tinted(1) && !black(1),
            "tile {i}: the verdict is not in the frame's colour"
        );
    }
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
    // In the PNG too, each map right of its thumbnail: the 0.5 map's blend over the
    // thumbnail's colour.
    let png = image::open(&rendered.png).expect("the PNG").to_rgb8();
    let thumbnail = RgbImage::from_pixel(128, 128, Rgb([0, 90, 160]));
    let overlay = heatmap_overlay(&thumbnail, &[0.5; 128 * 128], "").expect("overlay");
    assert_eq!(
        png.get_pixel(16 + 64, 8 + 64).0,
        [0, 90, 160],
        "image 0's thumbnail"
    );
    // The map starts after an 8-pixel gap: 128 + 8 right of the thumbnail's left edge.
    assert_eq!(
        png.get_pixel(16 + 136, 8 + 64),
        overlay.get_pixel(0, 64),
        "image 0's map"
    );
    assert_eq!(
        png.get_pixel(16 + 135, 8 + 64).0,
        [255, 255, 255],
        "the gap"
    );
}
