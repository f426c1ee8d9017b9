//! `index.html`: one self-contained page (inline SVG figures, inline CSS, no scripts, no
//! network) with the headline table, per-class scores, calibration, error analysis and
//! every figure.

use std::fmt::Write as _;

use deepfake_metrics::{ClassScores, Report, RobustnessRow, weakest};

use crate::error::Result;
use crate::figures::escape_xml;
use crate::inputs::ReportInputs;
use crate::render::RenderedFigure;
use crate::targets::HEADLINE_TARGETS;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;\
max-width:1120px;margin:24px auto;padding:0 16px;color:#222}\
h1{font-size:26px;margin-bottom:4px}h2{font-size:20px;margin-top:32px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}\
.met{color:#2e8b57;font-weight:bold}.missed{color:#d64541;font-weight:bold}\
.note{background:#fff6d6;border:1px solid #e8d48a;padding:8px 12px;margin:8px 0}\
figure{margin:16px 0}figcaption{font-weight:bold;margin-bottom:4px}\
figure svg{max-width:100%;height:auto;border:1px solid #eee}.small{color:#666;font-size:13px}";

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"))
}

fn class_row(name: &str, scores: &ClassScores) -> String {
    format!(
        "<tr><td>{name}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
        scores.precision, scores.recall, scores.f1, scores.support
    )
}

fn headline_table(report: &Report) -> String {
    let mut rows = String::new();
    for target in &HEADLINE_TARGETS {
        let value = (target.value)(report);
        let class = match target.met(report) {
            Some(true) => "met",
            Some(false) => "missed",
            None => "",
        };
        let status = format!("<span class=\"{class}\">{}</span>", target.status(report));
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>&ge; {:.2}</td><td>{status}</td></tr>",
            target.name,
            number(value),
            target.at_least
        );
    }
    format!("<table><tr><th>Metric</th><th>Value</th><th>Target</th><th></th></tr>{rows}</table>")
}

/// The page, with `figures` inlined.
pub fn page(inputs: &ReportInputs, figures: &[RenderedFigure]) -> Result<String> {
    let r = inputs.report;
    let mut html = String::new();
    let title = escape_xml(&inputs.title);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Deepfake detector evaluation: {title}</title><style>{STYLE}</style></head><body>\
         <h1>Deepfake detector evaluation</h1><p class=\"small\">{title}</p>"
    );
    for note in &inputs.notes {
        let _ = write!(html, "<p class=\"note\">{}</p>", escape_xml(note));
    }
    let _ = write!(
        html,
        "<h2>Headline metrics</h2>{}<p>n = {} images, threshold {} on P(fake).</p>",
        headline_table(r),
        r.n,
        r.threshold
    );
    if let Some(b) = &r.bootstrap {
        let _ = write!(
            html,
            "<p>Bootstrap 95% intervals ({} resamples): accuracy {:.4} [{:.4}, {:.4}]",
            b.accuracy.resamples, b.accuracy.estimate, b.accuracy.lower, b.accuracy.upper
        );
        if let Some(auc) = &b.roc_auc {
            let _ = write!(
                html,
                "; ROC AUC {:.4} [{:.4}, {:.4}]",
                auc.estimate, auc.lower, auc.upper
            );
        }
        html.push_str(".</p>");
    }
    let m = &r.confusion_matrix;
    let _ = write!(
        html,
        "<h2>Per class</h2><table><tr><th>Class</th><th>Precision</th><th>Recall</th>\
         <th>F1</th><th>Support</th></tr>{}{}{}{}</table>\
         <p>Confusion (positive = Fake): TN {} FP {} FN {} TP {}.</p>",
        class_row("Real", &r.per_class.real),
        class_row("Fake", &r.per_class.fake),
        class_row("macro avg", &r.macro_avg),
        class_row("weighted avg", &r.weighted_avg),
        m.tn,
        m.fp,
        m.fn_,
        m.tp
    );
    let _ = write!(
        html,
        "<h2>Ranking and calibration</h2><table><tr><th>Metric</th><th>Value</th></tr>\
         <tr><td>ROC AUC</td><td>{}</td></tr><tr><td>Average precision</td><td>{}</td></tr>\
         <tr><td>PR AUC (trapezoid)</td><td>{}</td></tr><tr><td>Equal error rate</td><td>{}</td></tr>\
         <tr><td>Youden threshold</td><td>{}</td></tr><tr><td>ECE (15 bins)</td><td>{:.4}</td></tr>\
         <tr><td>MCE</td><td>{:.4}</td></tr><tr><td>Brier score</td><td>{:.4}</td></tr>\
         <tr><td>Log loss</td><td>{:.4}</td></tr><tr><td>Mean confidence</td><td>{:.4}</td></tr>\
         <tr><td>Mean confidence, correct</td><td>{}</td></tr>\
         <tr><td>Mean confidence, wrong</td><td>{}</td></tr>\
         <tr><td>Mean predictive entropy (bits)</td><td>{:.4}</td></tr></table>",
        number(r.roc_auc),
        number(r.average_precision),
        number(r.pr_auc),
        number(r.eer),
        number(r.youden_threshold),
        r.ece,
        r.mce,
        r.brier,
        r.log_loss,
        r.confidence.mean_confidence,
        number(r.confidence.mean_confidence_correct),
        number(r.confidence.mean_confidence_wrong),
        r.confidence.entropy.mean
    );
    if let Some(t) = inputs.temperature {
        let _ = write!(
            html,
            "<p>Temperature scaling fitted on the validation split: T = {:.4}; ECE on this split \
             {:.4} before, {:.4} after. The temperature is saved with the model \
             (model_info.json) and used by prediction.</p>",
            t.temperature, t.ece_before, t.ece_after
        );
    }
    if let Some(rows) = r.robustness.as_deref().filter(|rows| !rows.is_empty()) {
        html.push_str(&robustness_section(rows));
    }
    html.push_str("<h2>Figures</h2>");
    for figure in figures {
        let file = figure
            .png
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = write!(
            html,
            "<figure id=\"{}\"><figcaption>{}</figcaption>{}<div class=\"small\">\
             figures/{} and .svg</div></figure>",
            figure.name,
            escape_xml(&figure.title),
            strip_xml_declaration(&figure.svg_text),
            escape_xml(&file)
        );
    }
    if !r.most_confident_errors.is_empty() {
        html.push_str(
            "<h2>Most confident errors</h2><table><tr><th>File</th><th>True</th>\
             <th>P(fake)</th><th>Confidence</th></tr>",
        );
        for e in &r.most_confident_errors {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                escape_xml(&e.name),
                escape_xml(&e.label),
                e.p_fake,
                e.confidence
            );
        }
        html.push_str("</table>");
    }
    html.push_str(
        "<p class=\"small\">Written by deepfake-report. All figures are inline; the page \
         needs no network.</p></body></html>\n",
    );
    Ok(html)
}

