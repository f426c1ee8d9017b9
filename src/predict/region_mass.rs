//! Where explanations fall on images whose evidence sits in a known patch (synthetic data
//! written with `synth --trace-region`): the check behind `cargo xtask heatmap-check` and the
//! heatmap sanity test.

use std::path::PathBuf;

use deepfake_data::synth::TraceRegion;
use deepfake_model::preprocess::Label;

use super::detector::Detector;
use super::error::Result;

/// Mean Grad-CAM heatmap inside and outside the trace patches of a set of fakes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionMass {
    /// Mean over images of the heatmap's mean inside the image's own patch.
    pub inside: f64,
    /// Mean over images of the heatmap's mean outside it.
    pub outside: f64,
    /// The same two means with each image measured against another image's patch: the
    /// control (a map that ignores where the traces are scores alike on both).
    pub control: (f64, f64),
    /// Fakes explained.
    pub images: usize,
}

impl RegionMass {
    /// Inside / outside on the own patches.
    pub fn ratio(&self) -> f64 {
        self.inside / self.outside
    }

    /// Inside / outside on another image's patch.
    pub fn control_ratio(&self) -> f64 {
        self.control.0 / self.control.1
    }
}

impl Detector {
    /// Explains (Fake logit) each image file of `fakes` and measures its heatmap against its
    /// own trace patch and, as the control, against the patch of the image half the list
    /// away.
    pub fn region_mass(&self, fakes: &[(PathBuf, TraceRegion)]) -> Result<RegionMass> {
        let n = fakes.len();
        let (mut inside, mut outside, mut control) = (0.0, 0.0, (0.0, 0.0));
        for (k, (path, region)) in fakes.iter().enumerate() {
            let image = self.decode_file(path)?;
            let prepared = self.prepare_image(&image)?;
            let explanation = self.explain_prepared(&[prepared], Label::Fake).remove(0);
            let (width, height) = image.dimensions();
            let (i, o) =
                explanation.mean_inside_and_outside(width, height, |x, y| region.contains(x, y));
            inside += i;
            outside += o;
            let other = fakes[(k + n / 2) % n].1;
            let (i, o) =
                explanation.mean_inside_and_outside(width, height, |x, y| other.contains(x, y));
            control.0 += i;
            control.1 += o;
        }
        let count = n as f64;
        Ok(RegionMass {
            inside: inside / count,
            outside: outside / count,
            control: (control.0 / count, control.1 / count),
            images: n,
        })
    }
}
