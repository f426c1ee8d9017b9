"""The seed's torchvision/PIL training pipeline on a folder of JPEGs, one core, for
`cargo xtask bench data` (which runs the Rust pipeline on the same files in the same run).

    python3 scripts/bench_data_torchvision.py DIR [--size 224] [--repeat 3]

Prints one JSON line: {"images": N, "seconds": S, "images_per_second": R}.
"""

import argparse
import glob
import json
import os
import sys
import time

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import seed_train_transforms  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--size", type=int, default=224)
parser.add_argument("--repeat", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)
files = sorted(glob.glob(os.path.join(args.dir, "**", "*.jpg"), recursive=True))
pipeline = seed_train_transforms(args.size)
best = float("inf")
for _ in range(args.repeat):
    start = time.perf_counter()
    for f in files:
        pipeline(Image.open(f).convert("RGB"))
    best = min(best, time.perf_counter() - start)
print(json.dumps({"images": len(files), "seconds": best, "images_per_second": len(files) / best}))
