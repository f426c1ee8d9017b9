//! `deepfake::eval`: a saved model scored on a synthetic split gives a report that agrees
//! with the scores, a fitted temperature saved in model_info.json, and clear errors.

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use deepfake::data::synth::{SynthConfig, write_dataset};
use deepfake::data::{Dataset, Split};
use deepfake::eval::{
    Checkpoint, EvalError, EvalOptions, Quiet, evaluate_checkpoint, evaluate_scores,
};
use deepfake::formats::ModelInfo;
use deepfake::metrics::ReportOptions;
use deepfake::model::{Detector, DetectorConfig};

fn tiny_weights() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-model/tests/fixtures/tiny_detector.pth")
}

fn deep_weights() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-model/tests/fixtures/deep_detector.pth")
}

/// A saved copy of the deep torch fixture (identity blocks, trained so that its P(fake)
/// depends on the input) with model_info.json, as a training run's best/ holds.
fn saved_model(dir: &Path) -> PathBuf {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let model = Detector::from_pytorch(deep_weights(), &config, &Device::flex()).unwrap();
    let model_dir = dir.join("model");
    model.save(&config, &model_dir).unwrap();
    model
        .model_info(&config)
        .write(&model_dir.join("model_info.json"))
        .unwrap();
    model_dir
}

fn synthetic(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let config = SynthConfig {
        per_class: 20,
        size: 64,
        ..SynthConfig::default()
    };
    write_dataset(&data, &config).unwrap();
    data
}

#[test]
fn report_of_a_saved_model_matches_its_scores_and_saves_the_temperature() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = saved_model(dir.path());
    let data = synthetic(dir.path());
    let out = dir.path().join("eval");
    let options = EvalOptions {
        checkpoint: Some(model_dir.clone()),
        data: Some(data.clone()),
        out: Some(out.clone()),
        batch_size: 7,
        report: ReportOptions {
            bootstrap_resamples: 50,
            ..ReportOptions::default()
        },
        ..EvalOptions::default()
    };
    let outcome = evaluate_checkpoint(&options, &Device::flex(), &mut Quiet).unwrap();
    let test = Dataset::open(&data, 0).unwrap().test;
    assert_eq!(outcome.report.n, test.len());

    // The report's accuracy is that of `predict` on each test file against the data set's
    // own labels (a temperature does not move a decision at 0.5).
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["n"], test.len());
    let detector = deepfake::Detector::load(&model_dir, &Device::flex()).unwrap();
    let paths: Vec<PathBuf> = test.iter().map(|s| s.path.clone()).collect();
    let predictions = detector.predict_paths(&paths);
    let mut correct = 0;
    let mut p_fake = Vec::new();
    for (sample, prediction) in test.iter().zip(predictions) {
        let prediction = prediction.unwrap();
        correct += usize::from(prediction.label == sample.label);
        p_fake.push(prediction.p_fake);
    }
    assert_eq!(outcome.report.accuracy, correct as f64 / test.len() as f64);
    let spread = deepfake_compare::spread(&p_fake, 1);
    assert!(
        spread >= 0.05,
        "P(fake) over the test split spreads only {spread}"
    );

    // The temperature was fitted and written next to the model.
    let fitted = outcome
        .temperature
        .expect("temperature fitted on valid")
        .temperature;
    let info = ModelInfo::read(&model_dir.join("model_info.json")).unwrap();
    assert_eq!(info.temperature, Some(fitted));
    assert!(fitted > 0.0);

    assert!(out.join("index.html").is_file());
    assert!(out.join("figures/roc.svg").is_file());
    // Synthetic data are labelled as such on the page.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("synthetic"));
}

