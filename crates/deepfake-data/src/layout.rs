//! Finding the samples of a data set on disk: the Kaggle "140k Real and Fake Faces" download
//! (CSVs + folders), its inner `real-vs-fake` folder (splits from folder names), or any folder
//! with `real/` and `fake/` subfolders (seeded, stratified 70/15/15 re-split).

use std::path::{Path, PathBuf};

use deepfake_formats::Label;
use deepfake_formats::{FormatError, MAX_CSV_BYTES, MAX_CSV_ROWS, check_file_size};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// File extensions treated as images when walking folders (the decoder still checks content).
pub const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "jfif"];

/// One image and its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The image file.
    pub path: PathBuf,
    /// Its class.
    pub label: Label,
}

/// The three splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data (model selection, LR schedule, calibration).
    Valid,
    /// Held-out test data.
    Test,
}

impl Split {
    /// All splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    /// `"train"`, `"valid"` or `"test"`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    /// Parses a split name (`val`/`validation` accepted for `valid`).
    pub fn from_name(name: &str) -> Option<Split> {
        match name.to_ascii_lowercase().as_str() {
            "train" => Some(Split::Train),
            "valid" | "val" | "validation" => Some(Split::Valid),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

/// Which layout was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `<root>/{train,valid,test}.csv` + `<root>/real_vs_fake/real-vs-fake/...`.
    Kaggle140k,
    /// `<dir>/{train,valid,test}/{real,fake}/` without CSVs.
    SplitFolders,
    /// `<dir>/{real,fake}/` (nested images found recursively), re-split 70/15/15.
    RealFakeFolders,
}

impl Layout {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Kaggle140k => "Kaggle 140k Real and Fake Faces (CSV splits)",
            Layout::SplitFolders => "train/valid/test folders with real/ and fake/",
            Layout::RealFakeFolders => "real/ and fake/ folders, seeded stratified 70/15/15 split",
        }
    }
}

/// A file listed by the data set but left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// The samples of every split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// The folder that was opened.
    pub root: PathBuf,
    /// The layout detected.
    pub layout: Layout,
    /// Training samples.
    pub train: Vec<Sample>,
    /// Validation samples.
    pub valid: Vec<Sample>,
    /// Test samples.
    pub test: Vec<Sample>,
    /// Listed files that do not exist.
    pub skipped: Vec<Skipped>,
}

impl Dataset {
    /// The samples of `split`.
    pub fn split(&self, split: Split) -> &[Sample] {
        match split {
            Split::Train => &self.train,
            Split::Valid => &self.valid,
            Split::Test => &self.test,
        }
    }

    /// Opens the data set at `path`, detecting its layout. `seed` drives the re-split of
    /// plain `real/` `fake/` folders (same seed, same split, on any machine).
    pub fn open(path: impl AsRef<Path>, seed: u64) -> Result<Dataset> {
        let root = path.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(DataError::Layout {
                path: root,
                reason: "not a folder".into(),
            });
        }
        if root.join("train.csv").is_file() {
            return open_kaggle(&root);
        }
        for inner in [
            root.clone(),
            root.join("real-vs-fake"),
            root.join("real_vs_fake").join("real-vs-fake"),
        ] {
            if let Some(dataset) = open_split_folders(&root, &inner)? {
                return Ok(dataset);
            }
        }
        if let (Some(real), Some(fake)) = (child_dir(&root, "real"), child_dir(&root, "fake")) {
            return open_real_fake(&root, &real, &fake, seed);
        }
        Err(DataError::Layout {
            path: root,
            reason: "no data set found: expected train.csv (Kaggle 140k), train/ valid/ test/ \
                     folders with real/ and fake/ inside, or real/ and fake/ folders"
                .into(),
        })
    }
}

/// The subfolder of `dir` named `name`, in any letter case.
fn child_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut matches: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    matches.sort();
    matches.into_iter().next()
}

/// Every image file under `dir`, recursively, sorted by path.
pub fn list_images(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension().is_some_and(|ext| {
                IMAGE_EXTENSIONS
                    .iter()
                    .any(|known| ext.eq_ignore_ascii_case(known))
            })
        })
        .collect();
    files.sort();
    files
}

fn labelled(files: Vec<PathBuf>, label: Label) -> Vec<Sample> {
    files
        .into_iter()
        .map(|path| Sample { path, label })
        .collect()
}

fn open_kaggle(root: &Path) -> Result<Dataset> {
    let base = [
        root.join("real_vs_fake").join("real-vs-fake"),
        root.join("real-vs-fake"),
        root.to_path_buf(),
    ]
    .into_iter()
    .find(|b| b.join("train").is_dir())
    .unwrap_or_else(|| root.join("real_vs_fake").join("real-vs-fake"));
    let mut dataset = Dataset {
        root: root.to_path_buf(),
        layout: Layout::Kaggle140k,
        train: Vec::new(),
        valid: Vec::new(),
        test: Vec::new(),
        skipped: Vec::new(),
    };
    for split in Split::ALL {
        let csv_path = root.join(format!("{}.csv", split.name()));
        let (samples, skipped) = read_kaggle_csv(&csv_path, &base)?;
        dataset.skipped.extend(skipped);
        match split {
            Split::Train => dataset.train = samples,
            Split::Valid => dataset.valid = samples,
            Split::Test => dataset.test = samples,
        }
    }
    Ok(dataset)
}

