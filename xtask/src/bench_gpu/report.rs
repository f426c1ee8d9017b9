//! `report`: the run's records (`gpu.jsonl`) into the GPU section of docs/benchmarks.md
//! (`target/bench/gpu.md`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bench_output::BenchOutput;

/// A record's text field.
fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(record: &Value, key: &str) -> Option<f64> {
    record.get(key).and_then(Value::as_f64)
}

/// One table row: column (runtime and device) -> images/s and memory in MB.
type Row = BTreeMap<String, (f64, Option<f64>)>;

pub(super) fn report(records: &Path, machine: &str) -> Result<()> {
    let body = std::fs::read_to_string(records)
        .with_context(|| format!("reading {}", records.display()))?;
    let records: Vec<Value> = body
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .with_context(|| format!("parsing {}", records.display()))?;
    if records.is_empty() {
        bail!("no records in the file: did bench_gpu.sh run?");
    }
    // The section compares with PyTorch on the GPU; a run without it (a rehearsal on a CPU
    // with Mesa's software Vulkan) prints its tables but does not replace the page's section.
    let has_peer = records
        .iter()
        .any(|r| text(r, "runtime") == "pytorch" && text(r, "device") == "cuda");
    let mut out = BenchOutput::new("gpu");
    out.line(format!(
        "{machine}. Seed preset unless noted, random weights, median of the timed passes \
         (images/s); Burn with autotune + fusion, the inference form (BatchNorm folded) for \
         inference; PyTorch eager with cuDNN benchmark mode. `cargo xtask bench gpu`."
    ));
    out.line("");
    for check in records
        .iter()
        .filter(|r| text(r, "check") == "logits vs flex")
    {
        out.line(format!(
            "Correctness: logits on {} ({}) vs flex, max |diff| {:.1e} (logits up to {:.3}).",
            text(check, "device"),
            text(check, "variant"),
            number(check, "max_abs_diff").unwrap_or(f64::NAN),
            number(check, "logits_max_abs").unwrap_or(f64::NAN),
        ));
    }
    out.line("");
    // (part, batch) -> column -> images/s and memory, for the runs with the default method.
    let mut table: BTreeMap<(String, u64), Row> = BTreeMap::new();
    // case ("detector on cuda") -> grouped-conv method -> images/s, at batch 32.
    let mut grouped: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for record in &records {
        let (Some(ips), Some(batch)) = (
            number(record, "images_per_second"),
            record.get("batch").and_then(Value::as_u64),
        ) else {
            continue;
        };
        let part = text(record, "part").to_string();
        let runtime = text(record, "runtime");
        let column = if runtime == "burn" {
            format!("Burn {}", text(record, "device"))
        } else {
            format!("{runtime} {}", text(record, "device"))
        };
        let memory = number(record, "gpu_reserved_mb").or_else(|| {
            (runtime != "burn")
                .then(|| number(record, "peak_rss_mb"))
                .flatten()
        });
        let method = text(record, "grouped_conv");
        // Burn's own runs: each shape's method measured ("measured"), not one pinned.
        let default_method = method == "measured" || runtime != "burn";
        if runtime == "burn" && batch == 32 {
            grouped
                .entry(format!("{part} on {}", text(record, "device")))
                .or_default()
                .entry(method.to_string())
                .or_insert(ips);
        }
        if !default_method {
            continue;
        }
        if !columns.contains(&column) {
            columns.push(column.clone());
        }
        table
            .entry((part, batch))
            .or_default()
            .insert(column, (ips, memory));
    }
    out.line(format!(
        "| part | batch | {} | best Burn / best PyTorch |",
        columns.join(" | ")
    ));
    out.line(format!("|---|---|{}---|", "---|".repeat(columns.len())));
    for ((part, batch), cells) in &table {
        let best = |prefix: &str| {
            cells
                .iter()
                .filter(|(c, _)| c.starts_with(prefix))
                .map(|(_, (ips, _))| *ips)
                .fold(f64::NAN, f64::max)
        };
        let ratio = best("Burn") / best("pytorch");
        let row: Vec<String> = columns
            .iter()
            .map(|c| match cells.get(c) {
                Some((ips, Some(mb))) => format!("{ips:.1} ({mb:.0} MB)"),
                Some((ips, None)) => format!("{ips:.1}"),
                None => "-".into(),
            })
            .collect();
        out.line(format!(
            "| {part} | {batch} | {} | {} |",
            row.join(" | "),
            if ratio.is_finite() {
                format!("{ratio:.3}x")
            } else {
                "-".into()
            }
        ));
    }
    out.line("");
    out.line(
        "Memory in parentheses: Burn's device memory pool right after the pass (reserved), \
         PyTorch's torch.cuda.max_memory_allocated.",
    );
    let loops = training_loop_lines(&records);
    if !loops.is_empty() {
        out.line("");
        out.line(
            "train_epoch: the `train` command's loop end to end (the loader decoding, \
             augmenting and resizing synthetic JPEGs while the device runs the steps; the \
             second of two epochs), against PyTorch's DataLoader loop on the same files; where \
             the loader's rate is below the steps' alone, it starves the device:",
        );
        out.line("");
        for line in loops {
            out.line(line);
        }
    }
    if !grouped.is_empty() {
        out.line("");
        out.line("Grouped 3x3 convolutions, batch 32, images/s by formulation:");
        out.line("");
        out.line("| case | direct | im2col | shifted | measured per shape (the default) |");
        out.line("|---|---|---|---|---|");
        for (case, methods) in &grouped {
            let cell = |method: &str| {
                methods
                    .get(method)
                    .map_or("-".into(), |ips| format!("{ips:.1}"))
            };
            out.line(format!(
                "| {case} | {} | {} | {} | {} |",
                cell("direct"),
                cell("im2col"),
                cell("shifted"),
                cell("measured")
            ));
        }
    }
    let measured = measured_table(&records);
    if !measured.is_empty() {
        out.line("");
        out.line(
            "What each run measured per grouped 3x3 layer shape before choosing its formulation \
             (ms per run, the least of 3 after a warm-up; forward, plus backward when training):",
        );
        out.line("");
        for line in measured {
            out.line(line);
        }
    }
    if has_peer {
        out.save()
    } else {
        println!(
            "\nnot kept for docs/benchmarks.md: the records hold no PyTorch CUDA run (a rehearsal \
             without a GPU?), so `cargo xtask bench docs` keeps the page's GPU section"
        );
        Ok(())
    }
}

