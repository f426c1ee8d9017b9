//! Faces in photos: MTCNN detection (on Burn, or on the host CPU engine for CPUs) with
//! facenet-pytorch 2.6.0's weights (embedded, MIT licence), and FFHQ-style alignment of each
//! face to the crops the detector was trained on.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = burn::tensor::Device::default();
//! let mtcnn = deepfake_faces::Mtcnn::new(&device)?;
//! let photo = image::open("group.jpg")?.to_rgb8();
//! for face in mtcnn.detect(&photo)? {
//!     let crop = deepfake_faces::align_face(&photo, &face, deepfake_faces::ALIGNED_SIZE);
//!     println!("{:?} p={:.3} crop {}x{}", face.bbox, face.probability, crop.width(), crop.height());
//! }
//! # Ok(())
//! # }
//! ```

pub mod align;
pub mod candidates;
pub mod error;
pub mod face;
pub mod host_nets;
pub mod mtcnn;
pub mod nets;
pub mod networks;
pub mod resample;
pub mod track;
pub mod weights;

pub use align::{ALIGNED_SIZE, AlignedQuad, align_face};
pub use error::{FacesError, Result};
pub use face::Face;
pub use host_nets::HostNets;
pub use mtcnn::{Mtcnn, MtcnnConfig};
pub use nets::{ONet, ONetOutput, PNet, RNet};
pub use networks::{CropScores, Networks, ProposalMaps};
pub use track::{iou, track_largest_face};
pub use weights::MtcnnNets;
