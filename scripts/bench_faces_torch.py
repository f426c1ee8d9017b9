"""facenet-pytorch's MTCNN on a folder of photos, for `cargo xtask bench faces` (which runs
our MTCNN on the same files in the same run).

    pip install --no-deps facenet-pytorch==2.6.0 && pip install torch torchvision requests tqdm
    python3 scripts/bench_faces_torch.py DIR [--repeat 5] [--threads 2]

Each photo (PNG, decoded once) goes through `MTCNN(keep_all=True).detect` one at a time,
`repeat` times after one warm-up pass. Prints one JSON line:
{"images": N, "seconds": S, "images_per_second": R, "faces": [faces per photo]}.
"""

import argparse
import glob
import json
import os
import time

import torch
from PIL import Image
from facenet_pytorch import MTCNN

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--repeat", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)

photos = [Image.open(p).convert("RGB") for p in sorted(glob.glob(os.path.join(args.dir, "*.png")))]
mtcnn = MTCNN(keep_all=True)
faces = []
for photo in photos:
    boxes, _ = mtcnn.detect(photo)
    faces.append(0 if boxes is None else len(boxes))
start = time.perf_counter()
for _ in range(args.repeat):
    for photo in photos:
        mtcnn.detect(photo)
seconds = time.perf_counter() - start
n = len(photos) * args.repeat
print(json.dumps({"images": n, "seconds": seconds, "images_per_second": n / seconds, "faces": faces}))
