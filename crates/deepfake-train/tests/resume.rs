//! A run killed with SIGKILL after its first checkpoint and resumed ends with the same weights
//! and history as an uninterrupted run; a diverging run stops with a message naming the step.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use deepfake_model::Detector;
use deepfake_train::{EpochRecord, Silent, TrainConfig, TrainError, TrainObserver, train};

const CHILD_ENV: &str = "DEEPFAKE_RESUME_TEST_CHILD";

/// The backend's random generator is process-wide: two trainings at once in one test process
/// would interleave their draws, so the tests here take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn config(data: &Path) -> TrainConfig {
    support::tiny_recipe(data, 4)
}

fn synth(data: &Path) {
    support::synth(data, 64, 2);
}

/// Runs inside the child process only: trains until killed.
#[test]
fn resume_child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (data, run) = spec.split_once('|').unwrap();
    let _ = train(
        &config(Path::new(data)),
        Path::new(run),
        &Device::flex(),
        false,
        &mut Silent,
    );
}

/// Starts this test binary as a child that trains `data` into `run` until it is killed.
fn spawn_child(data: &Path, run: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["resume_child_process", "--exact", "--nocapture"])
        .env(CHILD_ENV, format!("{}|{}", data.display(), run.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn weights(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let (model, _) = Detector::load_dir(dir, &Device::flex()).unwrap();
    snapshot(&model)
}

/// The weights in `run/last/model.bpk` (a Burn record), by path.
fn last_weights(run: &Path) -> Vec<(String, Vec<u8>)> {
    let record = burn::store::ModuleRecord::load(run.join("last/model.bpk")).unwrap();
    let model = config(Path::new("unused"))
        .model
        .init(&Device::flex())
        .unwrap()
        .try_load_record(record)
        .unwrap();
    snapshot(&model)
}

fn snapshot(model: &Detector) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            (name, t.to_bytes().unwrap().to_vec())
        })
        .collect();
    out.sort();
    out
}

/// The epochs a run trains (1-based, as announced to its observer).
#[derive(Default)]
struct EpochsRun(Vec<usize>);

impl TrainObserver for EpochsRun {
    fn epoch_started(&mut self, epoch: usize, _epochs: usize, _batches: usize) {
        self.0.push(epoch);
    }
}

/// The epochs done in the checkpoint a resume reads: `last/`, or `last.old/` when the kill
/// landed mid-swap.
fn checkpoint_epochs(run: &Path) -> usize {
    let checkpoint = ["last", "last.old"]
        .iter()
        .map(|name| run.join(name))
        .find(|d| d.join("state.json").is_file())
        .expect("a checkpoint survives the kill");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(checkpoint.join("state.json")).unwrap())
            .unwrap();
    state["epochs_done"].as_u64().unwrap() as usize
}

fn history(run: &Path) -> Vec<EpochRecord> {
    let mut h: Vec<EpochRecord> =
        serde_json::from_str(&std::fs::read_to_string(run.join("history.json")).unwrap()).unwrap();
    for r in &mut h {
        // Timings differ from run to run.
        r.seconds = 0.0;
        r.images_per_second = 0.0;
        r.step_images_per_second = 0.0;
        r.loader_images_per_second = 0.0;
    }
    h
}

#[test]
fn killed_and_resumed_run_equals_uninterrupted_run() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let device = Device::flex();

    let straight = dir.path().join("straight");
    train(&config(&data), &straight, &device, false, &mut Silent).unwrap();

    let killed = dir.path().join("killed");
    let mut child = spawn_child(&data, &killed);
    let started = Instant::now();
    while !killed.join("last/state.json").is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // From the checkpoint: the kill may land between `last/` and `history.json`, which
    // resume rewrites from the checkpoint's own history.
    let done_before_kill = checkpoint_epochs(&killed);
    assert!(
        done_before_kill < 4,
        "the child finished before it was killed"
    );

    let mut resumed = EpochsRun::default();
    train(&config(&data), &killed, &device, true, &mut resumed).unwrap();
    // It continues after the checkpoint's epochs; it does not start over (which would end
    // with the same weights too).
    let after_checkpoint: Vec<usize> = (done_before_kill + 1..=4).collect();
    assert_eq!(resumed.0, after_checkpoint);
    assert_eq!(history(&killed), history(&straight));
    assert_eq!(
        weights(&killed.join("best")),
        weights(&straight.join("best"))
    );
    // The last epoch's weights too (best/ may be an earlier epoch).
    assert_eq!(last_weights(&killed), last_weights(&straight));
}

