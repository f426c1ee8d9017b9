//! One face followed across the frames of a video: the largest face seen anywhere, then from
//! frame to frame the face that overlaps it most.

use crate::face::Face;

/// Intersection over union of two `[x1, y1, x2, y2]` boxes (0 when either is empty).
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The track of the largest face through `frames` (the faces detected in each frame, in
/// temporal order): one face per frame, or `None` when no frame has a face.
///
/// The track starts at the largest face of any frame and extends forward and backward; in
/// each next frame it moves to the face that overlaps its last box most or, when none
/// overlaps, to the nearest face of a similar size (half to twice the area). A frame with no
/// such face keeps the last face (a blink of the detector does not break the sequence, and
/// the track does not jump to another person).
pub fn track_largest_face(frames: &[Vec<Face>]) -> Option<Vec<Face>> {
    let (start, first) = frames
        .iter()
        .enumerate()
        .flat_map(|(i, faces)| faces.iter().map(move |f| (i, *f)))
        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()))?;
    let mut track = vec![first; frames.len()];
    let mut last = first;
    for i in start + 1..frames.len() {
        last = follow(&last, &frames[i]);
        track[i] = last;
    }
    last = first;
    for i in (0..start).rev() {
        last = follow(&last, &frames[i]);
        track[i] = last;
    }
    Some(track)
}

/// The face of `candidates` that continues `last` (or `last` itself when there is none).
fn follow(last: &Face, candidates: &[Face]) -> Face {
    let centre = |f: &Face| [(f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0];
    let best_overlap = candidates
        .iter()
        .map(|f| (iou(&last.bbox, &f.bbox), f))
        .filter(|(overlap, _)| *overlap > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, face)) = best_overlap {
        return *face;
    }
    let c = centre(last);
    let similar =
        |f: &&Face| (0.5..=2.0).contains(&(f.area() / last.area().max(f32::MIN_POSITIVE)));
    candidates
        .iter()
        .filter(similar)
        .min_by(|a, b| {
            let d = |f: &Face| {
                let p = centre(f);
                (p[0] - c[0]).hypot(p[1] - c[1])
            };
            d(a).total_cmp(&d(b))
        })
        .copied()
        .unwrap_or(*last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, side: f32) -> Face {
        Face {
            bbox: [x, y, x + side, y + side],
            probability: 0.99,
            landmarks: [[x, y]; 5],
        }
    }

    #[test]
    fn follows_the_largest_face_not_the_other_one() {
        // A big face drifting right and a small face standing still; frame 1 misses the big
        // one, frame 4 shows it jumped away (no overlap) at about the same size.
        let frames = vec![
            vec![face(10.0, 10.0, 50.0), face(200.0, 10.0, 20.0)],
            vec![face(200.0, 10.0, 20.0)],
            vec![face(200.0, 10.0, 20.0), face(20.0, 10.0, 52.0)],
            vec![face(30.0, 10.0, 51.0)],
            vec![face(200.0, 10.0, 20.0), face(300.0, 100.0, 60.0)],
        ];
        let track = track_largest_face(&frames).unwrap();
        // Frame 2 starts the track (largest face); frame 3 continues it by overlap.
        assert_eq!(track[2], frames[2][1]);
        assert_eq!(track[3], frames[3][0]);
        // Frame 1 has only the small face: the track holds the big one.
        assert_eq!(track[1], frames[2][1]);
        assert_eq!(track[0], frames[0][0]);
        // Frame 4: no overlap; the nearest face of a similar size, not the small one.
        assert_eq!(track[4], frames[4][1]);
    }

    #[test]
    fn frames_without_faces_keep_the_last_one() {
        let frames = vec![vec![], vec![face(10.0, 10.0, 50.0)], vec![]];
        let track = track_largest_face(&frames).unwrap();
        assert_eq!(track, vec![frames[1][0]; 3]);
        assert_eq!(track_largest_face(&[vec![], vec![]]), None);
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(
            iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 10.0]),
            50.0 / 150.0
        );
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[20.0, 20.0, 30.0, 30.0]), 0.0);
    }

    #[test]
    fn the_track_starts_at_the_first_frame_when_its_face_is_the_largest() {
        let frames = vec![vec![face(10.0, 10.0, 50.0)], vec![face(12.0, 10.0, 45.0)]];
        let track = track_largest_face(&frames).unwrap();
        assert_eq!(track, vec![frames[0][0], frames[1][0]]);
    }

    #[test]
    fn an_overlapping_face_is_followed_even_when_its_size_changed() {
        // The face grows threefold (not of a similar size) but overlaps; another face of the
        // old size stands apart.
        let last = face(80.0, 80.0, 40.0);
        let grown = face(70.0, 70.0, 70.0);
        let apart = face(300.0, 80.0, 40.0);
        assert_eq!(follow(&last, &[apart, grown]), grown);
    }

    #[test]
    fn without_overlap_the_track_moves_to_the_nearest_face_of_a_similar_size() {
        // The last face is 40 pixels wide, centred at (100, 100); two faces of its size touch
        // no part of it: the nearer (centred at (140, 110)) is listed second.
        let last = face(80.0, 80.0, 40.0);
        let far = face(0.0, 80.0, 40.0);
        let near = face(120.0, 90.0, 40.0);
        assert_eq!(follow(&last, &[far, near]), near);
        // The same faces with x and y swapped.
        let swapped = |f: Face| face(f.bbox[1], f.bbox[0], 40.0);
        assert_eq!(
            follow(&swapped(last), &[swapped(far), swapped(near)]),
            swapped(near)
        );
    }

    #[test]
    fn empty_boxes_do_not_overlap() {
        let point = [5.0, 5.0, 5.0, 5.0];
        assert_eq!(iou(&point, &point), 0.0);
    }
}
