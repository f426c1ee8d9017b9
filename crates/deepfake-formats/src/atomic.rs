//! Atomic file writes (a temporary sibling, synced, then renamed over the target: readers see
//! the old file or the complete new one, never a torn one) and JSON on top of them.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{FormatError, Result};
use crate::limits::{MAX_JSON_BYTES, read_limited};

/// The temporary sibling used while writing `path` (`.name.tmp-<pid>`).
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `bytes` to `path` so that readers see either the old file or the complete new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_path_for(path);
    let io = |action, source| FormatError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::create(&temp).map_err(|e| io("create", e))?;
    file.write_all(bytes).map_err(|e| io("write", e))?;
    file.sync_all().map_err(|e| io("sync", e))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|e| io("rename into place", e))
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|source| FormatError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &json)
}

/// Reads JSON from `path`; errors name the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_limited(path, MAX_JSON_BYTES, "JSON file")?;
    serde_json::from_slice(&bytes).map_err(|source| FormatError::Json {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("value.json");
        write_json(&path, &vec![1.5f64, -2.0]).unwrap();
        write_json(&path, &vec![3.25f64]).unwrap();
        assert_eq!(read_json::<Vec<f64>>(&path).unwrap(), vec![3.25]);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let error = read_json::<u32>(&missing).unwrap_err().to_string();
        assert!(error.contains("missing.json"), "{error}");
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, b"{not json").unwrap();
        let error = read_json::<u32>(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.json"), "{error}");
    }
}
