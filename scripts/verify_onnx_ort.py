"""Runs an exported ONNX model in ONNX Runtime on the cases `cargo xtask verify-onnx` wrote.

Usage: python verify_onnx_ort.py MODEL.onnx CASES_DIR --threads N --repeat R

CASES_DIR/cases.json lists {"name", "shape", "input"} with raw little-endian float32 inputs.
Writes CASES_DIR/<name>.ort_logits.f32 and <name>.ort_p_fake.f32, and prints a JSON object:
{"onnxruntime": version, "seconds_per_pass": [...], "timed_case": name}. The timed case is the
one named "timing" when present: `repeat` passes after one warm-up pass.
"""

import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("cases")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names == ["logits", "p_fake"], names
    assert [i.name for i in session.get_inputs()] == ["input"]

    with open(os.path.join(args.cases, "cases.json")) as f:
        cases = json.load(f)
    seconds = []
    for case in cases:
        x = np.fromfile(os.path.join(args.cases, case["input"]), dtype="<f4")
        x = x.reshape(case["shape"])
        logits, p_fake = session.run(None, {"input": x})
        base = os.path.join(args.cases, case["name"])
        logits.astype("<f4").tofile(base + ".ort_logits.f32")
        p_fake.astype("<f4").tofile(base + ".ort_p_fake.f32")
        if case["name"] == "timing":
            for _ in range(args.repeat):
                start = time.perf_counter()
                session.run(None, {"input": x})
                seconds.append(time.perf_counter() - start)
    print(json.dumps({
        "onnxruntime": ort.__version__,
        "seconds_per_pass": seconds,
        "timed_case": "timing",
    }))


if __name__ == "__main__":
    main()
