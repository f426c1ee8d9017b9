//! Scores of any detector from a CSV file with the header `path,label,p_fake`: `label` is
//! `real`/`fake` (any case) or `0`/`1` (1 = fake), `p_fake` a probability in [0, 1].

use std::path::Path;

use crate::error::{MetricsError, Result};
use crate::input::Scored;

/// Reads `path` into scores and the sample names (the `path` column), in file order.
/// Errors name the file and the 1-based line of the first bad record.
pub fn read_scores_csv(path: &Path) -> Result<(Scored, Vec<String>)> {
    let error = |line: Option<u64>, reason: String| MetricsError::ScoresFile {
        path: path.to_path_buf(),
        line,
        reason,
    };
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
    for record in reader.records() {
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
