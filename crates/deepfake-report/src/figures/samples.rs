//! A grid of sample predictions: thumbnails with their true label, predicted label and
//! confidence, the most confident errors first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use deepfake_data::{DecodeLimits, decode_file, resize::resize_rgb};
use deepfake_metrics::Scored;
use image::RgbImage;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::percent;
use crate::error::{ReportError, Result};
use crate::render::palette::{FAKE, GOOD, hex};
use crate::render::{RenderedFigure, encode_png, write_file};

const THUMB: u32 = 128;
const CELL_W: u32 = 160;
const CELL_H: u32 = 200;
const COLUMNS: u32 = 4;
/// Space between a thumbnail and its heatmap.
const HEATMAP_GAP: u32 = 8;

/// Where the sample grid gets heatmaps: for an image file, its Grad-CAM heatmap at
/// `(width, height)`, row-major, values in `[0, 1]` (`None`: none for this file).
pub type HeatmapSource<'a> = dyn Fn(&Path, u32, u32) -> Option<Vec<f32>> + Sync + 'a;

/// One sample of the grid.
#[derive(Debug, Clone)]
pub struct SampleTile {
    /// The image file.
    pub path: PathBuf,
    /// `THUMB x THUMB` RGB8 thumbnail.
    pub thumbnail: RgbImage,
    /// True class is Fake.
    pub fake: bool,
    /// Predicted class is Fake.
    pub predicted_fake: bool,
    /// Confidence of the predicted class.
    pub confidence: f64,
    /// The thumbnail with its Grad-CAM heatmap over it and a colour bar (`THUMB +` bar
    /// strip wide), when the report was given a heatmap source.
    pub heatmap: Option<RgbImage>,
}

impl SampleTile {
    fn correct(&self) -> bool {
        self.fake == self.predicted_fake
    }
    fn lines(&self) -> [String; 3] {
        let class = |fake: bool| if fake { "Fake" } else { "Real" };
        let name = self
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        [
            format!("true {} · {}", class(self.fake), short(&name, 12)),
            format!(
                "pred {} {}",
                class(self.predicted_fake),
                if self.correct() { "✓" } else { "✗" }
            ),
            format!("confidence {}", percent(self.confidence)),
        ]
    }
}

fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        let tail: String = name
            .chars()
            .rev()
            .take(max - 1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
}

/// The grid of sample predictions.
#[derive(Debug, Clone, Default)]
pub struct SampleGrid {
    tiles: Vec<SampleTile>,
}

impl SampleGrid {
    /// Picks up to `max` samples of `scored` (named by file path in `names`): up to half are
    /// the most confident errors, the rest correct predictions spread over the data set.
    /// Files that cannot be read are left out (the report is still written).
    pub fn load(scored: &Scored, names: &[String], threshold: f64, max: usize) -> Self {
        let predictions: Vec<(usize, bool, f64, bool)> = scored
            .labels()
            .iter()
            .zip(scored.scores())
            .enumerate()
            .map(|(i, (&fake, &p))| {
                let predicted_fake = p >= threshold;
                let confidence = if predicted_fake { p } else { 1.0 - p };
                (i, fake, confidence, predicted_fake)
            })
            .collect();
        let mut errors: Vec<_> = predictions.iter().filter(|p| p.1 != p.3).collect();
        errors.sort_by(|a, b| b.2.total_cmp(&a.2));
        let correct: Vec<_> = predictions.iter().filter(|p| p.1 == p.3).collect();
        let n_errors = errors.len().min(max / 2);
        let n_correct = (max - n_errors).min(correct.len());
        let step = correct.len() as f64 / n_correct.max(1) as f64;
        let picked = errors[..n_errors]
            .iter()
            .copied()
            .chain((0..n_correct).map(|k| correct[(k as f64 * step) as usize]));
        let tiles = picked
            .filter_map(|&(i, fake, confidence, predicted_fake)| {
                let path = PathBuf::from(names.get(i)?);
                let image = decode_file(&path, DecodeLimits::default()).ok()?;
                let thumbnail = resize_rgb(&image, THUMB, THUMB).ok()?;
                Some(SampleTile {
                    path,
                    thumbnail,
                    fake,
                    predicted_fake,
                    confidence,
                    heatmap: None,
                })
            })
            .collect();
        Self { tiles }
    }

    /// Adds each tile's heatmap from `source` (the heatmap of a file at a given width and
    /// height, values in `[0, 1]`); a tile it has none for is shown without.
    pub fn with_heatmaps(mut self, source: &HeatmapSource<'_>) -> Self {
        for tile in &mut self.tiles {
            tile.heatmap = source(&tile.path, THUMB, THUMB)
                .and_then(|values| super::heatmap_overlay(&tile.thumbnail, &values, "").ok());
        }
        self
    }

    fn has_heatmaps(&self) -> bool {
        self.tiles.iter().any(|t| t.heatmap.is_some())
    }

    /// Width of one cell: room for the heatmap beside the thumbnail when there are any.
    fn cell_width(&self) -> u32 {
        if self.has_heatmaps() {
            CELL_W + THUMB + HEATMAP_GAP + super::heatmap::BAR_STRIP
        } else {
            CELL_W
        }
    }

