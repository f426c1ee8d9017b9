//! Aligned crops put each face where FFHQ's alignment puts it: detected again in its own
//! crop, the face's landmarks land where the alignment mapped them, and a rolled face comes
//! out upright.

use deepfake_faces::{ALIGNED_SIZE, AlignedQuad, align_face};

use crate::common::{mtcnn, photo};

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
                let mapped = quad.to_crop(*original, size);
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