/// Reads one split CSV (`,original_path,id,label,label_str,path`). The class comes from
/// `label_str` (`label` is 1 for *real* in this data set, so it is not used).
pub fn read_kaggle_csv(csv_path: &Path, base: &Path) -> Result<(Vec<Sample>, Vec<Skipped>)> {
    read_kaggle_csv_up_to(csv_path, base, MAX_CSV_ROWS)
}

/// [`read_kaggle_csv`] with at most `max_rows` rows.
fn read_kaggle_csv_up_to(
    csv_path: &Path,
    base: &Path,
    max_rows: usize,
) -> Result<(Vec<Sample>, Vec<Skipped>)> {
    check_file_size(csv_path, MAX_CSV_BYTES, "data set CSV")?;
    let mut reader = csv::Reader::from_path(csv_path).map_err(|e| DataError::Csv {
        path: csv_path.to_path_buf(),
        line: 1,
        reason: e.to_string(),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| DataError::Csv {
            path: csv_path.to_path_buf(),
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::Csv {
                path: csv_path.to_path_buf(),
                line: 1,
                reason: format!("no '{name}' column (header: {headers:?})"),
            })
    };
    let (label_col, path_col) = (column("label_str")?, column("path")?);
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    for (row, record) in reader.records().enumerate() {
        if row == max_rows {
            return Err(FormatError::TooManyRows {
                path: csv_path.to_path_buf(),
                what: "data set CSV",
                limit: max_rows,
            }
            .into());
        }
        let record = record.map_err(|e| DataError::Csv {
            path: csv_path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |reason: String| DataError::Csv {
            path: csv_path.to_path_buf(),
            line,
            reason,
        };
        let label_str = record.get(label_col).unwrap_or_default();
        let label = Label::from_name(label_str)
            .ok_or_else(|| bad(format!("label_str '{label_str}' is neither real nor fake")))?;
        let relative = record.get(path_col).unwrap_or_default();
        if relative.is_empty() {
            return Err(bad("empty path".into()));
        }
        let path = base.join(relative);
        if path.is_file() {
            samples.push(Sample { path, label });
        } else {
            skipped.push(Skipped {
                path,
                reason: "listed in the CSV but missing".into(),
            });
        }
    }
    Ok((samples, skipped))
}

fn open_split_folders(root: &Path, inner: &Path) -> Result<Option<Dataset>> {
    let Some(train) = child_dir(inner, "train") else {
        return Ok(None);
    };
    let valid = child_dir(inner, "valid")
        .or_else(|| child_dir(inner, "val"))
        .or_else(|| child_dir(inner, "validation"));
    let test = child_dir(inner, "test");
    let (Some(valid), Some(test)) = (valid, test) else {
        return Ok(None);
    };
    let read = |dir: &Path| -> Result<Vec<Sample>> {
        let (Some(real), Some(fake)) = (child_dir(dir, "real"), child_dir(dir, "fake")) else {
            return Err(DataError::Layout {
                path: dir.to_path_buf(),
                reason: "split folder without real/ and fake/ subfolders".into(),
            });
        };
        let mut samples = labelled(list_images(&real), Label::Real);
        samples.extend(labelled(list_images(&fake), Label::Fake));
        Ok(samples)
    };
    Ok(Some(Dataset {
        root: root.to_path_buf(),
        layout: Layout::SplitFolders,
        train: read(&train)?,
        valid: read(&valid)?,
        test: read(&test)?,
        skipped: Vec::new(),
    }))
}

/// Seeded, stratified 70/15/15 split of each class's files (sorted first, so the result
/// depends only on the file names and the seed).
pub fn stratified_split(
    files: &[(Vec<PathBuf>, Label)],
    seed: u64,
) -> (Vec<Sample>, Vec<Sample>, Vec<Sample>) {
    let (mut train, mut valid, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (paths, label) in files {
        let mut paths = paths.clone();
        paths.sort();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((label.index() as u64 + 1) * 0x9E37_79B9));
        paths.shuffle(&mut rng);
        let n = paths.len();
        let n_train = (n as f64 * 0.70).round() as usize;
        let n_valid = ((n as f64 * 0.15).round() as usize).min(n - n_train);
        for (i, path) in paths.into_iter().enumerate() {
            let sample = Sample {
                path,
                label: *label,
            };
            if i < n_train {
                train.push(sample);
            } else if i < n_train + n_valid {
                valid.push(sample);
            } else {
                test.push(sample);
            }
        }
    }
    (train, valid, test)
}

fn open_real_fake(root: &Path, real: &Path, fake: &Path, seed: u64) -> Result<Dataset> {
    let files = [
        (list_images(real), Label::Real),
        (list_images(fake), Label::Fake),
    ];
    let (train, valid, test) = stratified_split(&files, seed);
    Ok(Dataset {
        root: root.to_path_buf(),
        layout: Layout::RealFakeFolders,
        train,
        valid,
        test,
        skipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_past_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("valid.csv");
        let header = ",original_path,id,label,label_str,path\n";
        std::fs::write(&csv, format!("{header},,,1,real,a.jpg\n,,,0,fake,b.jpg\n")).unwrap();
        let (_, skipped) = read_kaggle_csv_up_to(&csv, dir.path(), 2).unwrap();
        assert_eq!(skipped.len(), 2);
        let error = read_kaggle_csv_up_to(&csv, dir.path(), 1)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("valid.csv") && error.contains("more than 1 rows"),
            "{error}"
        );
    }
}
