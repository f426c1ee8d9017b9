//! Faces in photos: each face found (MTCNN, [`deepfake_faces`]), aligned as the training crops
//! were (FFHQ-style, 256x256) and scored on its own; the image's verdict is its most
//! suspicious face's.

use deepfake_faces::{ALIGNED_SIZE, AlignedQuad, Face, Mtcnn, align_face};
use image::RgbImage;

use super::detector::Detector;
use super::error::Result;
use super::prediction::Prediction;
use crate::device::face_detector_for;

/// The note of an input scored without a verdict because no face was found in it.
pub const NO_FACE: &str = "no face found";

/// How an input's faces are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaceMode {
    /// Search for faces, except in an image that already is one aligned face (a crop like the
    /// training data's), which is scored whole.
    #[default]
    Auto,
    /// Score the whole image, whatever it shows.
    Off,
    /// Always search for faces and score each aligned crop, even of an already aligned image.
    Only,
}

/// One face and the verdict on its aligned crop.
#[derive(Debug, Clone)]
pub struct FaceVerdict {
    /// Where the face is and how sure the face detector is.
    pub face: Face,
    /// The detector's verdict on the crop.
    pub prediction: Prediction,
    /// The aligned crop that was scored (`ALIGNED_SIZE` square), or `None` when the image
    /// itself was scored (an already aligned face).
    pub crop: Option<RgbImage>,
}

/// What [`Detector::predict_faces`] found in an image.
#[derive(Debug, Clone)]
pub struct FacesPrediction {
    /// The image's verdict: its most suspicious face's; `None` when no face was found.
    pub prediction: Option<Prediction>,
    /// Every face found, largest first, each with its own verdict.
    pub faces: Vec<FaceVerdict>,
    /// Whether the image was already one aligned face and was scored whole.
    pub scored_whole: bool,
}

/// Whether `face` fills `width x height` as an FFHQ-aligned crop would: a square image whose
/// alignment square nearly is the image itself (side within 25%, centre within 10% of the
/// side, roll under 10 degrees).
pub fn is_aligned_crop(face: &Face, width: u32, height: u32) -> bool {
    let (w, h) = (width as f32, height as f32);
    if (w / h - 1.0).abs() > 0.1 {
        return false;
    }
    let side = w.min(h);
    let quad = AlignedQuad::from_landmarks(&face.landmarks);
    let centre_off = (quad.centre[0] - w / 2.0).hypot(quad.centre[1] - h / 2.0);
    (0.75..=1.25).contains(&(quad.side() / side))
        && centre_off <= 0.1 * side
        && quad.roll_degrees().abs() < 10.0
}

impl Detector {
    /// The face detector for this detector's device (loaded on first use: MTCNN with
    /// facenet-pytorch's weights, embedded in the library; on the host CPU kernels on flex,
    /// see [`face_detector_for`]).
    pub fn face_detector(&self) -> Result<&Mtcnn> {
        if let Some(mtcnn) = self.faces.get() {
            return Ok(mtcnn);
        }
        let mtcnn = face_detector_for(self.device())?;
        Ok(self.faces.get_or_init(|| mtcnn))
    }

    /// Finds the faces in `image` and scores each (see [`FaceMode`]; `Off` scores the image
    /// whole, as one face-less verdict).
    pub fn predict_faces(&self, image: &RgbImage, mode: FaceMode) -> Result<FacesPrediction> {
        if mode == FaceMode::Off {
            return Ok(FacesPrediction {
                prediction: Some(self.score_image(image)?),
                faces: Vec::new(),
                scored_whole: true,
            });
        }
        let faces = self.face_detector()?.detect(image)?;
        if mode == FaceMode::Auto
            && let Some(largest) = faces.first()
            && is_aligned_crop(largest, image.width(), image.height())
        {
            let prediction = self.score_image(image)?;
            return Ok(FacesPrediction {
                prediction: Some(prediction),
                faces: vec![FaceVerdict {
                    face: *largest,
                    prediction,
                    crop: None,
                }],
                scored_whole: true,
            });
        }
        let crops: Vec<RgbImage> = faces
            .iter()
            .map(|face| align_face(image, face, ALIGNED_SIZE))
            .collect();
        let prepared = crops
            .iter()
            .map(|crop| self.prepare_image(crop))
            .collect::<Result<Vec<_>>>()?;
        let predictions = self
            .score_prepared(&prepared)
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let faces: Vec<FaceVerdict> = faces
            .into_iter()
            .zip(predictions)
            .zip(crops)
            .map(|((face, prediction), crop)| FaceVerdict {
                face,
                prediction,
                crop: Some(crop),
            })
            .collect();
        let prediction = faces
            .iter()
            .map(|f| f.prediction)
            .max_by(|a, b| a.p_fake.total_cmp(&b.p_fake));
        Ok(FacesPrediction {
            prediction,
            faces,
            scored_whole: false,
        })
    }

    /// One decoded image scored whole.
    fn score_image(&self, image: &RgbImage) -> Result<Prediction> {
        let prepared = self.prepare_image(image)?;
        self.score_prepared(std::slice::from_ref(&prepared))
            .pop()
            .expect("score_prepared gives one result per image")
    }
}
