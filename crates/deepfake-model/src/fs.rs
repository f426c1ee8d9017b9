//! Atomic file writes: write a temporary sibling, then rename over the target.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
    let io = |action, source| Error::Io {
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
