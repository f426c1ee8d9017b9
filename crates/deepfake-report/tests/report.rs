//! A whole report from scores and images: every file is written, figures decode at their
//! size and show the values, and the page is self-contained.

use std::path::Path;

use deepfake_formats::EpochRecord;
use deepfake_metrics::{Report, ReportOptions, RobustnessRow, Scored};
use deepfake_report::{ReportInputs, TemperatureSummary, read_history, write_report};
use image::{Rgb, RgbImage};

fn write_images(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let path = dir.join(format!("img_{i:03}.png"));
            RgbImage::from_fn(40, 30, |x, y| {
                Rgb([(x * 6) as u8, (y * 8) as u8, (i * 9) as u8])
            })
            .save(&path)
            .unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect()
}

/// `epochs` epochs of a run whose losses fall as 1 / epoch and accuracies rise by 0.1 an epoch.
fn history(epochs: usize) -> Vec<EpochRecord> {
    (1..=epochs)
        .map(|epoch| EpochRecord {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_accuracy: 0.5 + 0.1 * epoch as f64,
            val_loss: 1.1 / epoch as f64,
            val_accuracy: 0.45 + 0.1 * epoch as f64,
            lr: 1e-3,
            seconds: 10.0,
            images_per_second: 100.0,
            step_images_per_second: 120.0,
            loader_images_per_second: 900.0,
        })
        .collect()
}

#[test]
fn report_writes_every_figure_and_a_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40;
    let names = write_images(dir.path(), n);
    let labels: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
    // Mostly right, a few confident mistakes.
    let scores: Vec<f64> = (0..n)
        .map(|i| {
            let base = if i % 2 == 1 { 0.8 } else { 0.2 };
            if i % 9 == 0 {
                1.0 - base
            } else {
                base + 0.003 * i as f64
            }
        })
        .collect();
    let scored = Scored::new(labels, scores).unwrap();
    let report = Report::compute(&scored, Some(&names), &ReportOptions::default()).unwrap();
    let mut inputs = ReportInputs::new("test run, test split", &report, &scored);
    inputs.names = Some(&names);
    inputs.notes = vec!["Synthetic data <demo>".into()];
    inputs.temperature = Some(TemperatureSummary {
        temperature: 1.7,
        ece_before: 0.12,
        ece_after: 0.05,
    });
    inputs.history = Some(history(4));
    let out = dir.path().join("eval");
    let files = write_report(&out, &inputs).unwrap();

    let names_written: Vec<&str> = files.figures.iter().map(|f| f.name.as_str()).collect();
    for expected in [
        "dashboard",
        "training_curves",
        "confusion_matrix",
        "roc",
        "precision_recall",
        "reliability",
        "confidence_distribution",
        "errors_by_confidence",
        "sample_grid",
    ] {
        assert!(
            names_written.contains(&expected),
            "{expected} missing: {names_written:?}"
        );
    }
    for figure in &files.figures {
        let png = image::open(&figure.png).unwrap().to_rgb8();
        assert!(png.width() >= 400 && png.height() >= 190, "{}", figure.name);
        // Not blank: some pixels are far from white.
        let inked = png
            .pixels()
            .filter(|p| p.0.iter().any(|&v| v < 128))
            .count();
        assert!(
            inked > 500,
            "{} looks blank ({inked} dark pixels)",
            figure.name
        );
        let svg = std::fs::read_to_string(&figure.svg).unwrap();
        assert!(svg.contains("<svg"), "{}", figure.name);
    }
    let roc = files.figures.iter().find(|f| f.name == "roc").unwrap();
    let auc = format!("{:.4}", report.roc_auc.unwrap());
    assert!(roc.svg_text.contains(&auc), "ROC figure shows AUC {auc}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.report_json).unwrap()).unwrap();
    assert_eq!(json["n"], n);
    assert_eq!(json["accuracy"].as_f64().unwrap(), report.accuracy);

    let html = std::fs::read_to_string(&files.index_html).unwrap();
    assert_eq!(html.matches("<svg").count(), files.figures.len());
    assert!(html.contains("Synthetic data &lt;demo&gt;"));
    assert!(html.contains("T = 1.7000"));
    for external in ["src=\"http", "href=\"http", "<script", "<link", "url(http"] {
        assert!(
            !html.contains(external),
            "page refers to the network: {external}"
        );
    }
}

