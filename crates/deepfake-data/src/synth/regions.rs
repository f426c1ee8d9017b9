//! Where the traces of each fake image are, when a synthetic data set confines them to a
//! patch: the ground truth for explanations.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// Where the fake traces of an image are: a square patch, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRegion {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Side.
    pub side: u32,
}

impl TraceRegion {
    /// Whether pixel `(x, y)` is inside.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        (self.x..self.x + self.side).contains(&x) && (self.y..self.y + self.side).contains(&y)
    }
}

/// File at the data set's root listing each fake image's [`TraceRegion`] when the traces
/// are confined (`path,x,y,side`, paths as in the split CSVs).
pub const REGIONS_FILE: &str = "regions.csv";

/// The trace regions of a data set written with `trace_region` (`root/regions.csv`), by
/// path as in the split CSVs (`test/fake/02000000.jpg`).
pub fn read_regions(root: &Path) -> Result<HashMap<String, TraceRegion>> {
    let path = root.join(REGIONS_FILE);
    deepfake_formats::check_file_size(&path, deepfake_formats::MAX_CSV_BYTES, "regions CSV")?;
    let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
        path: path.clone(),
        source,
    })?;
    let mut regions = HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let bad = || DataError::Csv {
            path: path.clone(),
            line: n as u64 + 1,
            reason: "expected path,x,y,side (x, y, side whole pixels)".into(),
        };
        let mut fields = line.split(',');
        let name = fields.next().ok_or_else(bad)?.to_string();
        let mut number = || -> Result<u32> {
            fields
                .next()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(bad)
        };
        let region = TraceRegion {
            x: number()?,
            y: number()?,
            side: number()?,
        };
        regions.insert(name, region);
    }
    Ok(regions)
}
