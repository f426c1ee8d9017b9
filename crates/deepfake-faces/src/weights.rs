//! facenet-pytorch 2.6.0's MTCNN weights, embedded in the library (see `weights/README.md` for
//! their source, checksums and MIT licence), and loading them into the three networks.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use deepfake_model::pytorch::{KeyRemap, load_pytorch_weights};

use crate::error::{FacesError, Result};
use crate::nets::{ONet, PNet, RNet};

/// `pnet.pt` as the facenet-pytorch 2.6.0 wheel ships it (PyTorch legacy serialisation).
pub const PNET_PT: &[u8] = include_bytes!("../weights/pnet.pt");
/// `rnet.pt` as the facenet-pytorch 2.6.0 wheel ships it.
pub const RNET_PT: &[u8] = include_bytes!("../weights/rnet.pt");
/// `onet.pt` as the facenet-pytorch 2.6.0 wheel ships it.
pub const ONET_PT: &[u8] = include_bytes!("../weights/onet.pt");

/// PyTorch's PReLU slope is `weight`; Burn's is `alpha`. Every other key matches.
const REMAPS: &[KeyRemap] = &[(r"^(prelu[0-9_]*)\.weight$", "$1.alpha")];

/// The three networks with facenet-pytorch's trained weights.
#[derive(Debug, Clone)]
pub struct MtcnnNets {
    /// Proposal network.
    pub pnet: PNet,
    /// Refinement network.
    pub rnet: RNet,
    /// Output network.
    pub onet: ONet,
}

impl MtcnnNets {
    /// The embedded weights on `device`. burn-store reads PyTorch files from disk only, so
    /// they pass through a private temporary directory that is removed afterwards.
    pub fn bundled(device: &Device) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("deepfake-mtcnn-")
            .tempdir()?;
        for (name, bytes) in [
            ("pnet.pt", PNET_PT),
            ("rnet.pt", RNET_PT),
            ("onet.pt", ONET_PT),
        ] {
            std::fs::write(dir.path().join(name), bytes)?;
        }
        Self::from_dir(dir.path(), device)
    }

    /// The device the networks are on.
    pub fn device(&self) -> Device {
        self.pnet.device()
    }

    /// The weights in `dir` (`pnet.pt`, `rnet.pt`, `onet.pt`: facenet-pytorch's state dicts).
    pub fn from_dir(dir: &Path, device: &Device) -> Result<Self> {
        Ok(Self {
            pnet: load(PNet::new(device), &dir.join("pnet.pt"))?,
            rnet: load(RNet::new(device), &dir.join("rnet.pt"))?,
            onet: load(ONet::new(device), &dir.join("onet.pt"))?,
        })
    }
}

fn load<M: Module>(mut net: M, path: &Path) -> Result<M> {
    load_pytorch_weights(&mut net, path, REMAPS).map_err(|e| FacesError::Weights {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(net)
}