#[test]
fn one_class_data_still_gives_a_report_without_undefined_curves() {
    let dir = tempfile::tempdir().unwrap();
    let scored = Scored::new(vec![true; 5], vec![0.9, 0.8, 0.3, 0.7, 0.6]).unwrap();
    let report = Report::compute(&scored, None, &ReportOptions::default()).unwrap();
    assert!(report.roc_auc.is_none());
    let inputs = ReportInputs::new("one class", &report, &scored);
    let files = write_report(dir.path(), &inputs).unwrap();
    assert!(files.figures.iter().all(|f| f.name != "roc"));
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    assert!(html.contains(
        "<tr><td>ROC AUC</td><td>n/a</td><td>&ge; 0.95</td>\
         <td><span class=\"\">undefined</span></td></tr>"
    ));
}

/// File names are data, not markup: names that would open a tag, close a cell or run a script
/// if pasted into the page appear escaped in the table of errors and in the sample grid.
#[test]
fn hostile_file_names_are_escaped_in_the_page_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    // Valid Linux file names (no '/'), each a file the sample grid can load.
    let hostile = [
        "<img src=x onerror=alert(1)>.png",
        "\"quoted\" & 'apos' <b>.png",
        "a]]><svg onload=alert(2)>.png",
    ];
    let mut names: Vec<String> = hostile
        .iter()
        .map(|name| {
            let path = dir.path().join(name);
            RgbImage::from_pixel(20, 20, Rgb([200, 10, 10]))
                .save_with_format(&path, image::ImageFormat::Png)
                .unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect();
    // A path with a closing tag, which cannot be a file: listed, never loaded.
    names.push("x/</td><script>alert(3)</script>".into());
    // Every sample confidently wrong, so each name is in the table of errors.
    let labels = vec![false, true, false, true];
    let scores = vec![0.99, 0.02, 0.97, 0.01];
    let scored = Scored::new(labels, scores).unwrap();
    let report = Report::compute(&scored, Some(&names), &ReportOptions::default()).unwrap();
    assert_eq!(report.most_confident_errors.len(), 4);
    let mut inputs = ReportInputs::new("hostile names", &report, &scored);
    inputs.names = Some(&names);
    let files = write_report(&dir.path().join("eval"), &inputs).unwrap();

    let html = std::fs::read_to_string(&files.index_html).unwrap();
    for raw in [
        "<img src=x",
        "<svg onload",
        "<b>",
        "<script",
        "</td><script",
    ] {
        assert!(!html.contains(raw), "unescaped {raw:?} in the page");
    }
    for escaped in [
        "&lt;img src=x onerror=alert(1)&gt;.png",
        "&quot;quoted&quot; &amp; &#39;apos&#39; &lt;b&gt;.png",
        "&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped:?} missing from the page");
    }
    let grid = files
        .figures
        .iter()
        .find(|f| f.name == "sample_grid")
        .expect("the three loadable files make a sample grid");
    assert!(!grid.svg_text.contains("<img") && !grid.svg_text.contains("<svg onload"));
    assert!(
        grid.svg_text.contains("&lt;"),
        "the grid shows the names' '<'"
    );
}

