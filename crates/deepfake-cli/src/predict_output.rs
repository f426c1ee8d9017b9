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
    /// path,label,p_fake,confidence,entropy,error
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
            writeln!(out, "path,label,p_fake,confidence,entropy,error")?;
            for r in records {
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    csv_field(&r.path),
                    r.label.as_deref().unwrap_or(""),
                    number(r.p_fake),
                    number(r.confidence),
                    number(r.entropy),
                    csv_field(r.error.as_deref().unwrap_or(""))
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
                match &r.error {
                    Some(e) => writeln!(out, "{:<width$}  error: {e}", r.path)?,
                    None => writeln!(
                        out,
                        "{:<width$}  {:<5}  {:>7.4}  {:>10.4}{}",
                        r.path,
                        r.label.as_deref().unwrap_or(""),
                        r.p_fake.unwrap_or(f32::NAN),
                        r.confidence.unwrap_or(f32::NAN),
                        r.milliseconds
                            .map_or(String::new(), |ms| format!("  {ms:.1} ms"))
                    )?,
                }
            }
        }
    }
    Ok(())
}
