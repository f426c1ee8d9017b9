"""The seed's PyTorch inference on a folder of images, for `cargo xtask bench predict`
(which runs the Rust `predict` example on the same files in the same run).

    python3 scripts/bench_predict_torch.py DIR [--batch-size 8] [--threads 2] [--channels-last]

Decode (PIL) -> Resize(224, bilinear) -> ToTensor -> Normalize -> DeepfakeDetector (the
reference module of issue #2, random weights, eval mode, no_grad) -> softmax, in batches.
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
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import DeepfakeDetector  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--channels-last", action="store_true")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
files = sorted(glob.glob(os.path.join(args.dir, "**", "*.jpg"), recursive=True))
model = DeepfakeDetector().eval()
if args.channels_last:
    model = model.to(memory_format=torch.channels_last)
pipeline = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def run():
    scores = []
    with torch.no_grad():
        for i in range(0, len(files), args.batch_size):
            batch = torch.stack([pipeline(Image.open(f).convert("RGB")) for f in files[i:i + args.batch_size]])
            if args.channels_last:
                batch = batch.to(memory_format=torch.channels_last)
            scores.extend(torch.softmax(model(batch), dim=1)[:, 1].tolist())
    return scores


run()  # warm-up
start = time.perf_counter()
run()
seconds = time.perf_counter() - start
print(json.dumps({"images": len(files), "seconds": seconds, "images_per_second": len(files) / seconds}))
