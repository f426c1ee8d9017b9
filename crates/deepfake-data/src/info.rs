//! A summary of a data set: layout, counts per split and class, image sizes, skipped files.

use std::collections::BTreeMap;

use deepfake_formats::Label;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeLimits, decode_file};
use crate::layout::{Dataset, Layout, Skipped, Split};

/// Counts of one split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Real images.
    pub real: usize,
    /// Fake images.
    pub fake: usize,
}

/// What `cargo xtask data-info` prints and writes as `dataset_info.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// The layout detected.
    pub layout: Layout,
    /// Counts per split (`train`, `valid`, `test`).
    pub splits: BTreeMap<String, ClassCounts>,
    /// Image sizes seen (`"WxH"` -> count), over the decoded files.
    pub image_sizes: BTreeMap<String, usize>,
    /// Files left out and why (missing, undecodable, too large).
    pub skipped: Vec<Skipped>,
}

impl DatasetInfo {
    /// Counts the samples; with `decode`, also decodes every file (in parallel) to collect
    /// sizes and find unreadable ones.
    pub fn compute(dataset: &Dataset, decode: bool) -> DatasetInfo {
        let mut splits = BTreeMap::new();
        for split in Split::ALL {
            let samples = dataset.split(split);
            let fake = samples.iter().filter(|s| s.label == Label::Fake).count();
            splits.insert(
                split.name().to_string(),
                ClassCounts {
                    real: samples.len() - fake,
                    fake,
                },
            );
        }
        let mut image_sizes = BTreeMap::new();
        let mut skipped = dataset.skipped.clone();
        if decode {
            let all: Vec<_> = Split::ALL
                .iter()
                .flat_map(|&s| dataset.split(s).iter())
                .collect();
            let results: Vec<_> = all
                .par_iter()
                .map(|s| (s, decode_file(&s.path, DecodeLimits::default())))
                .collect();
            for (sample, result) in results {
                match result {
                    Ok(image) => {
                        let key = format!("{}x{}", image.width(), image.height());
                        *image_sizes.entry(key).or_insert(0) += 1;
                    }
                    Err(e) => skipped.push(Skipped {
                        path: sample.path.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
        }
        DatasetInfo {
            layout: dataset.layout,
            splits,
            image_sizes,
            skipped,
        }
    }
}