/// The page shows the report's numbers where a reader looks for them: each headline metric
/// beside its target and status, each class's row, the confusion counts, and the robustness
/// study's sentence, table and figures. (Hand-computed from 8 scores.)
#[test]
fn the_page_shows_the_headline_table_the_classes_and_the_robustness_study() {
    let dir = tempfile::tempdir().unwrap();
    // At 0.5: 3 of 4 real and all 4 fake right (accuracy 7/8); every fake above every real
    // (ROC AUC 1).
    let labels = vec![false, false, false, false, true, true, true, true];
    let scores = vec![0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95];
    let scored = Scored::new(labels, scores).unwrap();
    let mut report = Report::compute(&scored, None, &ReportOptions::default()).unwrap();
    let row = |label: &str, level, accuracy, roc_auc, flipped| RobustnessRow {
        perturbation: label.split(' ').next().unwrap().into(),
        level,
        label: label.into(),
        n: 8,
        accuracy,
        roc_auc,
        ece: 0.1,
        mean_p_fake_real: Some(0.3),
        mean_p_fake_fake: None,
        flipped,
    };
    report.robustness = Some(vec![
        row("clean", None, 0.875, Some(1.0), 0.0),
        row("JPEG q50", Some(50.0), 0.625, Some(0.8125), 0.25),
        row("blur 2", Some(2.0), 0.75, Some(0.9), 0.125),
    ]);
    let inputs = ReportInputs::new("page contents", &report, &scored);
    assert!(format!("{inputs:?}").contains("title: \"page contents\""));
    let files = write_report(&dir.path().join("eval"), &inputs).unwrap();
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    for expected in [
        // Headline metrics: value, target, status.
        "<tr><td>Accuracy</td><td>0.8750</td><td>&ge; 0.93</td>\
         <td><span class=\"missed\">below target</span></td></tr>",
        "<tr><td>ROC AUC</td><td>1.0000</td><td>&ge; 0.95</td>\
         <td><span class=\"met\">met</span></td></tr>",
        "n = 8 images, threshold 0.5 on P(fake).",
        // Real: precision 3/3, recall 3/4, F1 6/7; Fake: precision 4/5, recall 1, F1 8/9.
        "<tr><td>Real</td><td>1.0000</td><td>0.7500</td><td>0.8571</td><td>4</td></tr>",
        "<tr><td>Fake</td><td>0.8000</td><td>1.0000</td><td>0.8889</td><td>4</td></tr>",
        "TN 3 FP 1 FN 0 TP 4.",
        "<tr><td>ROC AUC</td><td>1.0000</td></tr>",
        // The study: the lowest AUC among the perturbed rows, then every row.
        "The weakest perturbation is <b>JPEG q50</b>: ROC AUC 0.8125 against 1.0000 clean, \
         with 25.0% of the verdicts flipped.",
        "<tr><td>blur 2</td><td>8</td><td>0.7500</td><td>0.9000</td><td>0.1000</td>\
         <td>0.3000</td><td>n/a</td><td>12.5%</td></tr>",
        // The figures' captions: 7 right and 1 wrong.
        "<figcaption>Confidence of correct (7) and wrong (1) predictions</figcaption>",
        "<figcaption>ROC curve (AUC 1.0000)</figcaption>",
        "<figcaption>Confusion matrix (threshold 0.5)</figcaption>",
        "<figcaption>Error rate by confidence</figcaption>",
        "<figcaption>Robustness: flipped verdicts by perturbation severity</figcaption>",
        &format!(
            "<figcaption>Reliability diagram (ECE {:.4}, MCE {:.4})</figcaption>",
            report.ece, report.mce
        ),
        &format!(
            "<figcaption>Precision-recall curve (AP {:.4}, AUC {:.4})</figcaption>",
            report.average_precision.unwrap(),
            report.pr_auc.unwrap()
        ),
    ] {
        assert!(
            html.contains(expected),
            "{expected:?} missing from the page"
        );
    }
    let written: Vec<&str> = files.figures.iter().map(|f| f.name.as_str()).collect();
    for stem in [
        "robustness_auc",
        "robustness_accuracy",
        "robustness_ece",
        "robustness_flipped",
    ] {
        assert!(written.contains(&stem), "{stem} missing: {written:?}");
        assert!(html.contains(&format!("<figure id=\"{stem}\">")), "{stem}");
    }
}

#[test]
fn a_history_file_reads_back_and_a_wrong_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let epochs = history(2);
    let path = dir.path().join("history.json");
    std::fs::write(&path, serde_json::to_vec(&epochs).unwrap()).unwrap();
    let read = read_history(&path).unwrap();
    assert_eq!(read, epochs);
    assert_eq!((read[1].epoch, read[1].train_loss), (2, 0.5));

    let wrong = dir.path().join("report.json");
    std::fs::write(&wrong, b"{\"n\": 8}").unwrap();
    let error = read_history(&wrong).unwrap_err().to_string();
    assert!(
        error.contains("report.json") && error.contains("not a training history"),
        "{error}"
    );
}
