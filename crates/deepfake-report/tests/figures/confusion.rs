//! The confusion matrix: each count, its row and overall shares in its own cell, shaded by
//! its row share, diagonal cells in the Real colour and the others in the Fake colour.

use deepfake_report::figures::ConfusionFigure;
use deepfake_report::render::render_svg;

use crate::svg::{self, FAKE, REAL, Rect, Svg};
use crate::{eight_scores, report_of};

/// The matrix of [`eight_scores`]: TN 3, FP 1, FN 0, TP 4.
fn figure() -> Svg {
    let report = report_of(&eight_scores());
    svg::parse(&render_svg(&ConfusionFigure::new(&report)).expect("SVG"))
}

/// The four shaded cells (filled rectangles other than the white background), in drawing
/// order.
fn cells(figure: &Svg) -> Vec<&Rect> {
    figure
        .rects
        .iter()
        .filter(|r| r.fill != "none" && r.fill != "#FFFFFF")
        .collect()
}

#[test]
fn each_cell_holds_its_count_and_shares_shaded_by_its_row_share() {
    let figure = figure();
    let cells = cells(&figure);
    assert_eq!(cells.len(), 4, "{cells:?}");
    // (row = true class, column = predicted, count, of its row, of all 8, colour)
    let expected = [
        (0, 0, "3", "75.0% of row", "37.5% of all", REAL),
        (0, 1, "1", "25.0% of row", "12.5% of all", FAKE),
        (1, 0, "0", "0.0% of row", "0.0% of all", FAKE),
        (1, 1, "4", "100.0% of row", "50.0% of all", REAL),
    ];
    let shares = [0.75, 0.25, 0.0, 1.0];
    let (left, top) = (cells[0].x, cells[0].y);
    let size = cells[0].width;
    for ((row, col, count, of_row, of_all, colour), share) in expected.into_iter().zip(shares) {
        let cell = cells
            .iter()
            .find(|r| r.x == left + col as f64 * size && r.y == top + row as f64 * size)
            .unwrap_or_else(|| panic!("no cell at row {row}, column {col}: {cells:?}"));
        assert_eq!(cell.fill, colour, "row {row}, column {col}");
        let opacity = 0.12 + 0.75 * share;
        assert!((cell.opacity - opacity).abs() < 1e-9, "{cell:?}: {opacity}");
        let centre_x = cell.x + size / 2.0;
        let middle_y = cell.y + size / 2.0;
        let (count, of_row, of_all) =
            (figure.text(count), figure.text(of_row), figure.text(of_all));
        for text in [count, of_row, of_all] {
            assert_eq!(text.x, centre_x, "{text:?} is not centred in {cell:?}");
        }
        assert!(count.bold);
        assert!(
            cell.y < count.y && count.y < middle_y,
            "{count:?} not in the upper half of {cell:?}"
        );
        assert!(
            middle_y < of_row.y && of_row.y < of_all.y && of_all.y < cell.y + size,
            "{of_row:?} and {of_all:?} not in order in the lower half of {cell:?}"
        );
    }
}

#[test]
fn classes_name_the_columns_above_and_the_rows_to_the_left() {
    let figure = figure();
    let cells = cells(&figure);
    let (left, top, size) = (cells[0].x, cells[0].y, cells[0].width);
    for (i, name) in ["Real", "Fake"].into_iter().enumerate() {
        let centre = i as f64 * size + size / 2.0;
        let drawn = figure.texts_saying(name);
        assert_eq!(drawn.len(), 2, "{name}: {drawn:?}");
        let column = drawn.iter().find(|t| t.y < top).expect("a column label");
        assert_eq!(column.x, left + centre, "{column:?}");
        let row = drawn.iter().find(|t| t.x < left).expect("a row label");
        assert_eq!(row.y, top + centre, "{row:?}");
    }
    let predicted = figure.text("Predicted");
    assert!(predicted.bold && predicted.y < top && predicted.x == left + size);
    let truth = figure.text("True");
    assert!(truth.bold && truth.x < left && truth.y == top + size);
    // The margins' layout: "Predicted" 55 px above the grid, the column names 22 above
    // it, the row names 40 to its left, "True" 100 to its left.
    assert_eq!((predicted.x, predicted.y), (left + size, top - 55.0));
    assert_eq!((truth.x, truth.y), (left - 100.0, top + size));
    for text in figure
        .texts_saying("Real")
        .into_iter()
        .chain(figure.texts_saying("Fake"))
    {
        assert!(
            text.y == top - 22.0 || text.x == left - 40.0,
            "{text:?} is neither a column nor a row name"
        );
    }
}

#[test]
fn each_cell_is_outlined() {
    let figure = figure();
    let outlines: Vec<_> = figure
        .rects
        .iter()
        .filter(|r| r.fill == "none" && r.stroke == "#000000")
        .map(|r| (r.x, r.y, r.width, r.height))
        .collect();
    let cells: Vec<_> = cells(&figure)
        .into_iter()
        .map(|r| (r.x, r.y, r.width, r.height))
        .collect();
    assert_eq!(outlines, cells);
}
