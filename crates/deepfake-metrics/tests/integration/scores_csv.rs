//! Reading `path,label,p_fake` files: both label spellings, quoting, and errors that name
//! the line.

use std::io::Write;

use deepfake_metrics::{MetricsError, read_scores_csv};

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn reads_word_and_number_labels() {
    let f =
        file("path,label,p_fake\na.jpg,real,0.1\n\"b,c.jpg\",FAKE,0.9\nd.jpg,1,0.4\ne.jpg,0,0.6\n");
    let (scored, names) = read_scores_csv(f.path()).unwrap();
    assert_eq!(names, ["a.jpg", "b,c.jpg", "d.jpg", "e.jpg"]);
    assert_eq!(scored.labels(), [false, true, true, false]);
    assert_eq!(scored.scores(), [0.1, 0.9, 0.4, 0.6]);
}

#[test]
fn columns_may_come_in_any_order() {
    let f = file("p_fake,path,label\n0.25,x.png,fake\n");
    let (scored, names) = read_scores_csv(f.path()).unwrap();
    assert_eq!((names[0].as_str(), scored.scores()[0]), ("x.png", 0.25));
}

fn error_line(text: &str) -> (Option<u64>, String) {
    match read_scores_csv(file(text).path()) {
        Err(MetricsError::ScoresFile { line, reason, .. }) => (line, reason),
        other => panic!("expected a scores-file error, got {other:?}"),
    }
}

#[test]
fn malformed_lines_are_named() {
    let (line, reason) = error_line("path,label,p_fake\na,real,0.1\nb,maybe,0.5\n");
    assert_eq!(line, Some(3));
    assert!(reason.contains("maybe"), "{reason}");
    let (line, reason) = error_line("path,label,p_fake\na,real,0.1\nb,fake,0.2\nc,fake,high\n");
    assert_eq!(line, Some(4));
    assert!(reason.contains("high"), "{reason}");
    let (line, _) = error_line("path,label,p_fake\na,real,1.5\n");
    assert_eq!(line, Some(2));
    let (line, _) = error_line("path,label,p_fake\na,real\n");
    assert_eq!(line, Some(2));
    let (line, reason) = error_line("file,label,score\na,real,0.1\n");
    assert_eq!(line, Some(1));
    assert!(reason.contains("path,label,p_fake"), "{reason}");
    let (line, reason) = error_line("path,label,p_fake\n");
    assert_eq!(line, None);
    assert!(reason.contains("no scores"), "{reason}");
}

/// A scores file over the byte limit (sparse: no disk) is refused with the file named before
/// it is read (the row limit is checked in the module's own tests, with a small limit).
#[test]
fn files_over_the_size_limit_are_refused() {
    use deepfake_formats::MAX_CSV_BYTES;
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_CSV_BYTES + 1)
        .unwrap();
    let error = read_scores_csv(&huge).unwrap_err().to_string();
    assert!(
        error.contains("huge.csv") && error.contains("over the limit"),
        "{error}"
    );
}
