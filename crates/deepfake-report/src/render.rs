//! Drawing one figure on both backends: PNG (bitmap, text rasterised with the embedded
//! DejaVu Sans) and SVG (vector, text as text).

use std::path::{Path, PathBuf};
use std::sync::Once;

use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::Pos;
use plotters::style::{FontStyle, RGBColor, register_font};

use crate::error::{ReportError, Result};

/// The result of drawing on backend `DB`.
pub type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// File stem, e.g. `roc` for `roc.png` and `roc.svg`.
    fn name(&self) -> &str;
    /// Title shown above the figure in the HTML page.
    fn title(&self) -> String;
    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32) {
        (720, 540)
    }
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// A figure written to disk.
#[derive(Debug, Clone)]
pub struct RenderedFigure {
    /// File stem.
    pub name: String,
    /// Title for the page.
    pub title: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
    /// The SVG document, for inlining into the page.
    pub svg_text: String,
}

/// Colours shared by every figure.
pub mod palette {
    use plotters::style::RGBColor;
    /// Real class / correct predictions.
    pub const REAL: RGBColor = RGBColor(46, 109, 180);
    /// Fake class / wrong predictions.
    pub const FAKE: RGBColor = RGBColor(214, 69, 65);
    /// Targets met.
    pub const GOOD: RGBColor = RGBColor(46, 139, 87);
    /// Secondary lines.
    pub const GREY: RGBColor = RGBColor(140, 140, 140);

    /// `colour` as an SVG/CSS colour, `#rrggbb`.
    pub fn hex(colour: RGBColor) -> String {
        let RGBColor(r, g, b) = colour;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Registers the embedded DejaVu Sans as `sans-serif` for bitmap text (once per process).
pub fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate; a failure here
        // would only make bitmap text disappear, so it is not fatal.
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

fn draw_error(figure: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Draw {
        figure: figure.to_string(),
        reason: e.to_string(),
    }
}

/// Draws `figure` into PNG bytes.
pub fn render_png<F: Figure>(figure: &F) -> Result<Vec<u8>> {
    register_fonts();
    let (w, h) = figure.size();
    let mut pixels = vec![0u8; 3 * w as usize * h as usize];
    paint(
        figure,
        &BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area(),
    )?;
    encode_png(&pixels, w, h).map_err(|e| draw_error(figure.name(), e))
}

/// RGB8 pixels as a PNG file.
pub fn encode_png(pixels: &[u8], w: u32, h: u32) -> image::ImageResult<Vec<u8>> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(pixels, w, h, image::ExtendedColorType::Rgb8)?;
    Ok(png)
}

/// Draws `figure` as an SVG document (the text as text; its layout needs the font's metrics,
/// so the embedded font is registered here too).
pub fn render_svg<F: Figure>(figure: &F) -> Result<String> {
    register_fonts();
    let mut svg = String::new();
    paint(
        figure,
        &SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area(),
    )?;
    Ok(svg)
}

/// White background, the figure, then flush to the backend.
fn paint<F: Figure, DB: DrawingBackend>(figure: &F, root: &DrawingArea<DB, Shift>) -> Result<()> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| draw_error(figure.name(), e);
    root.fill(&WHITE).map_err(error)?;
    figure.draw(root).map_err(error)?;
    root.present().map_err(error)
}

/// Draws the series legend of `chart` at `position`, in the style every figure shares.
pub fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
}

/// A legend entry drawn as a short line in `colour`.
pub fn legend_line(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
}

/// Writes `dir/<name>.png` and `dir/<name>.svg`.
pub fn write_figure<F: Figure>(dir: &Path, figure: &F) -> Result<RenderedFigure> {
    let png = dir.join(format!("{}.png", figure.name()));
    let svg = dir.join(format!("{}.svg", figure.name()));
    write_file(&png, &render_png(figure)?)?;
    let svg_text = render_svg(figure)?;
    write_file(&svg, svg_text.as_bytes())?;
    Ok(RenderedFigure {
        name: figure.name().to_string(),
        title: figure.title(),
        png,
        svg,
        svg_text,
    })
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    deepfake_formats::write_atomic(path, bytes).map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// A sans-serif text style anchored at `pos`.
pub fn text_style(size: f64, bold: bool, colour: RGBColor, pos: Pos) -> TextStyle<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    ("sans-serif", size, style)
        .into_font()
        .color(&colour)
        .pos(pos)
}