/// Trains with a learning rate of 1e38, whose first update overflows float32 (no weight
/// decay, so only the update moves the weights), capped at `max_batches` steps per epoch: the
/// error it stops with.
fn train_diverging(max_batches: Option<usize>) -> TrainError {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let mut config = config(&data);
    config.lr = 1e38;
    config.weight_decay = 0.0;
    config.max_batches_per_epoch = max_batches;
    let run = dir.path().join("run");
    match train(&config, &run, &Device::flex(), false, &mut Silent) {
        Err(e) => e,
        Ok(results) => panic!("a diverging run finished: {results:?}"),
    }
}

#[test]
fn diverging_loss_stops_with_the_step_named() {
    match train_diverging(None) {
        TrainError::NonFiniteLoss { epoch, step, .. } => {
            // The first step's loss is finite (it is computed before the update); the second
            // step runs on the overflowed weights.
            assert_eq!((epoch, step), (1, 2));
            let message = TrainError::NonFiniteLoss {
                epoch,
                step,
                loss: f32::NAN,
            }
            .to_string();
            assert!(message.contains(&format!("step {step}")), "{message}");
        }
        other => panic!("expected a non-finite loss error, got {other:?}"),
    }
}

/// With one training step per epoch, the overflowed weights first show in validation: the
/// error names the epoch and step 0 (validation).
#[test]
fn diverging_validation_loss_names_the_epoch() {
    match train_diverging(Some(1)) {
        TrainError::NonFiniteLoss { epoch, step, loss } => {
            assert_eq!((epoch, step), (1, 0));
            assert!(!loss.is_finite());
        }
        other => panic!("expected a non-finite validation loss, got {other:?}"),
    }
}

/// A run killed during its first epoch has its config.json but no checkpoint: `--resume`
/// starts it over from that config, and the result equals an uninterrupted run.
#[test]
fn resuming_a_run_without_a_checkpoint_starts_it_over() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let device = Device::flex();
    let straight = dir.path().join("straight");
    train(&config(&data), &straight, &device, false, &mut Silent).unwrap();

    let killed = dir.path().join("killed-early");
    std::fs::create_dir_all(&killed).unwrap();
    deepfake_formats::write_json(&killed.join(deepfake_formats::CONFIG_FILE), &config(&data))
        .unwrap();
    let mut resumed = EpochsRun::default();
    let results = train(&config(&data), &killed, &device, true, &mut resumed).unwrap();
    assert_eq!(results.epochs_run, config(&data).epochs);
    assert_eq!(resumed.0, [1, 2, 3, 4]);
    assert_eq!(history(&killed), history(&straight));
    assert_eq!(last_weights(&killed), last_weights(&straight));
}

/// SIGKILL while a checkpoint is being written (its `last.partial/` folder half full) leaves
/// the previous checkpoint intact: resuming from it ends exactly as an uninterrupted run. The
/// kill is aimed at a write (the parent polls for `last.partial/` after the first checkpoint)
/// and the attempt counts only if the folder is still there once the child is dead.
#[test]
fn killed_while_writing_a_checkpoint_resumes_from_the_previous_one() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let device = Device::flex();
    let straight = dir.path().join("straight");
    train(&config(&data), &straight, &device, false, &mut Silent).unwrap();

    for attempt in 0..20 {
        let run = dir.path().join(format!("killed-{attempt}"));
        let mut child = spawn_child(&data, &run);
        let started = Instant::now();
        loop {
            let writing_second =
                run.join("last/state.json").is_file() && run.join("last.partial").is_dir();
            if writing_second || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "no checkpoint"
            );
            std::thread::yield_now();
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        if !run.join("last.partial").is_dir() {
            continue; // the write finished before the kill landed: try again
        }
        // The interrupted write is not mistaken for a checkpoint; the previous one reads.
        assert!(checkpoint_epochs(&run) >= 1);

        train(&config(&data), &run, &device, true, &mut Silent).unwrap();
        assert_eq!(history(&run), history(&straight));
        assert_eq!(last_weights(&run), last_weights(&straight));
        assert!(
            !run.join("last.partial").exists(),
            "the partial write is cleaned up"
        );
        println!("attempt {attempt}: killed mid-write, resumed to the uninterrupted result");
        return;
    }
    panic!("no kill landed during a checkpoint write in 20 attempts");
}
