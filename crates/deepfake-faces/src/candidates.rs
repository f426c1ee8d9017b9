//! Candidate boxes between MTCNN's stages and the box arithmetic facenet-pytorch applies to
//! them (`detect_face.py`): non-maximum suppression, regression, squaring, clipping to crops.
//! All in f32, as facenet-pytorch computes it.

use crate::resample::Window;

/// A candidate face box with the score and regression of the stage that proposed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// `[x1, y1, x2, y2]` in image pixels.
    pub bbox: [f32; 4],
    /// Face probability from the last network.
    pub score: f32,
    /// Box regression from the last network: offsets of the four edges as fractions of the
    /// box's width and height.
    pub regression: [f32; 4],
}

/// How two boxes' overlap is measured in [`non_maximum_suppression`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Intersection over union with areas `w * h` (torchvision's `batched_nms`).
    Union,
    /// Intersection over the smaller area, with areas `(w + 1) * (h + 1)` (facenet-pytorch's
    /// `nms_numpy(..., 'Min')`, used after O-Net).
    Min,
}

/// The indices of the candidates kept by greedy non-maximum suppression, highest score first:
/// a candidate is dropped when it overlaps a kept one by more than `threshold`.
pub fn non_maximum_suppression(
    candidates: &[Candidate],
    threshold: f32,
    overlap: Overlap,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // Stable, as torchvision's CPU kernel sorts: equal scores keep their order.
    order.sort_by(|&a, &b| candidates[b].score.total_cmp(&candidates[a].score));
    let one = match overlap {
        Overlap::Union => 0.0,
        Overlap::Min => 1.0,
    };
    let area = |b: &[f32; 4]| (b[2] - b[0] + one) * (b[3] - b[1] + one);
    let mut suppressed = vec![false; candidates.len()];
    let mut kept = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        let a = &candidates[i].bbox;
        kept.push(i);
        for &j in &order[rank + 1..] {
            if suppressed[j] {
                continue;
            }
            let b = &candidates[j].bbox;
            let w = (a[2].min(b[2]) - a[0].max(b[0]) + one).max(0.0);
            let h = (a[3].min(b[3]) - a[1].max(b[1]) + one).max(0.0);
            let inter = w * h;
            let ratio = match overlap {
                Overlap::Union => inter / (area(a) + area(b) - inter),
                Overlap::Min => inter / area(a).min(area(b)),
            };
            if ratio > threshold {
                suppressed[j] = true;
            }
        }
    }
    kept
}

/// Moves the box's edges by its regression, in units of its width and height plus one
/// (facenet-pytorch's `bbreg`).
pub fn apply_regression(c: &mut Candidate) {
    let w = c.bbox[2] - c.bbox[0] + 1.0;
    let h = c.bbox[3] - c.bbox[1] + 1.0;
    c.bbox = [
        c.bbox[0] + c.regression[0] * w,
        c.bbox[1] + c.regression[1] * h,
        c.bbox[2] + c.regression[2] * w,
        c.bbox[3] + c.regression[3] * h,
    ];
}

/// Makes the box square around its centre, with the longer side (`rerec`).
pub fn make_square(c: &mut Candidate) {
    let h = c.bbox[3] - c.bbox[1];
    let w = c.bbox[2] - c.bbox[0];
    let l = w.max(h);
    let x1 = c.bbox[0] + w * 0.5 - l * 0.5;
    let y1 = c.bbox[1] + h * 0.5 - l * 0.5;
    c.bbox = [x1, y1, x1 + l, y1 + l];
}

