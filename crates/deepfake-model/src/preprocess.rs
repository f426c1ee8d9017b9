//! What the model's input must look like and what its outputs mean, re-exported from the
//! formats crate (where data loading, inference and the report read them too).

pub use deepfake_formats::{
    CLASS_NAMES, IMAGENET_MEAN, IMAGENET_STD, Label, SEED_IMAGE_SIZE, TINY_IMAGE_SIZE,
};
