//! Scores of any detector from a CSV file with the header `path,label,p_fake`: `label` is
//! `real`/`fake` (any case) or `0`/`1` (1 = fake), `p_fake` a probability in [0, 1].

use std::path::Path;

use deepfake_formats::{FormatError, MAX_CSV_BYTES, MAX_CSV_ROWS, check_file_size};

use crate::error::{MetricsError, Result};
use crate::input::Scored;

/// The kind of file, as limit errors name it.
const WHAT: &str = "scores CSV";

/// Reads `path` into scores and the sample names (the `path` column), in file order.
/// Errors name the file and the 1-based line of the first bad record; a file over the CSV
/// limits of `deepfake_formats` ([`MAX_CSV_BYTES`], [`MAX_CSV_ROWS`]) is refused.
pub fn read_scores_csv(path: &Path) -> Result<(Scored, Vec<String>)> {
    read_scores_csv_up_to(path, MAX_CSV_ROWS)
}

/// [`read_scores_csv`] with at most `max_rows` rows.
fn read_scores_csv_up_to(path: &Path, max_rows: usize) -> Result<(Scored, Vec<String>)> {
    let error = |line: Option<u64>, reason: String| MetricsError::ScoresFile {
        path: path.to_path_buf(),
        line,
        reason,
    };
    check_file_size(path, MAX_CSV_BYTES, WHAT).map_err(|e| MetricsError::Limit(e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| error(None, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| error(Some(1), e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                error(
                    Some(1),
                    format!(
                        "no `{name}` column; the header must be `path,label,p_fake` (found `{}`)",
                        headers.iter().collect::<Vec<_>>().join(",")
                    ),
                )
            })
    };
    let (path_col, label_col, score_col) = (column("path")?, column("label")?, column("p_fake")?);
    let (mut names, mut labels, mut scores) = (Vec::new(), Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        if row == max_rows {
            let over = FormatError::TooManyRows {
                path: path.to_path_buf(),
                what: WHAT,
                limit: max_rows,
            };
            return Err(MetricsError::Limit(over.to_string()));
        }
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            error(line, e.to_string())
        })?;
        let line = record.position().map(|p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let label = match field(label_col).to_ascii_lowercase().as_str() {
            "fake" | "1" => true,
            "real" | "0" => false,
            other => {
                return Err(error(
                    line,
                    format!("label `{other}` is not one of real, fake, 0, 1"),
                ));
            }
        };
        let score: f64 = field(score_col).parse().map_err(|_| {
            error(
                line,
                format!("p_fake `{}` is not a number", field(score_col)),
            )
        })?;
        if !(0.0..=1.0).contains(&score) {
            return Err(error(
                line,
                format!("p_fake {score} is not a probability in [0, 1]"),
            ));
        }
        names.push(field(path_col).to_string());
        labels.push(label);
        scores.push(score);
    }
    if labels.is_empty() {
        return Err(error(None, "no scores after the header".into()));
    }
    Ok((Scored::new(labels, scores)?, names))
}

/// The CSV text [`read_scores_csv`] reads: the header `path,label,p_fake`, then one row per
/// sample with `label` `real`/`fake` and `p_fake` at full precision (it reads back
/// bit-identical). Paths with commas or quotes are quoted.
pub fn scores_csv<'a>(rows: impl IntoIterator<Item = (&'a str, bool, f64)>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = |fields: [&str; 3]| {
        // Writing to memory cannot fail.
        let _ = writer.write_record(fields);
    };
    write(["path", "label", "p_fake"]);
    for (path, fake, p_fake) in rows {
        write([
            path,
            if fake { "fake" } else { "real" },
            &p_fake.to_string(),
        ]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_scores_read_back_exactly() {
        let rows = [
            ("a.png", true, 0.123_456_789_012_345_6),
            ("dir, with comma/b \"q\".jpg", false, 1e-9),
            ("c.webp", true, 1.0),
        ];
        let dir = std::env::temp_dir().join(format!("scores-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scores.csv");
        std::fs::write(&path, scores_csv(rows)).unwrap();
        let (scored, names) = read_scores_csv(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, rows.map(|r| r.0.to_string()));
        assert_eq!(scored.labels(), rows.map(|r| r.1));
        assert_eq!(scored.scores(), rows.map(|r| r.2));
    }

    #[test]
    fn rows_past_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.csv");
        std::fs::write(
            &path,
            scores_csv([("a.jpg", false, 0.2), ("b.jpg", true, 0.7)]),
        )
        .unwrap();
        let (scored, _) = read_scores_csv_up_to(&path, 2).unwrap();
        assert_eq!(scored.len(), 2);
        let error = read_scores_csv_up_to(&path, 1).unwrap_err().to_string();
        assert!(
            error.contains("scores.csv") && error.contains("more than 1 rows"),
            "{error}"
        );
    }
}
