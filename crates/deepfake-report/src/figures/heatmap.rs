//! A Grad-CAM heatmap drawn over its image: colour-mapped overlay, a colour bar on the right,
//! and a caption (e.g. the P(fake)) in the top-left corner.

use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{ReportError, Result};

/// Width of the strip on the right that holds the colour bar and its labels, in pixels.
pub(crate) const BAR_STRIP: u32 = 44;

/// The "jet" colour of `v` in `[0, 1]`: blue (0) -> cyan -> yellow -> red (1).
pub fn jet(v: f32) -> [u8; 3] {
    let v = v.clamp(0.0, 1.0);
    let channel = |centre: f32| ((1.5 - (4.0 * v - centre).abs()).clamp(0.0, 1.0) * 255.0) as u8;
    [channel(3.0), channel(2.0), channel(1.0)]
}

/// `image` with `heatmap` (`[height, width]` of the image, row-major, values in `[0, 1]`)
/// blended over it (more opaque where the map is high), a colour bar (0 at the bottom, 1 at
/// the top) on a white strip to its right, and `caption` in its top-left corner.
pub fn heatmap_overlay(image: &RgbImage, heatmap: &[f32], caption: &str) -> Result<RgbImage> {
    let (w, h) = image.dimensions();
    let draw_error = |e: &dyn std::fmt::Display| ReportError::Draw {
        figure: "heatmap".into(),
        reason: e.to_string(),
    };
    if heatmap.len() != (w * h) as usize {
        return Err(draw_error(&format!(
            "a {}-value heatmap for a {w}x{h} image",
            heatmap.len()
        )));
    }
    let width = w + BAR_STRIP;
    let mut out = RgbImage::from_pixel(width, h, Rgb([255, 255, 255]));
    for (x, y, pixel) in image.enumerate_pixels() {
        let v = heatmap[(y * w + x) as usize];
        let colour = jet(v);
        let alpha = 0.25 + 0.35 * v.clamp(0.0, 1.0);
        let blended: [u8; 3] = std::array::from_fn(|c| {
            (f32::from(pixel[c]) * (1.0 - alpha) + f32::from(colour[c]) * alpha).round() as u8
        });
        out.put_pixel(x, y, Rgb(blended));
    }
    // The colour bar: 12 px wide, a little inside the strip.
    let (bar_x, bar_top, bar_bottom) = (w + 6, 6u32.min(h), h.saturating_sub(6));
    for y in bar_top..bar_bottom {
        let v = 1.0 - (y - bar_top) as f32 / (bar_bottom - bar_top).max(1) as f32;
        for x in bar_x..bar_x + 12 {
            out.put_pixel(x, y, Rgb(jet(v)));
        }
    }
    crate::render::register_fonts();
    let font_size = (h / 16).clamp(10, 24);
    let mut pixels = out.into_raw();
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, h)).into_drawing_area();
        let label = |text: &str, y: i32, v: VPos| {
            Text::new(
                text.to_string(),
                ((bar_x + 15) as i32, y),
                ("sans-serif", 11)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, v)),
            )
        };
        root.draw(&label("1", bar_top as i32, VPos::Top))
            .map_err(|e| draw_error(&e))?;
        root.draw(&label("0", bar_bottom as i32, VPos::Bottom))
            .map_err(|e| draw_error(&e))?;
        if !caption.is_empty() {
            let text_width = (caption.chars().count() as u32 * font_size * 6 / 10 + 8).min(w);
            root.draw(&Rectangle::new(
                [(0, 0), (text_width as i32, (font_size + 8) as i32)],
                WHITE.mix(0.8).filled(),
            ))
            .map_err(|e| draw_error(&e))?;
            root.draw(&Text::new(
                caption.to_string(),
                (4, 4),
                ("sans-serif", font_size).into_font().color(&BLACK),
            ))
            .map_err(|e| draw_error(&e))?;
        }
        root.present().map_err(|e| draw_error(&e))?;
    }
    RgbImage::from_raw(width, h, pixels).ok_or_else(|| draw_error(&"pixel buffer size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Matplotlib's `jet` at 0, 0.5 and 1 is (0, 0, 0.5), (0.49, 1, 0.48), (0.5, 0, 0).
    #[test]
    fn jet_runs_from_blue_to_red() {
        assert_eq!(jet(0.0), [0, 0, 127]);
        assert_eq!(jet(0.5), [127, 255, 127]);
        assert_eq!(jet(1.0), [127, 0, 0]);
    }

    #[test]
    fn the_overlay_is_redder_where_the_map_is_high_and_keeps_the_image_size_plus_the_bar() {
        let image = RgbImage::from_pixel(80, 60, Rgb([128, 128, 128]));
        // High on the right half, zero on the left.
        let map: Vec<f32> = (0..60 * 80)
            .map(|i| if i % 80 >= 40 { 1.0 } else { 0.0 })
            .collect();
        let out = heatmap_overlay(&image, &map, "P(fake) 0.93").unwrap();
        assert_eq!(out.dimensions(), (80 + BAR_STRIP, 60));
        let hot = out.get_pixel(70, 50);
        let cold = out.get_pixel(10, 50);
        assert!(hot[0] > cold[0] && hot[2] < cold[2], "{hot:?} vs {cold:?}");
        assert!(heatmap_overlay(&image, &map[1..], "x").is_err());
    }

    /// Each pixel is the image blended with the map's colour at 0.25 + 0.35 x the map
    /// value; the colour bar runs from jet(1) at its top to jet(0) at its bottom, labelled 1
    /// and 0 on its right; a caption gets a whitened box behind it as wide as its text.
    /// Expected values worked out by hand for a grey 128 image and a map of 1 in the
    /// bottom-right quarter, 0 elsewhere.
    #[test]
    fn the_overlay_blends_by_the_map_value_and_draws_the_bar() {
        let image = RgbImage::from_pixel(80, 60, Rgb([128, 128, 128]));
        let map: Vec<f32> = (0..60 * 80)
            .map(|i| {
                if i % 80 >= 40 && i / 80 >= 30 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let plain = heatmap_overlay(&image, &map, "").unwrap();
        // v = 1: alpha 0.6 of [127, 0, 0]: 128 x 0.4 + 127 x 0.6 = 127.4, 128 x 0.4 = 51.2.
        assert_eq!(plain.get_pixel(70, 50).0, [127, 51, 51]);
        // v = 0: alpha 0.25 of [0, 0, 127]: 96 and 96 + 31.75.
        for (x, y) in [(10, 50), (70, 10), (10, 10)] {
            assert_eq!(plain.get_pixel(x, y).0, [96, 96, 128], "({x}, {y})");
        }
        // The bar: columns 86..98, rows 6..54; row 6 is v = 1, row 53 is v = 1 - 47/48,
        // whose blue is (1.5 - |4v - 1|) x 255 = 148.75, truncated.
        for x in [86, 97] {
            assert_eq!(plain.get_pixel(x, 6).0, [127, 0, 0], "column {x}");
            assert_eq!(plain.get_pixel(x, 53).0, [0, 0, 148], "column {x}");
        }
        for (x, y) in [(85, 30), (98, 30), (90, 5), (90, 54)] {
            assert_eq!(plain.get_pixel(x, y).0, [255, 255, 255], "({x}, {y})");
        }
        // "1" hangs from the bar's top and "0" stands on its bottom, 3 pixels right of it.
        let inked = |rows: std::ops::Range<u32>| {
            rows.flat_map(|y| (101..112).map(move |x| (x, y)))
                .filter(|&(x, y)| plain.get_pixel(x, y).0[0] < 128)
                .count()
        };
        assert!(inked(6..18) > 0, "no 1 at the bar's top");
        assert!(inked(42..54) > 0, "no 0 at the bar's bottom");
        assert_eq!(inked(20..40), 0, "ink beside the bar's middle");
        assert_eq!(plain.get_pixel(1, 1).0, [96, 96, 128], "no caption, no box");
        // With a caption, the box is 80% white over the blend (0.8 x 255 + 0.2 x 96; plotters
        // blends in 8-bit fixed point: within 1.5), as wide as 2 characters of the font
        // (60 / 16 pixels, at least 10): 2 x 10 x 0.6 + 8 = 20, and 10 + 8 = 18 high.
        let captioned = heatmap_overlay(&image, &map, "ab").unwrap();
        let whitened = |x: u32, y: u32| {
            let pixel = captioned.get_pixel(x, y).0;
            pixel
                .iter()
                .zip([223.2f32, 223.2, 229.6])
                .all(|(got, want)| (f32::from(*got) - want).abs() <= 1.5)
        };
        assert!(whitened(1, 1) && whitened(19, 17) && whitened(1, 17));
        assert_eq!(captioned.get_pixel(21, 10).0, [96, 96, 128]);
        assert_eq!(captioned.get_pixel(10, 19).0, [96, 96, 128]);
    }
}
