//! MTCNN's three networks where they run — Burn's operations on any device, or the host CPU
//! engine ([`HostNets`]) — behind one interface on host buffers, which is all the detection
//! pipeline ([`crate::Mtcnn`]) needs.

use burn::tensor::{Tensor, TensorData};

use crate::error::{FacesError, Result};
use crate::host_nets::HostNets;
use crate::weights::MtcnnNets;

/// The networks and where they run.
#[derive(Debug)]
pub enum Networks {
    /// Burn's operations on the networks' device.
    Burn(Box<MtcnnNets>),
    /// The host CPU engine (faster than Burn's CPU backend; same results within float
    /// rounding).
    Host(Box<HostNets>),
}

/// P-Net's maps for one image: regression `[4, H', W']`, face probability `[2, H', W']`
/// (channel 1: face), row-major, and `[H', W']`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalMaps {
    /// `[4, H', W']`.
    pub regression: Vec<f32>,
    /// `[2, H', W']`.
    pub probability: Vec<f32>,
    /// `[H', W']`.
    pub size: [usize; 2],
}

/// R-Net's or O-Net's scores for `n` crops, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CropScores {
    /// Box regression `[n, 4]`.
    pub regression: Vec<f32>,
    /// Face probability `[n, 2]` (column 1: face).
    pub probability: Vec<f32>,
    /// O-Net's landmarks `[n, 10]` (five x, then five y, as fractions of the crop); empty
    /// for R-Net.
    pub landmarks: Vec<f32>,
}

impl Networks {
    /// P-Net on one normalised image `[3, H, W]`.
    pub fn propose(&self, image: Vec<f32>, [h, w]: [usize; 2]) -> Result<ProposalMaps> {
        match self {
            Self::Host(nets) => Ok(nets.propose(&image, [h, w])),
            Self::Burn(nets) => {
                let device = &nets.device();
                let x = Tensor::from_data(TensorData::new(image, [1, 3, h, w]), device);
                let (regression, probability) = nets.pnet.forward(x);
                let [_, _, out_h, out_w] = probability.dims();
                Ok(ProposalMaps {
                    regression: values(regression)?,
                    probability: values(probability)?,
                    size: [out_h, out_w],
                })
            }
        }
    }

    /// R-Net on `n` normalised crops `[n, 3, 24, 24]`.
    pub fn refine(&self, crops: &[f32], n: usize) -> Result<CropScores> {
        match self {
            Self::Host(nets) => Ok(nets.refine(crops, n)),
            Self::Burn(nets) => {
                let device = &nets.device();
                let x = Tensor::from_data(TensorData::new(crops.to_vec(), [n, 3, 24, 24]), device);
                let (regression, probability) = nets.rnet.forward(x);
                Ok(CropScores {
                    regression: values(regression)?,
                    probability: values(probability)?,
                    landmarks: Vec::new(),
                })
            }
        }
    }

    /// O-Net on `n` normalised crops `[n, 3, 48, 48]`.
    pub fn output(&self, crops: &[f32], n: usize) -> Result<CropScores> {
        match self {
            Self::Host(nets) => Ok(nets.output(crops, n)),
            Self::Burn(nets) => {
                let device = &nets.device();
                let x = Tensor::from_data(TensorData::new(crops.to_vec(), [n, 3, 48, 48]), device);
                let out = nets.onet.forward(x);
                Ok(CropScores {
                    regression: values(out.regression)?,
                    probability: values(out.probability)?,
                    landmarks: values(out.landmarks)?,
                })
            }
        }
    }
}

/// A tensor's values on the host.
fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| FacesError::Device(format!("{e:?}")))
}
