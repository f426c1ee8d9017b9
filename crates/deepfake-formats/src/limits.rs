//! Size limits on the files the detector reads, so that a broken or hostile file gets a clear
//! error naming it instead of exhausting memory. (Images have their own pixel limit in
//! deepfake-data, request bodies theirs in deepfake-serve.)

use std::path::Path;

use crate::error::{FormatError, Result};

/// The largest JSON file read (`model_info.json`, `config.json`, `history.json`,
/// `state.json`, ...): 64 MiB; the real ones are kilobytes.
pub const MAX_JSON_BYTES: u64 = 64 << 20;

/// The largest CSV read, a data set's (the 140k set's `train.csv` is ~10 MB) or a scores
/// file (`eval --scores`; a million rows take ~100 MB): 1 GiB.
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// The most data rows read from a CSV: 5 million (the 140k set has 140,000).
pub const MAX_CSV_ROWS: usize = 5_000_000;

/// Errors with [`FormatError::TooLarge`] unless the file at `path` holds at most `limit`
/// bytes; `what` names the kind of file in the message (e.g. `JSON file`).
pub fn check_file_size(path: &Path, limit: u64, what: &'static str) -> Result<()> {
    let size = std::fs::metadata(path)
        .map_err(|source| FormatError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size > limit {
        return Err(FormatError::TooLarge {
            path: path.to_path_buf(),
            what,
            size,
            limit,
        });
    }
    Ok(())
}

/// Reads the whole file at `path` after [`check_file_size`].
pub fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>> {
    check_file_size(path, limit, what)?;
    std::fs::read(path).map_err(|source| FormatError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_by_name_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        // Sparse: costs no disk, but its size is over the limit.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_JSON_BYTES + 1).unwrap();
        let error = crate::read_json::<u32>(&path).unwrap_err().to_string();
        assert!(error.contains("huge.json"), "{error}");
        assert!(error.contains("67108865 bytes"), "{error}");
        assert!(error.contains("limit of 67108864"), "{error}");
        std::fs::write(&path, b"7").unwrap();
        assert_eq!(crate::read_json::<u32>(&path).unwrap(), 7);
    }

    #[test]
    fn a_file_of_exactly_the_limit_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.csv");
        let file = std::fs::File::create(&path).unwrap();
        for (limit, what) in [(MAX_JSON_BYTES, "JSON file"), (MAX_CSV_BYTES, "CSV file")] {
            file.set_len(limit).unwrap();
            check_file_size(&path, limit, what).unwrap();
            file.set_len(limit + 1).unwrap();
            let error = check_file_size(&path, limit, what).unwrap_err().to_string();
            assert!(error.contains(&format!("limit of {limit}")), "{error}");
        }
        // The CSV limit is 1 GiB: a million-row scores file (~100 MB) fits.
        file.set_len(100 << 20).unwrap();
        check_file_size(&path, MAX_CSV_BYTES, "CSV file").unwrap();
    }
}