/// A score file's metrics, against values worked out by hand: positives score 0.9, 0.7 and
/// 0.15, negatives 0.2 and 0.1.
#[test]
fn scores_files_give_the_metrics_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("scores.csv");
    std::fs::write(
        &csv,
        "path,label,p_fake\na.jpg,real,0.2\nb.jpg,fake,0.7\nc.jpg,fake,0.15\nd.jpg,real,0.1\ne.jpg,1,0.9\n",
    )
    .unwrap();
    let options = ReportOptions::default();
    let report = evaluate_scores(&csv, &dir.path().join("out"), &options)
        .unwrap()
        .report;
    // At 0.5: a, b, d, e right, c (fake at 0.15) wrong.
    assert_eq!(report.accuracy, 0.8);
    // ROC AUC: of the 3 x 2 positive-negative pairs, 5 rank the positive higher (0.15 < 0.2).
    assert!((report.roc_auc.unwrap() - 5.0 / 6.0).abs() < 1e-12);
    // Average precision (scikit-learn): ranked 0.9 P, 0.7 P, 0.2 N, 0.15 P, 0.1 N; precision
    // at each positive 1, 1, 3/4, each a third of the recall.
    let ap = (1.0 + 1.0 + 0.75) / 3.0;
    assert!((report.average_precision.unwrap() - ap).abs() < 1e-12);
    assert_eq!(report.n, 5);
    assert!(dir.path().join("out/index.html").is_file());
}

#[test]
fn missing_runs_checkpoints_and_empty_splits_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let options = EvalOptions {
        runs_dir: dir.path().join("runs"),
        ..EvalOptions::default()
    };
    let error = evaluate_checkpoint(&options, &device, &mut Quiet).unwrap_err();
    assert!(matches!(error, EvalError::NoRuns(_)), "{error}");
    assert!(error.to_string().contains("--checkpoint"), "{error}");

    let not_a_model = dir.path().join("empty");
    std::fs::create_dir_all(&not_a_model).unwrap();
    let error = Checkpoint::resolve(&not_a_model).unwrap_err();
    assert!(matches!(error, EvalError::NotACheckpoint(_)), "{error}");

    // Two images: the 70/15/15 split leaves the test split empty.
    let data = dir.path().join("two");
    for class in ["real", "fake"] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        image::RgbImage::new(8, 8)
            .save(data.join(class).join("a.png"))
            .unwrap();
    }
    assert!(
        Dataset::open(&data, 0)
            .unwrap()
            .split(Split::Test)
            .is_empty()
    );
    let options = EvalOptions {
        checkpoint: Some(saved_model(dir.path())),
        data: Some(data),
        ..EvalOptions::default()
    };
    let error = evaluate_checkpoint(&options, &device, &mut Quiet).unwrap_err();
    assert!(matches!(error, EvalError::EmptySplit { .. }), "{error}");
}

/// A saved tiny detector whose verdicts depend on the image. The fixture's untrained head
/// spreads its logit margins over ~1e-3 around a common offset, so its last layer is scaled
/// up and its Fake bias shifted to centre the margins of `images` on 0 (p_fake then spans
/// most of [0, 1] across them); saved with a non-trivial temperature and threshold.
fn input_sensitive_model(dir: &Path, images: &[PathBuf]) -> PathBuf {
    let config = DetectorConfig::tiny();
    let device = Device::flex();
    let mut model = Detector::from_pytorch(tiny_weights(), &config, &device).unwrap();
    let fc2 = &mut model.classifier.fc2;
    fc2.weight = Param::from_tensor(fc2.weight.val().mul_scalar(HEAD_SCALE));
    let margins: Vec<f32> = deepfake::Detector::new(model.clone(), config.clone(), &device)
        .score_paths(images, |_| {})
        .into_iter()
        .map(|logits| {
            let [real, fake] = logits.unwrap();
            fake - real
        })
        .collect();
    let mean = margins.iter().sum::<f32>() / margins.len() as f32;
    let fc2 = &mut model.classifier.fc2;
    let bias = fc2.bias.as_ref().unwrap().val();
    fc2.bias = Some(Param::from_tensor(
        bias + Tensor::<1>::from_floats([0.0, -mean], &device),
    ));
    let model_dir = dir.join("sensitive");
    model.save(&config, &model_dir).unwrap();
    let mut info = model.model_info(&config);
    info.temperature = Some(1.7);
    info.threshold = 0.45;
    info.write(&model_dir.join("model_info.json")).unwrap();
    model_dir
}

