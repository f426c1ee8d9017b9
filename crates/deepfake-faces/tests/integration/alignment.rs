//! Aligned crops put each face where FFHQ's alignment puts it: detected again in its own
//! crop, the face's landmarks land where the alignment mapped them, and a rolled face comes
//! out upright; the square is FFHQ's and the crop PIL's (fixtures from
//! `tests/fixtures/gen_alignment_fixtures.py`); a face larger than the crop is averaged, not
//! aliased.

use deepfake_compare::{max_abs_diff_or_panic, spread};
use deepfake_faces::{ALIGNED_SIZE, AlignedQuad, Face, align_face};
use image::{Rgb, RgbImage};
use serde_json::Value;

use crate::common::{fixture, floats, mtcnn, photo};

#[test]
fn faces_detected_again_in_their_crops_land_where_the_alignment_put_them() {
    for name in ["two_faces.png", "tilted_face.png"] {
        let image = photo(name);
        let faces = mtcnn().detect(&image).unwrap();
        assert!(!faces.is_empty(), "{name}");
        for face in &faces {
            let crop = align_face(&image, face, ALIGNED_SIZE);
            assert_eq!(crop.dimensions(), (ALIGNED_SIZE, ALIGNED_SIZE));
            let quad = AlignedQuad::from_landmarks(&face.landmarks);
            let again = mtcnn().detect(&crop).unwrap();
            assert_eq!(again.len(), 1, "{name}: faces in the crop {again:?}");
            let size = ALIGNED_SIZE as f32;
            for (k, (found, original)) in again[0].landmarks.iter().zip(&face.landmarks).enumerate()
            {
                // In the crop's pixel-index coordinates, as MTCNN reports the crop's landmarks.
                let mapped = quad.to_crop(*original, size).map(|c| c - 0.5);
                let off = (found[0] - mapped[0]).hypot(found[1] - mapped[1]);
                // Landmarks are re-estimated on a resampled face: a few pixels of 256.
                assert!(
                    off < 6.0,
                    "{name} landmark {k}: {found:?} vs mapped {mapped:?}"
                );
            }
            // Upright in the crop: the eyes level within 3 degrees.
            let [l, r] = [again[0].landmarks[0], again[0].landmarks[1]];
            let roll = (r[1] - l[1]).atan2(r[0] - l[0]).to_degrees();
            assert!(
                roll.abs() < 3.0,
                "{name}: eyes at {roll} degrees in the crop"
            );
        }
    }
}

#[test]
fn the_rolled_face_is_found_rolled() {
    // The generator turned the face by 18 degrees (PIL's rotate: counter-clockwise on screen,
    // so the eye line falls to the left: negative roll in image coordinates).
    let faces = mtcnn().detect(&photo("tilted_face.png")).unwrap();
    let roll = AlignedQuad::from_landmarks(&faces[0].landmarks).roll_degrees();
    assert!((roll + 18.0).abs() < 6.0, "roll {roll}");
}

/// `alignment_expected.json`: FFHQ's square and PIL's crop for each case (written by
/// `tests/fixtures/gen_alignment_fixtures.py`).
fn ffhq_cases() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture("alignment_expected.json")).expect("fixture");
    let expected: Value = serde_json::from_str(&text).expect("fixture JSON");
    assert_eq!(expected["size"], ALIGNED_SIZE);
    expected["cases"].as_array().expect("cases").clone()
}

fn landmarks(case: &Value) -> [[f32; 2]; 5] {
    let points: Vec<Vec<f32>> = case["landmarks"]
        .as_array()
        .expect("landmarks")
        .iter()
        .map(floats)
        .collect();
    assert!(
        points.len() == 5 && points.iter().all(|p| p.len() == 2),
        "{}: five [x, y] landmarks",
        case["name"]
    );
    std::array::from_fn(|k| [points[k][0], points[k][1]])
}

#[test]
fn the_square_is_ffhqs() {
    let cases = ffhq_cases();
    assert_eq!(cases.len(), 7);
    let mut centres = Vec::new();
    for case in &cases {
        let quad = AlignedQuad::from_landmarks(&landmarks(case));
        let got = [quad.centre, quad.half_x, quad.half_y].concat();
        let want = [
            floats(&case["centre"]),
            floats(&case["half_x"]),
            floats(&case["half_y"]),
        ]
        .concat();
        // f32 landmarks of a few hundred pixels: a thousandth of a pixel.
        let diff = max_abs_diff_or_panic(&got, &want);
        assert!(diff <= 1e-3, "{}: {got:?} vs FFHQ's {want:?}", case["name"]);
        centres.extend(want);
    }
    // The cases' squares differ by far more than the tolerance.
    assert!(spread(&centres, 6) > 10.0);
}

#[test]
fn the_crop_is_pils_quad_transform_as_ffhqs_script_calls_it() {
    let mut compared = 0;
    for case in ffhq_cases().iter().filter(|c| c.get("crop").is_some()) {
        let name = &case["name"];
        let image = photo(case["photo"].as_str().expect("photo name"));
        let face = Face {
            bbox: [0.0; 4],
            probability: 1.0,
            landmarks: landmarks(case),
        };
        let got = align_face(&image, &face, ALIGNED_SIZE);
        let want = photo(case["crop"].as_str().expect("crop name"));
        let as_floats = |img: &RgbImage| {
            img.as_raw()
                .iter()
                .map(|&v| f32::from(v))
                .collect::<Vec<_>>()
        };
        let (got, want) = (as_floats(&got), as_floats(&want));
        let diff = max_abs_diff_or_panic(&got, &want);
        // PIL samples from an f64 square, this crate from an f32 one: a sample within float
        // rounding of a whole level may truncate one level apart (measured: 3 to 31 values of
        // 196,608 per crop).
        let off = got.iter().zip(&want).filter(|(g, w)| g != w).count();
        assert!(
            diff <= 1.0 && off * 5_000 <= got.len(),
            "{name}: {off} of {} values differ from PIL's, by up to {diff}",
            got.len()
        );
        // The crop shows a face, not a flat colour.
        assert!(spread(&want, 1) > 100.0, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 4, "every photo face has a PIL crop");
}

#[test]
fn a_face_larger_than_the_crop_is_averaged_not_aliased() {
    // An upright face whose square is 256 pixels wide, centred on a pixel's corner, over a
    // checkerboard of single pixels (0 and 255), cut to 32 x 32: 8 x 8 samples per crop pixel,
    // one on each pixel's centre, half of them black.
    let image = RgbImage::from_fn(400, 400, |x, y| Rgb([((x + y) % 2) as u8 * 255; 3]));
    let landmarks = [
        [168.5, 195.5],
        [232.5, 195.5],
        [200.5, 210.0],
        [180.5, 245.5],
        [220.5, 245.5],
    ];
    let quad = AlignedQuad::from_landmarks(&landmarks);
    assert_eq!((quad.side(), quad.centre), (256.0, [200.5, 200.5]));
    let face = Face {
        bbox: [0.0; 4],
        probability: 1.0,
        landmarks,
    };
    let crop = align_face(&image, &face, 32);
    // 127.5 rounded; a single sample per pixel would give 0 or 255.
    assert!(
        crop.pixels().all(|p| p.0 == [128; 3]),
        "{:?}",
        crop.get_pixel(0, 0)
    );
}
