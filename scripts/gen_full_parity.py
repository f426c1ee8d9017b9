"""Full-size PyTorch references for `cargo xtask parity` (written into target/, never committed).

    python3 scripts/gen_full_parity.py --out target/parity

Writes resnext50_32x4d.pth (torchvision resnext50_32x4d, random weights, non-trivial BatchNorm
statistics, 1000-class fc), resnext50_io.safetensors, seed_detector.pth (the reference
DeepfakeDetector at the seed's sizes) and seed_detector_io.safetensors.
"""

import argparse
import os

import torch
import torchvision
from safetensors.torch import save_file

from reference_model import DeepfakeDetector, randomize_batchnorm

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
torch.manual_seed(0)
g = torch.Generator().manual_seed(99)


def save_io(name, tensors):
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, os.path.join(args.out, name))


resnext = torchvision.models.resnext50_32x4d()
randomize_batchnorm(resnext, g)
resnext.eval()
torch.save(resnext.state_dict(), os.path.join(args.out, "resnext50_32x4d.pth"))
x = torch.randn(2, 3, 224, 224, generator=g)
with torch.no_grad():
    save_io("resnext50_io.safetensors", {"input": x, "logits": resnext(x)})

det = DeepfakeDetector()
randomize_batchnorm(det, g)
det.eval()
torch.save(det.state_dict(), os.path.join(args.out, "seed_detector.pth"))
images = torch.randn(2, 3, 224, 224, generator=g)
frames = torch.randn(1, 3, 3, 224, 224, generator=g)
with torch.no_grad():
    save_io("seed_detector_io.safetensors", {
        "images": images, "image_logits": det(images),
        "sequences": frames, "sequence_logits": det(frames),
    })
n_backbone = sum(p.numel() for p in torchvision.models.resnext50_32x4d().parameters())
n_detector = sum(p.numel() for p in det.parameters())
print(f"torch {torch.__version__}: resnext50_32x4d {n_backbone} params, detector {n_detector} params")
