//! From what a user types (files, folders, `-` for a list on stdin) to the files to score.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use deepfake_data::video::is_video_file;

use super::error::{PredictError, Result};

/// File extensions taken as images without looking inside.
const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "jfif"];

/// Whether `path` is an image: by extension, or else by its first bytes (so files without
/// or with a wrong extension are found too).
pub fn is_image_file(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    by_name || sniff(path)
}

fn sniff(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 32];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    n > 0 && image::guess_format(&head[..n]).is_ok()
}

/// Image files under `dir`, recursively, in path order.
pub(crate) fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    files_in(dir, is_image_file)
}

/// Image and video files under `dir`, recursively, in path order: what a folder given to
/// `predict` stands for.
pub fn inputs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    files_in(dir, |path| is_video_file(path) || is_image_file(path))
}

/// The files under `dir` that `keep` accepts, recursively, in path order.
fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|e| PredictError::Io {
            path: e
                .path()
                .map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        if entry.file_type().is_file() && keep(entry.path()) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// The inputs to score, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputList {
    /// One entry per input: files named directly (always scored, so that a bad one gets
    /// an error record) and the images and videos found in folders.
    pub files: Vec<PathBuf>,
}

/// Expands `args`: a file stays as given; a folder becomes its image and video files
/// (recursive, sorted); `-` reads one path per line from `stdin` (blank lines ignored), each expanded
/// the same way. A path that does not exist stays in the list, to be reported as an error.
pub fn expand_inputs(args: &[PathBuf], stdin: &mut dyn BufRead) -> Result<InputList> {
    let mut list = InputList::default();
    let add = |path: PathBuf, list: &mut InputList| -> Result<()> {
        if path.is_dir() {
            list.files.extend(inputs_in(&path)?);
        } else {
            list.files.push(path);
        }
        Ok(())
    };
    for arg in args {
        if arg.as_os_str() == "-" {
            for line in stdin.lines() {
                let line = line.map_err(|source| PredictError::Io {
                    path: PathBuf::from("-"),
                    source,
                })?;
                let line = line.trim();
                if !line.is_empty() {
                    add(PathBuf::from(line), &mut list)?;
                }
            }
        } else {
            add(arg.clone(), &mut list)?;
        }
    }
    Ok(list)
}
