//! The shapes and text of a figure's SVG (plotters writes one element per shape, in pixels).

/// The report's palette (`deepfake_report::render::palette`, tied to it by
/// `the_palette_is_the_reports`) as [`parse`] gives colours: `#RRGGBB`, upper case.
pub const REAL: &str = "#2E6DB4";
pub const FAKE: &str = "#D64541";
pub const GOOD: &str = "#2E8B57";
pub const GREY: &str = "#8C8C8C";

/// The red, green and blue of a `#RRGGBB` colour (a PNG's pixel).
pub fn rgb(colour: &str) -> [u8; 3] {
    let channel = |i: usize| u8::from_str_radix(&colour[1 + 2 * i..3 + 2 * i], 16).expect("hex");
    [channel(0), channel(1), channel(2)]
}

/// Whether `y` is off the line of the legend entry `legend` (whose sample shape sits there).
pub fn off_legend(y: f64, legend: &Text) -> bool {
    (y - legend.y).abs() > 8.0
}

/// A `<text>`: where it is anchored and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub bold: bool,
    pub fill: String,
}

/// A `<rect>` with its fill and stroke colours (`#RRGGBB`, a name or `none`) and opacity.
#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub fill: String,
    pub stroke: String,
    pub opacity: f64,
}

/// An `<image>` (an embedded PNG) and where it is placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A `<circle>` (a plotted point) and its stroke and fill colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Circle {
    pub x: f64,
    pub y: f64,
    pub stroke: String,
    pub fill: String,
}

/// A `<polyline>` (a line series, an axis, a tick) and its stroke colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Polyline {
    pub points: Vec<(f64, f64)>,
    pub stroke: String,
}

/// Everything drawn, in drawing order.
#[derive(Debug, Default)]
pub struct Svg {
    pub texts: Vec<Text>,
    pub rects: Vec<Rect>,
    pub images: Vec<Image>,
    pub circles: Vec<Circle>,
    pub polylines: Vec<Polyline>,
}

fn number(node: roxmltree::Node, name: &str) -> f64 {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> without {name}", node.tag_name().name()))
        .parse()
        .unwrap_or_else(|e| panic!("<{}> {name}: {e}", node.tag_name().name()))
}

/// `name`'s number, or `default` when the element leaves it out.
fn number_or(node: roxmltree::Node, name: &str, default: f64) -> f64 {
    if node.has_attribute(name) {
        number(node, name)
    } else {
        default
    }
}

/// A colour attribute, `#RRGGBB` in upper case (plotters writes upper case, the sample
/// grid lower case: SVG does not tell them apart), or a name, or `none`.
fn colour(node: roxmltree::Node, name: &str) -> String {
    match node.attribute(name) {
        Some(hex) if hex.starts_with('#') => hex.to_uppercase(),
        Some(named) => named.to_string(),
        None => "none".to_string(),
    }
}

/// Parses `svg`, failing the test on anything that is not well-formed.
pub fn parse(svg: &str) -> Svg {
    let document = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let mut parsed = Svg::default();
    for node in document.descendants().filter(roxmltree::Node::is_element) {
        match node.tag_name().name() {
            "text" => parsed.texts.push(Text {
                x: number(node, "x"),
                y: number(node, "y"),
                text: node.text().unwrap_or_default().trim().to_string(),
                bold: node.attribute("font-weight") == Some("bold"),
                fill: colour(node, "fill"),
            }),
            "rect" => parsed.rects.push(Rect {
                x: number_or(node, "x", 0.0),
                y: number_or(node, "y", 0.0),
                width: number(node, "width"),
                height: number(node, "height"),
                fill: colour(node, "fill"),
                stroke: colour(node, "stroke"),
                opacity: number_or(node, "opacity", 1.0),
            }),
            "image" => parsed.images.push(Image {
                x: number(node, "x"),
                y: number(node, "y"),
                width: number(node, "width"),
                height: number(node, "height"),
            }),
            "circle" => parsed.circles.push(Circle {
                x: number(node, "cx"),
                y: number(node, "cy"),
                stroke: colour(node, "stroke"),
                fill: colour(node, "fill"),
            }),
            "polyline" => parsed.polylines.push(Polyline {
                points: node
                    .attribute("points")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|pair| {
                        let (x, y) = pair.split_once(',').expect("x,y");
                        (x.parse().expect("x"), y.parse().expect("y"))
                    })
                    .collect(),
                stroke: colour(node, "stroke"),
            }),
            _ => {}
        }
    }
    parsed
}

