"""ONNX Runtime side of `cargo xtask bench model`: times the detector exported by our `export`
example (dynamic batch) and, for the backbone, torchvision's resnext50_32x4d (fc removed)
exported with torch.onnx (random weights), on the CPU execution provider, at each batch size.

    python scripts/bench_model_ort.py --detector FILE.onnx [--backbone-out FILE.onnx]
        [--threads N] [--batch-sizes 1,8] [--parts backbone,detector] [--warmup 2] [--iters 5]

Prints one JSON line per (part, batch) with the same fields as the Rust `bench_model` example.
"""

import argparse
import json
import os
import resource
import statistics
import time

import numpy as np
import onnxruntime as ort

parser = argparse.ArgumentParser()
parser.add_argument("--detector", required=True)
parser.add_argument("--backbone-out", default=None)
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--batch-sizes", default="1,8")
parser.add_argument("--parts", default="backbone,detector")
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--iters", type=int, default=5)
args = parser.parse_args()


def backbone_file():
    path = args.backbone_out or os.path.join(os.path.dirname(args.detector), "resnext50_backbone.onnx")
    if not os.path.exists(path):
        import torch
        import torchvision
        torch.manual_seed(0)
        model = torchvision.models.resnext50_32x4d()
        model.fc = torch.nn.Identity()
        model.eval()
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["input"],
                          output_names=["features"], dynamic_axes={"input": {0: "batch"}},
                          opset_version=18, dynamo=False)
    return path


options = ort.SessionOptions()
options.intra_op_num_threads = args.threads
options.inter_op_num_threads = 1
for part in args.parts.split(","):
    path = args.detector if part == "detector" else backbone_file()
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
        times = []
        for i in range(args.warmup + args.iters):
            start = time.perf_counter()
            session.run(None, {name: x})
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        print(json.dumps({
            "runtime": "onnxruntime",
            "version": ort.__version__,
            "device": "cpu",
            "part": part,
            "batch": batch,
            "image_size": 224,
            "seconds_per_pass": seconds,
            "images_per_second": batch / seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }), flush=True)