/// The sentence naming the weakest perturbation, then the table of the study.
fn robustness_section(rows: &[RobustnessRow]) -> String {
    let mut html = String::from("<h2>Robustness</h2>");
    let clean = rows.iter().find(|row| row.level.is_none());
    if let Some(worst) = weakest(rows) {
        let (metric, value, reference) = match worst.roc_auc {
            Some(auc) => ("ROC AUC", auc, clean.and_then(|c| c.roc_auc)),
            None => ("accuracy", worst.accuracy, clean.map(|c| c.accuracy)),
        };
        let _ = write!(
            html,
            "<p>The weakest perturbation is <b>{}</b>: {metric} {value:.4}{}, with {:.1}% of \
             the verdicts flipped.</p>",
            escape_xml(&worst.label),
            reference.map_or(String::new(), |c| format!(" against {c:.4} clean")),
            100.0 * worst.flipped
        );
    }
    html.push_str(
        "<table><tr><th>Perturbation</th><th>n</th><th>Accuracy</th><th>ROC AUC</th>\
         <th>ECE</th><th>Mean P(fake), real</th><th>Mean P(fake), fake</th>\
         <th>Flipped</th></tr>",
    );
    for row in rows {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{:.4}</td><td>{}</td>\
             <td>{}</td><td>{:.1}%</td></tr>",
            escape_xml(&row.label),
            row.n,
            row.accuracy,
            number(row.roc_auc),
            row.ece,
            number(row.mean_p_fake_real),
            number(row.mean_p_fake_fake),
            100.0 * row.flipped
        );
    }
    html.push_str(
        "</table><p class=\"small\">Each perturbation is applied to the decoded image before \
         the model's preprocessing (JPEG and blur as PIL does them; noise variance on the \
         [0, 1] scale; saturation and contrast at DeeperForensics-1.0's levels).</p>",
    );
    html
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}