impl Svg {
    /// The texts that say exactly `text`.
    pub fn texts_saying(&self, text: &str) -> Vec<&Text> {
        self.texts.iter().filter(|t| t.text == text).collect()
    }

    /// The one text that says `text`.
    pub fn text(&self, text: &str) -> &Text {
        let found = self.texts_saying(text);
        assert_eq!(found.len(), 1, "{text:?} drawn {} times", found.len());
        found[0]
    }

    /// The points drawn (outlined or filled) in `colour`, left to right, within `x_range`.
    pub fn points(&self, colour: &str, x_range: std::ops::Range<f64>) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = self
            .circles
            .iter()
            .filter(|c| (c.stroke == colour || c.fill == colour) && x_range.contains(&c.x))
            .map(|c| (c.x, c.y))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }

    /// The black axis lines within `x_range`: the longest vertical one (the y axis: its
    /// bottom and top) and the longest horizontal one (the x axis: its left and right ends).
    pub fn axes(&self, x_range: std::ops::Range<f64>) -> Axes {
        let black = self.polylines.iter().filter(|p| {
            p.stroke == "#000000" && p.points.len() == 2 && x_range.contains(&p.points[0].0)
        });
        let mut vertical = None::<(f64, f64)>;
        let mut horizontal = None::<(f64, f64)>;
        for line in black {
            let [(x0, y0), (x1, y1)] = [line.points[0], line.points[1]];
            if x0 == x1 && vertical.is_none_or(|(bottom, top)| (y1 - y0).abs() > bottom - top) {
                vertical = Some((y0.max(y1), y0.min(y1)));
            }
            if y0 == y1 && horizontal.is_none_or(|(left, right)| (x1 - x0).abs() > right - left) {
                horizontal = Some((x0.min(x1), x0.max(x1)));
            }
        }
        let (bottom, top) = vertical.expect("a y axis");
        let (left, right) = horizontal.expect("an x axis");
        Axes {
            bottom,
            top,
            left,
            right,
        }
    }
}

/// A chart's axes in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Axes {
    pub bottom: f64,
    pub top: f64,
    pub left: f64,
    pub right: f64,
}

impl Axes {
    /// The pixel row of `value` on a y axis from `low` (bottom) to `high` (top).
    pub fn y_of(&self, value: f64, low: f64, high: f64) -> f64 {
        self.bottom - (value - low) / (high - low) * (self.bottom - self.top)
    }

    /// The pixel column of `value` on an x axis from `low` (left) to `high` (right).
    pub fn x_of(&self, value: f64, low: f64, high: f64) -> f64 {
        self.left + (value - low) / (high - low) * (self.right - self.left)
    }
}

/// Asserts that the drawn `points` are at the `expected` pixels, within 1.5 pixels (plotters
/// rounds to whole pixels, and the axes' ends are themselves rounded), in order.
pub fn assert_at(what: &str, points: &[(f64, f64)], expected: &[(f64, f64)]) {
    assert_eq!(
        points.len(),
        expected.len(),
        "{what}: {points:?} vs {expected:?}"
    );
    for (got, want) in points.iter().zip(expected) {
        assert!(
            (got.0 - want.0).abs() <= 1.5 && (got.1 - want.1).abs() <= 1.5,
            "{what}: drawn at {got:?}, expected {want:?} (all: {points:?} vs {expected:?})"
        );
    }
}

/// Asserts that a drawn rectangle spans `expected` (`[left, top, right, bottom]` in pixels)
/// within 1.5 pixels.
pub fn assert_spans(what: &str, rect: &Rect, expected: [f64; 4]) {
    let drawn = [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height];
    assert!(
        drawn
            .iter()
            .zip(&expected)
            .all(|(d, e)| (d - e).abs() <= 1.5),
        "{what}: drawn over {drawn:?}, expected {expected:?}"
    );
}

/// The constants above are the report's palette, written by hand from the SVG plotters
/// writes: a colour changed in the report fails here, naming the constant to change (and
/// in the figures that draw it).
#[test]
fn the_palette_is_the_reports() {
    use deepfake_report::render::palette;
    for (written, colour) in [
        (REAL, palette::REAL),
        (FAKE, palette::FAKE),
        (GOOD, palette::GOOD),
        (GREY, palette::GREY),
    ] {
        assert_eq!(written.to_lowercase(), palette::hex(colour));
        assert_eq!(rgb(written), [colour.0, colour.1, colour.2]);
    }
}