/// One line per `train_epoch` record: wall, steps-alone and loader images/s.
fn training_loop_lines(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| text(r, "part") == "train_epoch")
        .map(|r| {
            let rate =
                |key: &str| number(r, key).map_or("-".to_string(), |ips| format!("{ips:.1}"));
            let feeder = if text(r, "runtime") == "burn" {
                format!(
                    "loader {} images/s on {} threads",
                    rate("loader_images_per_second"),
                    number(r, "loader_threads").unwrap_or(f64::NAN)
                )
            } else {
                format!(
                    "DataLoader with {} workers",
                    number(r, "loader_workers").unwrap_or(f64::NAN)
                )
            };
            format!(
                "- {} {}, batch {}: {} images/s, steps alone {}, {feeder}",
                text(r, "runtime"),
                text(r, "device"),
                r.get("batch").and_then(Value::as_u64).unwrap_or(0),
                rate("images_per_second"),
                rate("step_images_per_second"),
            )
        })
        .collect()
}

/// One row of the measurement table: ms per formulation (direct, im2col, shifted).
struct MeasuredRow<'a> {
    device: &'a str,
    pass: &'static str,
    shape: &'a str,
    ms: Vec<String>,
    chosen: &'a str,
}

/// The grouped-convolution measurements of Burn's records (`grouped_conv_measurements`), one
/// row per device, pass and layer shape: a markdown table, empty without any.
fn measured_table(records: &[Value]) -> Vec<String> {
    // In the records' order (layer order), one per device, pass and shape.
    let mut rows: Vec<MeasuredRow> = Vec::new();
    for record in records.iter().filter(|r| text(r, "runtime") == "burn") {
        let pass = if matches!(text(record, "part"), "train_step" | "train_epoch") {
            "training"
        } else {
            "inference"
        };
        let Some(list) = record
            .get("grouped_conv_measurements")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for m in list {
            let ms = ["direct", "im2col", "shifted"]
                .iter()
                .map(|method| {
                    m.get("seconds")
                        .and_then(|s| s.get(method))
                        .and_then(Value::as_f64)
                        .map_or("failed".into(), |s| format!("{:.2}", s * 1e3))
                })
                .collect();
            let row = MeasuredRow {
                device: text(record, "device"),
                pass,
                shape: text(m, "shape"),
                ms,
                chosen: text(m, "chosen"),
            };
            let seen =
                |r: &MeasuredRow| (r.device, r.pass, r.shape) == (row.device, pass, row.shape);
            if !rows.iter().any(seen) {
                rows.push(row);
            }
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        "| device | pass | shape | direct | im2col | shifted | chosen |".to_string(),
        "|---|---|---|---:|---:|---:|---|".to_string(),
    ];
    for row in rows {
        lines.push(format!(
            "| {} | {} | {} | {} | {} |",
            row.device,
            row.pass,
            row.shape,
            row.ms.join(" | "),
            row.chosen
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_table_has_one_row_per_device_pass_and_shape() {
        let shape = "batch 32: 128x56x56 -> 128x56x56, 3x3, 32 groups, stride 1x1";
        let measurement = serde_json::json!([{
            "shape": shape,
            "seconds": {"direct": 0.004, "im2col": 0.0021, "shifted": null},
            "chosen": "im2col",
        }]);
        let record = |part: &str| {
            serde_json::json!({
                "runtime": "burn", "device": "cuda", "part": part, "batch": 32,
                "grouped_conv_measurements": measurement,
            })
        };
        // The same measurement in two inference records (batch 32 detector and backbone) is
        // one row; the training step's is another.
        let records = [
            record("detector"),
            record("backbone"),
            record("train_step"),
            serde_json::json!({"runtime": "pytorch", "device": "cuda", "part": "detector"}),
        ];
        let table = measured_table(&records);
        assert_eq!(
            table[2..],
            [
                format!("| cuda | inference | {shape} | 4.00 | 2.10 | failed | im2col |"),
                format!("| cuda | training | {shape} | 4.00 | 2.10 | failed | im2col |"),
            ]
        );
        assert!(measured_table(&records[3..]).is_empty());
    }

    #[test]
    fn training_loop_lines_name_the_feeder_of_each_runtime() {
        let records = [
            serde_json::json!({
                "runtime": "burn", "device": "cuda", "part": "train_epoch", "batch": 64,
                "images_per_second": 812.34, "step_images_per_second": 850.0,
                "loader_images_per_second": 4100.5, "loader_threads": 16,
            }),
            serde_json::json!({
                "runtime": "pytorch-channels-last", "device": "cuda", "part": "train_epoch",
                "batch": 64, "images_per_second": 1500.0, "step_images_per_second": 1900.0,
                "loader_workers": 16,
            }),
            serde_json::json!({"runtime": "burn", "device": "cuda", "part": "train_step"}),
        ];
        assert_eq!(
            training_loop_lines(&records),
            [
                "- burn cuda, batch 64: 812.3 images/s, steps alone 850.0, loader 4100.5 \
                 images/s on 16 threads",
                "- pytorch-channels-last cuda, batch 64: 1500.0 images/s, steps alone 1900.0, \
                 DataLoader with 16 workers",
            ]
        );
    }
}