/// How much the fixture's head is amplified in [`input_sensitive_model`].
const HEAD_SCALE: f64 = 12000.0;

/// A synthetic data set, its test split and an input-sensitive model, with options that
/// evaluate it into `out` (no calibration, no bootstrap).
struct SensitiveEval {
    dir: tempfile::TempDir,
    test: Vec<deepfake::data::Sample>,
    test_paths: Vec<PathBuf>,
    model_dir: PathBuf,
    out: PathBuf,
    options: EvalOptions,
}

fn sensitive_eval(batch_size: usize) -> SensitiveEval {
    let dir = tempfile::tempdir().unwrap();
    let data = synthetic(dir.path());
    let test = Dataset::open(&data, 0).unwrap().test;
    let test_paths: Vec<PathBuf> = test.iter().map(|s| s.path.clone()).collect();
    let model_dir = input_sensitive_model(dir.path(), &test_paths);
    let out = dir.path().join("eval");
    let options = EvalOptions {
        checkpoint: Some(model_dir.clone()),
        data: Some(data),
        out: Some(out.clone()),
        batch_size,
        calibrate: false,
        report: ReportOptions {
            bootstrap_resamples: 0,
            ..ReportOptions::default()
        },
        ..EvalOptions::default()
    };
    SensitiveEval {
        dir,
        test,
        test_paths,
        model_dir,
        out,
        options,
    }
}

#[test]
fn eval_scores_every_file_as_predict_does_and_writes_them() {
    // `_dir` holds the temporary folder until the test ends.
    let SensitiveEval {
        dir: _dir,
        test,
        model_dir,
        out,
        options,
        ..
    } = sensitive_eval(5);
    let outcome = evaluate_checkpoint(&options, &Device::flex(), &mut Quiet).unwrap();

    // scores.csv: one row per test image, in the format `--scores` reads.
    let (scored, names) =
        deepfake::metrics::read_scores_csv(&out.join(deepfake::eval::SCORES_FILE)).unwrap();
    assert_eq!(names.len(), test.len());
    assert_eq!(outcome.report.n, test.len());
    let scores = scored.scores();
    let spread = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - scores.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(
        spread >= 0.3,
        "p_fake spans only {spread:.3}: the check would be vacuous ({scores:?})"
    );

    // The same files through predict (batch size and order differ on purpose).
    let predictor = deepfake::Detector::load(&model_dir, &Device::flex())
        .unwrap()
        .with_batch_size(3);
    let mut reversed = names.clone();
    reversed.reverse();
    let predicted = predictor.predict_paths(&reversed);
    for (((name, label), &from_eval), result) in names
        .iter()
        .zip(scored.labels())
        .zip(scores)
        .zip(predicted.iter().rev())
    {
        let prediction = result.as_ref().unwrap();
        let diff = (f64::from(prediction.p_fake) - from_eval).abs();
        assert!(
            diff <= 1e-6,
            "{name}: predict {} vs eval {from_eval}",
            prediction.p_fake
        );
        // Labels come from the data set's layout: fake images under fake/.
        let sample = test
            .iter()
            .find(|s| s.path.to_string_lossy() == *name)
            .unwrap();
        assert_eq!(*label, sample.label.is_fake(), "{name}");
    }
    // The report's metrics are those of these scores.
    let direct = deepfake::metrics::Report::compute(&scored, None, &options.report).unwrap();
    assert_eq!(outcome.report.roc_auc, direct.roc_auc);
    assert_eq!(outcome.report.accuracy, direct.accuracy);
}

