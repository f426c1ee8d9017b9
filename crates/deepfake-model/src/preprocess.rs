//! What the model's input must look like. The data crate and the inference API both read these,
//! so training, evaluation and prediction cannot drift apart.

/// ImageNet per-channel mean (R, G, B) of pixel values scaled to [0, 1].
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet per-channel standard deviation (R, G, B) of pixel values scaled to [0, 1].
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Input side length of the seed preset, in pixels.
pub const SEED_IMAGE_SIZE: usize = 224;
/// Input side length of the tiny preset, in pixels.
pub const TINY_IMAGE_SIZE: usize = 64;
/// Class names by logit index: 0 = Real, 1 = Fake.
pub const CLASS_NAMES: [&str; 2] = ["real", "fake"];

/// The two classes, by logit index.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A real photograph (index 0).
    Real,
    /// A generated image (index 1).
    Fake,
}

impl Label {
    /// Logit index: 0 = Real, 1 = Fake.
    pub fn index(self) -> usize {
        match self {
            Label::Real => 0,
            Label::Fake => 1,
        }
    }

    /// `"real"` or `"fake"`.
    pub fn name(self) -> &'static str {
        CLASS_NAMES[self.index()]
    }

    /// Parses `real`/`fake` in any case.
    pub fn from_name(name: &str) -> Option<Label> {
        match name.trim().to_ascii_lowercase().as_str() {
            "real" => Some(Label::Real),
            "fake" => Some(Label::Fake),
            _ => None,
        }
    }

    /// True for Fake.
    pub fn is_fake(self) -> bool {
        self == Label::Fake
    }
}
