//! What `deepfake predict` prints: one [`Record`] per input in a table, JSON, JSON lines or CSV.

use anyhow::Result;
use clap::ValueEnum;
use deepfake::predict::PredictionRecord as Record;
use std::io::Write;

/// The output format of `predict`.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// path,label,p_fake,confidence,entropy,error,faces,note (faces: how many were found,
    /// empty when faces were not searched; the per-face verdicts are in the JSON formats)
    Csv,
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes all records to `out` in `format`.
pub fn write_records(out: &mut dyn Write, records: &[Record], format: Format) -> Result<()> {
    let number = |v: Option<f32>| v.map_or(String::new(), |v| format!("{v:.6}"));
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(records)?)?,
        Format::Jsonl => {
            for r in records {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
        }
        Format::Csv => {
            writeln!(out, "path,label,p_fake,confidence,entropy,error,faces,note")?;
            for r in records {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    csv_field(&r.path),
                    r.label.as_deref().unwrap_or(""),
                    number(r.p_fake),
                    number(r.confidence),
                    number(r.entropy),
                    csv_field(r.error.as_deref().unwrap_or("")),
                    r.faces
                        .as_ref()
                        .map_or(String::new(), |f| f.len().to_string()),
                    csv_field(r.note.as_deref().unwrap_or(""))
                )?;
            }
        }
        Format::Table => {
            let width = records
                .iter()
                .map(|r| r.path.chars().count())
                .max()
                .unwrap_or(4)
                .clamp(4, 80);
            writeln!(
                out,
                "{:<width$}  {:<5}  {:>7}  {:>10}",
                "path", "label", "p_fake", "confidence"
            )?;
            for r in records {
                match (&r.error, &r.note) {
                    (Some(e), _) => writeln!(out, "{:<width$}  error: {e}", r.path)?,
                    (None, Some(note)) => writeln!(out, "{:<width$}  {note}", r.path)?,
                    (None, None) => writeln!(
                        out,
                        "{:<width$}  {:<5}  {:>7.4}  {:>10.4}{}{}",
                        r.path,
                        r.label.as_deref().unwrap_or(""),
                        r.p_fake.unwrap_or(f32::NAN),
                        r.confidence.unwrap_or(f32::NAN),
                        r.milliseconds
                            .map_or(String::new(), |ms| format!("  {ms:.1} ms")),
                        match r.faces.as_ref().map(Vec::len) {
                            Some(1) => "  (1 face)".to_string(),
                            Some(n) if n > 1 => format!("  (most suspicious of {n} faces)"),
                            _ => String::new(),
                        }
                    )?,
                }
                // With several faces, a line per face under the image's.
                if let Some(faces) = r.faces.as_ref().filter(|f| f.len() > 1) {
                    for (k, face) in faces.iter().enumerate() {
                        let [x1, y1, x2, y2] = face.bbox.map(|v| v.round() as i64);
                        let place = format!("  face {} at ({x1},{y1})-({x2},{y2})", k + 1);
                        writeln!(
                            out,
                            "{place:<width$}  {:<5}  {:>7.4}  {:>10.4}",
                            face.label, face.p_fake, face.confidence
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}