/// `eval --robustness`: each row's numbers are those of `predict` on the perturbed images
/// written as lossless files (the same scoring path, the same images, the same noise), and
/// the perturbations move the scores by far more than the comparison's tolerance.
#[test]
fn robustness_rows_are_predict_on_the_perturbed_images() {
    use deepfake::data::{Perturbation, STUDY};
    let SensitiveEval {
        dir,
        test,
        test_paths,
        model_dir,
        out,
        mut options,
    } = sensitive_eval(3);
    options.robustness = true;
    let outcome = evaluate_checkpoint(&options, &Device::flex(), &mut Quiet).unwrap();
    let rows = outcome.report.robustness.clone().expect("robustness rows");
    assert_eq!(rows.len(), STUDY.len() + 1);
    assert_eq!(rows[0].perturbation, "clean");
    assert_eq!(rows[0].n, test.len());
    assert_eq!(rows[0].accuracy, outcome.report.accuracy);
    assert_eq!(rows[0].roc_auc, outcome.report.roc_auc);

    let predictor = deepfake::Detector::load(&model_dir, &Device::flex()).unwrap();
    let threshold = options.report.threshold;
    let clean: Vec<f32> = predictor
        .predict_paths(&test_paths)
        .into_iter()
        .map(|p| p.unwrap().p_fake)
        .collect();
    let mut largest_move = 0.0f64;
    for (row, perturbation) in rows[1..].iter().zip(STUDY) {
        assert_eq!(row.perturbation, perturbation.kind());
        assert_eq!(row.level, Some(perturbation.level()));
        // The perturbed images as PNG files (lossless), through `predict`.
        let level_dir = dir
            .path()
            .join(format!("perturbed-{}", perturbation.label()));
        std::fs::create_dir_all(&level_dir).unwrap();
        let files: Vec<PathBuf> = test_paths
            .iter()
            .enumerate()
            .map(|(index, path)| {
                let image = deepfake::data::decode_file(path, Default::default()).unwrap();
                let perturbed =
                    Perturbation::apply(&perturbation, &image, 0, index as u64).unwrap();
                let file = level_dir.join(format!("{index}.png"));
                perturbed.save(&file).unwrap();
                file
            })
            .collect();
        let p_fake: Vec<f64> = predictor
            .predict_paths(&files)
            .into_iter()
            .map(|p| f64::from(p.unwrap().p_fake))
            .collect();
        let mean = |fake: bool| {
            let values: Vec<f64> = test
                .iter()
                .zip(&p_fake)
                .filter(|(s, _)| s.label.is_fake() == fake)
                .map(|(_, p)| *p)
                .collect();
            values.iter().sum::<f64>() / values.len() as f64
        };
        let flipped = clean
            .iter()
            .zip(&p_fake)
            .filter(|(c, p)| (f64::from(**c) >= threshold) != (**p >= threshold))
            .count() as f64
            / test.len() as f64;
        let correct = test
            .iter()
            .zip(&p_fake)
            .filter(|(s, p)| s.label.is_fake() == (**p >= threshold))
            .count() as f64
            / test.len() as f64;
        let what = perturbation.label();
        let (real, fake) = (row.mean_p_fake_real.unwrap(), row.mean_p_fake_fake.unwrap());
        assert!(
            (real - mean(false)).abs() <= 1e-6,
            "{what}: real {real} vs {}",
            mean(false)
        );
        assert!(
            (fake - mean(true)).abs() <= 1e-6,
            "{what}: fake {fake} vs {}",
            mean(true)
        );
        assert_eq!(row.flipped, flipped, "{what}");
        assert_eq!(row.accuracy, correct, "{what}");
        let clean_mean = rows[0].mean_p_fake_real.unwrap();
        largest_move = largest_move.max((real - clean_mean).abs());
    }
    assert!(
        largest_move > 0.05,
        "no perturbation moved the mean P(fake) of the reals by more than {largest_move}"
    );

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        json["robustness"].as_array().map(Vec::len),
        Some(STUDY.len() + 1)
    );
    assert_eq!(json["robustness"][4]["label"], "JPEG q50");
    for metric in ["auc", "accuracy", "ece", "flipped"] {
        assert!(
            out.join(format!("figures/robustness_{metric}.svg"))
                .is_file()
        );
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("The weakest perturbation is"),
        "no weakest sentence"
    );
}