/// The pixels a candidate's next network sees: its box truncated to integers and clipped to
/// the image as facenet-pytorch's `pad` does (rows `y1 - 1 .. y2`, columns `x1 - 1 .. x2`,
/// the part outside the image cut off, not padded). `None` when nothing of it is inside.
pub fn crop_window(c: &Candidate, width: usize, height: usize) -> Option<Window> {
    let x = (c.bbox[0].trunc() as i64).max(1);
    let y = (c.bbox[1].trunc() as i64).max(1);
    let ex = (c.bbox[2].trunc() as i64).min(width as i64);
    let ey = (c.bbox[3].trunc() as i64).min(height as i64);
    let (left, top) = (x - 1, y - 1);
    // `ex <= width` and `ey <= height`, so a non-empty window also starts inside the image.
    (ex > left && ey > top).then_some(Window {
        left: left as usize,
        top: top as usize,
        right: ex as usize,
        bottom: ey as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(bbox: [f32; 4], score: f32) -> Candidate {
        Candidate {
            bbox,
            score,
            regression: [0.0; 4],
        }
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes() {
        let boxes = [
            candidate([0.0, 0.0, 10.0, 10.0], 0.8),
            candidate([1.0, 1.0, 11.0, 11.0], 0.9), // IoU with the first: 81 / 119 = 0.68
            candidate([20.0, 20.0, 30.0, 30.0], 0.7),
        ];
        let kept = non_maximum_suppression(&boxes, 0.5, Overlap::Union);
        assert_eq!(kept, vec![1, 2]);
        // At 0.7 the two overlapping boxes both stay, best first.
        let kept = non_maximum_suppression(&boxes, 0.7, Overlap::Union);
        assert_eq!(kept, vec![1, 0, 2]);
    }

    #[test]
    fn min_overlap_suppresses_a_box_inside_another() {
        // A small box inside a big one: IoU 0.25, but it is all inside the bigger (Min = 1).
        let boxes = [
            candidate([0.0, 0.0, 19.0, 19.0], 0.9),
            candidate([5.0, 5.0, 14.0, 14.0], 0.8),
        ];
        assert_eq!(
            non_maximum_suppression(&boxes, 0.7, Overlap::Union).len(),
            2
        );
        assert_eq!(non_maximum_suppression(&boxes, 0.7, Overlap::Min).len(), 1);
    }

    #[test]
    fn crop_window_clips_to_the_image() {
        let c = candidate([-5.7, 3.2, 50.9, 120.0], 0.9);
        let window = crop_window(&c, 40, 100).unwrap();
        assert_eq!(
            window,
            Window {
                left: 0,
                top: 2,
                right: 40,
                bottom: 100
            }
        );
        assert_eq!(
            crop_window(&candidate([45.0, 0.0, 60.0, 10.0], 0.9), 40, 100),
            None
        );
    }

    #[test]
    fn square_keeps_the_centre() {
        let mut c = candidate([10.0, 20.0, 30.0, 60.0], 0.9);
        make_square(&mut c);
        assert_eq!(c.bbox, [0.0, 20.0, 40.0, 60.0]);
    }

    #[test]
    fn suppression_needs_more_than_the_threshold() {
        // IoU exactly 0.5 (50 / 100): both kept at 0.5, as torchvision's `nms` ("> threshold").
        let boxes = [
            candidate([0.0, 0.0, 10.0, 10.0], 0.9),
            candidate([0.0, 0.0, 10.0, 5.0], 0.8),
        ];
        assert_eq!(
            non_maximum_suppression(&boxes, 0.5, Overlap::Union),
            vec![0, 1]
        );
    }

    #[test]
    fn min_overlap_counts_pixels_inclusively() {
        // With facenet-pytorch's + 1: intersection 5 x 10 = 50, smaller area 10 x 10 = 100,
        // overlap 0.5 (without it: 4 x 9 = 36 of 81, 0.44).
        let boxes = [
            candidate([0.0, 0.0, 9.0, 9.0], 0.9),
            candidate([5.0, 0.0, 14.0, 9.0], 0.8),
        ];
        assert_eq!(non_maximum_suppression(&boxes, 0.47, Overlap::Min), vec![0]);
        assert_eq!(
            non_maximum_suppression(&boxes, 0.53, Overlap::Min),
            vec![0, 1]
        );
    }

    #[test]
    fn crop_window_of_a_box_outside_the_image_is_none() {
        let window = |bbox| crop_window(&candidate(bbox, 0.9), 40, 100);
        // Left of, above, right of and below a 40 x 100 image.
        assert_eq!(window([-30.0, 10.0, -5.0, 30.0]), None);
        assert_eq!(window([10.0, -30.0, 30.0, -5.0]), None);
        assert_eq!(window([41.0, 10.0, 60.0, 30.0]), None);
        assert_eq!(window([10.0, 101.0, 30.0, 130.0]), None);
        // A box turned inside out (a regression can do that) covers nothing.
        assert_eq!(window([10.5, 10.0, 9.2, 30.0]), None);
        assert_eq!(window([10.0, 30.5, 30.0, 29.2]), None);
        // A box from the last pixel on sees that one pixel.
        assert_eq!(
            window([40.0, 100.0, 60.0, 130.0]),
            Some(Window {
                left: 39,
                top: 99,
                right: 40,
                bottom: 100
            })
        );
    }
}
