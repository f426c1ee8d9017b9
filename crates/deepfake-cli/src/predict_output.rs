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

#[cfg(test)]
mod tests {
    use super::*;

    /// A face at `bbox` judged `label` with `p_fake`.
    fn face(bbox: [f32; 4], label: &str, p_fake: f32) -> serde_json::Value {
        let confidence = if label == "fake" {
            p_fake
        } else {
            1.0 - p_fake
        };
        serde_json::json!({
            "box": bbox, "detection": 0.99, "landmarks": [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
            "label": label, "p_fake": p_fake, "confidence": confidence,
        })
    }

    /// One scored image with one face (and its time), one with two faces, one that failed
    /// and one without a face; the first path and the error need CSV quoting.
    fn records() -> Vec<Record> {
        let json = serde_json::json!([
            {"path": "photos/a,b \"x\".png", "label": "fake", "p_fake": 0.8125,
             "confidence": 0.8125, "entropy": 0.48, "threshold": 0.5, "temperature": 1.0,
             "milliseconds": 12.34, "faces": [face([1.0, 2.0, 30.0, 40.0], "fake", 0.8125)]},
            {"path": "group.png", "label": "real", "p_fake": 0.25, "confidence": 0.75,
             "entropy": 0.56, "threshold": 0.5, "temperature": 1.0,
             "faces": [face([10.2, 19.6, 49.5, 60.7], "real", 0.25),
                       face([70.0, 5.4, 90.49, 30.0], "real", 0.125)]},
            {"path": "broken.jpg", "threshold": 0.5, "temperature": 1.0,
             "error": "decoding broken.jpg: bad, \"really\""},
            {"path": "empty.png", "threshold": 0.5, "temperature": 1.0, "faces": [],
             "note": "no face found"},
        ]);
        serde_json::from_value(json).expect("records")
    }

    fn written(records: &[Record], format: Format) -> String {
        let mut out = Vec::new();
        write_records(&mut out, records, format).expect("written to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn csv_has_one_quoted_row_per_record_with_six_decimals_and_face_counts() {
        assert_eq!(
            written(&records(), Format::Csv),
            "path,label,p_fake,confidence,entropy,error,faces,note\n\
             \"photos/a,b \"\"x\"\".png\",fake,0.812500,0.812500,0.480000,,1,\n\
             group.png,real,0.250000,0.750000,0.560000,,2,\n\
             broken.jpg,,,,,\"decoding broken.jpg: bad, \"\"really\"\"\",,\n\
             empty.png,,,,,,0,no face found\n"
        );
    }

    #[test]
    fn table_aligns_on_the_longest_path_and_lists_the_faces_of_a_group() {
        // The longest path has 18 characters: every path column is 18 wide.
        assert_eq!(
            written(&records(), Format::Table),
            "path                label   p_fake  confidence\n\
             photos/a,b \"x\".png  fake    0.8125      0.8125  12.3 ms  (1 face)\n\
             group.png           real    0.2500      0.7500  (most suspicious of 2 faces)\n  \
             face 1 at (10,20)-(50,61)  real    0.2500      0.7500\n  \
             face 2 at (70,5)-(90,30)  real    0.1250      0.8750\n\
             broken.jpg          error: decoding broken.jpg: bad, \"really\"\n\
             empty.png           no face found\n"
        );
    }

    #[test]
    fn table_path_column_is_4_to_80_wide() {
        let mut long = records().swap_remove(2);
        long.path = "d/".repeat(50);
        let table = written(&[long], Format::Table);
        let header = table.lines().next().expect("a header");
        assert_eq!(header.len(), 80 + "  label   p_fake  confidence".len());
        let mut short = records().swap_remove(2);
        short.path = "a".into();
        let table = written(&[short], Format::Table);
        assert!(table.starts_with("path  label"), "{table}");
        assert_eq!(
            written(&[], Format::Table),
            "path  label   p_fake  confidence\n"
        );
    }

    #[test]
    fn json_and_json_lines_give_the_records_back() {
        let records = records();
        let json: Vec<Record> =
            serde_json::from_str(&written(&records, Format::Json)).expect("a JSON array");
        assert_eq!(json, records);
        let lines: Vec<Record> = written(&records, Format::Jsonl)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON record per line"))
            .collect();
        assert_eq!(lines, records);
    }
}
