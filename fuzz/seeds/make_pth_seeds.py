"""Writes the `pytorch_weights` fuzz seeds: the micro detector's state dict (from the
`safetensors_weights` seed, written by `tests/integration/fuzz_replay.rs::write_fuzz_seeds`)
saved by torch in both of its formats, the zip archive and the legacy pickle.

    target/venv/bin/python fuzz/seeds/make_pth_seeds.py
"""

from pathlib import Path

import torch
from safetensors.torch import load_file

SEEDS = Path(__file__).resolve().parent


def main() -> None:
    state = load_file(SEEDS / "safetensors_weights" / "micro.safetensors")
    out = SEEDS / "pytorch_weights"
    out.mkdir(exist_ok=True)
    torch.save(state, out / "micro_zip.pth")
    torch.save(state, out / "micro_legacy.pth", _use_new_zipfile_serialization=False)
    for path in sorted(out.glob("*.pth")):
        print(f"{path}: {path.stat().st_size} bytes, {len(state)} tensors")


if __name__ == "__main__":
    main()
