"""PyTorch side of `cargo xtask bench model` and `bench train`: times the seed preset's
backbone (torchvision resnext50_32x4d without fc) and the whole reference detector (issue #2's
module), random weights, eval mode, inference_mode, at each batch size; or (part train_step)
one training step of the detector (train mode, cross-entropy, backward, Adam lr 1e-3 weight
decay 1e-4), for the seed or the tiny preset; or (part train_epoch) the seed's training loop
end to end on the synthetic JPEGs that `bench_model --parts train-epoch --data-dir DIR` wrote:
torchvision's ImageFolder and DataLoader (one worker per core, the seed's augmentation) feeding
those steps, two epochs of --iters batches, the second reported (--warmup unused).

    python3 scripts/bench_model_torch.py [--device cpu|cuda] [--threads N] [--channels-last]
        [--batch-sizes 1,8] [--parts backbone,detector,train_step,train_epoch] [--preset seed|tiny]
        [--warmup 2] [--iters 5] [--data DIR]

Prints one JSON line per (part, batch) with the same fields as the Rust `bench_model` example.
Peak memory: the process's max RSS on CPU, torch.cuda.max_memory_allocated on CUDA.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import DeepfakeDetector, seed_train_transforms, tiny_detector  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--channels-last", action="store_true")
parser.add_argument("--batch-sizes", default="1,8")
parser.add_argument("--parts", default="backbone,detector")
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--iters", type=int, default=5)
parser.add_argument("--preset", default="seed", choices=["seed", "tiny"])
parser.add_argument("--data", default=None, help="train_epoch: the synthetic data set's folder")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
device = torch.device(args.device)
if device.type == "cuda":
    # PyTorch at its best on a GPU: cuDNN picks the fastest convolution per shape.
    torch.backends.cudnn.benchmark = True
layout = torch.channels_last if args.channels_last else torch.contiguous_format


size = 224 if args.preset == "seed" else 64


def build(part):
    if part in ("train_step", "train_epoch"):
        model = DeepfakeDetector() if args.preset == "seed" else tiny_detector()
        return model.train().to(device=device, memory_format=layout)
    if part == "backbone":
        model = torchvision.models.resnext50_32x4d()
        model.fc = torch.nn.Identity()
    else:
        model = DeepfakeDetector() if args.preset == "seed" else tiny_detector()
    return model.eval().to(device=device, memory_format=layout)


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_mb():
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_step_seconds(model, batch):
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=layout)
    labels = (torch.arange(batch, device=device) % 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for i in range(args.warmup + args.iters):
        sync()
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()
        loss.item()
        sync()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def train_epoch_rates(model, batch):
    """Two epochs of --iters batches from a DataLoader over the synthetic training split; the
    second epoch's images/s: wall time, and the steps alone (from a batch in hand to its loss
    read back). Returns (wall, steps, workers)."""
    from torch.utils.data import DataLoader
    from torchvision import datasets

    if args.data is None:
        sys.exit("--parts train_epoch needs --data DIR (written by bench_model --parts "
                 "train-epoch --data-dir DIR)")
    root = os.path.join(args.data, "real_vs_fake", "real-vs-fake", "train")
    pipeline = seed_train_transforms(size)
    workers = len(os.sched_getaffinity(0))
    loader = DataLoader(datasets.ImageFolder(root, pipeline), batch_size=batch, shuffle=True,
                        num_workers=workers, pin_memory=device.type == "cuda",
                        persistent_workers=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _epoch in range(2):
        seen, step_seconds = 0, 0.0
        start = time.perf_counter()
        for i, (x, labels) in enumerate(loader):
            if i == args.iters:
                break
            step_start = time.perf_counter()
            x = x.to(device, non_blocking=True).contiguous(memory_format=layout)
            labels = labels.to(device, non_blocking=True)
            optimizer.zero_grad()
            loss = loss_fn(model(x), labels)
            loss.backward()
            optimizer.step()
            loss.item()
            step_seconds += time.perf_counter() - step_start
            seen += len(labels)
        wall = time.perf_counter() - start
    return seen / wall, seen / step_seconds, workers


for part in args.parts.split(","):
    model = build(part)
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        if part == "train_epoch":
            wall, steps, workers = train_epoch_rates(model, batch)
            print(json.dumps({
                "runtime": "pytorch-channels-last" if args.channels_last else "pytorch",
                "version": torch.__version__, "device": args.device, "part": part,
                "preset": args.preset, "batch": batch, "image_size": size,
                "seconds_per_pass": batch / wall, "images_per_second": wall,
                "step_images_per_second": steps, "loader_workers": workers,
                "peak_rss_mb": peak_mb(),
            }), flush=True)
            continue
        if part == "train_step":
            seconds = train_step_seconds(model, batch)
            print(json.dumps({
                "runtime": "pytorch-channels-last" if args.channels_last else "pytorch",
                "version": torch.__version__, "device": args.device, "part": part,
                "preset": args.preset, "batch": batch, "image_size": size,
                "seconds_per_pass": seconds, "images_per_second": batch / seconds,
                "peak_rss_mb": peak_mb(),
            }), flush=True)
            continue
        x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=layout)
        times = []
        with torch.inference_mode():
            for i in range(args.warmup + args.iters):
                sync()
                start = time.perf_counter()
                model(x)
                sync()
                if i >= args.warmup:
                    times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        print(json.dumps({
            "runtime": "pytorch-channels-last" if args.channels_last else "pytorch",
            "version": torch.__version__,
            "device": args.device,
            "part": part,
            "preset": args.preset,
            "batch": batch,
            "image_size": size,
            "seconds_per_pass": seconds,
            "images_per_second": batch / seconds,
            "peak_rss_mb": peak_mb(),
        }), flush=True)