    /// Whether no sample could be shown.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    fn size(&self) -> (u32, u32) {
        let rows = (self.tiles.len() as u32).div_ceil(COLUMNS).max(1);
        (COLUMNS * self.cell_width(), rows * CELL_H)
    }

    fn origin(&self, index: usize) -> (i32, i32) {
        let (col, row) = (index as u32 % COLUMNS, index as u32 / COLUMNS);
        (
            (col * self.cell_width() + (CELL_W - THUMB) / 2) as i32,
            (row * CELL_H + 8) as i32,
        )
    }

    /// Writes `sample_grid.png` (bitmap) and `sample_grid.svg` (thumbnails embedded as PNG).
    pub fn write(&self, dir: &Path) -> Result<RenderedFigure> {
        let name = "sample_grid";
        let draw_error = |e: &dyn std::fmt::Display| ReportError::Draw {
            figure: name.into(),
            reason: e.to_string(),
        };
        crate::render::register_fonts();
        let (w, h) = self.size();
        let mut pixels = vec![255u8; 3 * (w * h) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
            for (i, tile) in self.tiles.iter().enumerate() {
                let (x, y) = self.origin(i);
                let element =
                    BitMapElement::with_ref((x, y), (THUMB, THUMB), tile.thumbnail.as_raw())
                        .ok_or_else(|| draw_error(&"thumbnail buffer has the wrong size"))?;
                root.draw(&element).map_err(|e| draw_error(&e))?;
                if let Some(heatmap) = &tile.heatmap {
                    let at = (x + (THUMB + HEATMAP_GAP) as i32, y);
                    let element =
                        BitMapElement::with_ref(at, heatmap.dimensions(), heatmap.as_raw())
                            .ok_or_else(|| draw_error(&"heatmap buffer has the wrong size"))?;
                    root.draw(&element).map_err(|e| draw_error(&e))?;
                }
                let colour = if tile.correct() { GOOD } else { FAKE };
                root.draw(&Rectangle::new(
                    [(x - 2, y - 2), (x + THUMB as i32 + 1, y + THUMB as i32 + 1)],
                    colour.stroke_width(3),
                ))
                .map_err(|e| draw_error(&e))?;
                for (k, line) in tile.lines().iter().enumerate() {
                    let font = ("sans-serif", 12)
                        .into_font()
                        .color(if k == 1 { &colour } else { &BLACK })
                        .pos(Pos::new(HPos::Center, VPos::Top));
                    let at = (x + THUMB as i32 / 2, y + THUMB as i32 + 6 + 16 * k as i32);
                    root.draw(&Text::new(line.clone(), at, font))
                        .map_err(|e| draw_error(&e))?;
                }
            }
            root.present().map_err(|e| draw_error(&e))?;
        }
        let png = dir.join(format!("{name}.png"));
        write_file(
            &png,
            &encode_png(&pixels, w, h).map_err(|e| draw_error(&e))?,
        )?;
        let svg_text = self.svg().map_err(|e| draw_error(&e))?;
        let svg = dir.join(format!("{name}.svg"));
        write_file(&svg, svg_text.as_bytes())?;
        Ok(RenderedFigure {
            name: name.into(),
            title: format!(
                "Sample predictions ({} shown; red frame = wrong, most confident errors first){}",
                self.tiles.len(),
                if self.has_heatmaps() {
                    "; beside each, its Grad-CAM heatmap of the Fake logit (red = most evidence)"
                } else {
                    ""
                }
            ),
            png,
            svg,
            svg_text,
        })
    }

    fn svg(&self) -> std::result::Result<String, Box<dyn std::error::Error>> {
        let (w, h) = self.size();
        let mut svg = format!(
            "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             xmlns=\"http://www.w3.org/2000/svg\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n"
        );
        for (i, tile) in self.tiles.iter().enumerate() {
            let (x, y) = self.origin(i);
            let png = encode_png(tile.thumbnail.as_raw(), THUMB, THUMB)?;
            let data = base64::engine::general_purpose::STANDARD.encode(png);
            let colour = hex(if tile.correct() { GOOD } else { FAKE });
            if let Some(heatmap) = &tile.heatmap {
                let (hw, hh) = heatmap.dimensions();
                let png = encode_png(heatmap.as_raw(), hw, hh)?;
                let data = base64::engine::general_purpose::STANDARD.encode(png);
                writeln!(
                    svg,
                    "<image x=\"{}\" y=\"{y}\" width=\"{hw}\" height=\"{hh}\" \
                     href=\"data:image/png;base64,{data}\"/>",
                    x + (THUMB + HEATMAP_GAP) as i32
                )?;
            }
            writeln!(
                svg,
                "<image x=\"{x}\" y=\"{y}\" width=\"{THUMB}\" height=\"{THUMB}\" \
                 href=\"data:image/png;base64,{data}\"/>\n<rect x=\"{}\" y=\"{}\" width=\"{}\" \
                 height=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"3\"/>",
                x - 2,
                y - 2,
                THUMB + 3,
                THUMB + 3
            )?;
            for (k, line) in tile.lines().iter().enumerate() {
                let fill = if k == 1 { colour.as_str() } else { "black" };
                writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"12\" \
                     text-anchor=\"middle\" fill=\"{fill}\">{}</text>",
                    x + THUMB as i32 / 2,
                    y + THUMB as i32 + 18 + 16 * k as i32,
                    escape_xml(line)
                )?;
            }
        }
        svg.push_str("</svg>\n");
        Ok(svg)
    }
}

/// Escapes text for XML and HTML (element content and attributes in either quote).
pub(crate) fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
