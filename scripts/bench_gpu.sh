#!/usr/bin/env bash
# The GPU benchmark's one command on a GPU machine (no Rust toolchain, no network there).
# `cargo xtask bench gpu prepare` builds the Burn binaries here and puts them, compressed, with
# this script and the PyTorch peer into gpu-bench/; on the GPU machine:
#
#     bash gpu-bench/bench_gpu.sh OUT_DIR [PRESET]
#
# writes OUT_DIR/gpu.jsonl (one JSON record per case, the schema of the bench_model example and
# scripts/bench_model_torch.py) and OUT_DIR/gpu.log; back here `cargo xtask bench gpu report
# OUT_DIR/gpu.jsonl` turns them into the GPU section of docs/benchmarks.md. Every step has its
# own time limit and the whole stays under 8 minutes; a step that fails or runs out of time is
# logged and the rest still run. PRESET is seed (default) or tiny (a quick rehearsal on a CPU
# with Mesa's software Vulkan).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: bench_gpu.sh OUT_DIR [seed|tiny]}"
preset="${2:-seed}"
mkdir -p "$out"
results="$out/gpu.jsonl"
log="$out/gpu.log"
: >"$results"
: >"$log"
started=$(date +%s)
budget=${BENCH_GPU_SECONDS:-480}

say() { echo "== $*" | tee -a "$log"; }

# step LIMIT_S NAME COMMAND...: runs COMMAND, JSON lines to the results, all output to the log.
step() {
    local limit=$1 name=$2
    shift 2
    local left=$((budget - ($(date +%s) - started)))
    if [ "$left" -le 10 ]; then
        say "$name: skipped, the ${budget} s budget is spent"
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    say "$name (limit ${limit} s)"
    local t0=$(date +%s)
    timeout -k 10 "$limit" "$@" 2>>"$log" | tee -a "$log" | grep '^{' >>"$results"
    local rc=${PIPESTATUS[0]}
    say "$name: exit $rc after $(($(date +%s) - t0)) s"
}

# The issue's targets first (inference at batch 32, a training step at 64): each step prints a
# record per batch as it finishes, so a step cut short by its limit keeps what it measured.
if [ "$preset" = tiny ]; then
    infer_batches=8,1
    train_batches=8
    loop_batch=8
    size_args=(--preset tiny)
else
    infer_batches=32,1,8,128
    train_batches=64,32
    loop_batch=64
    size_args=(--preset seed)
fi

say "bundle built from $(cat "$here/BUILT_FROM" 2>/dev/null || echo 'an unknown tree')"
say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"

# The binaries travel xz-compressed (the device tool carries 64 MiB): xz, or Python's lzma
# where the machine has no working xz.
for packed in "$here"/bench_model-*.xz; do
    [ -e "$packed" ] || continue
    binary="${packed%.xz}"
    { xz -d -c "$packed" >"$binary" 2>/dev/null ||
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
            "$packed" "$binary"; } && chmod +x "$binary" || say "unpacking $packed failed"
    # A shared library the binary needs and the machine lacks (built on Debian, run on the
    # GPU machine's image): named in the log, since the binary then cannot start at all.
    missing=$(ldd "$binary" 2>&1 | grep 'not found')
    [ -z "$missing" ] || say "$(basename "$binary") lacks: $missing"
done

# Vulkan (the vulkan and wgpu devices): the GPU machine's image may lack the Vulkan loader or
# the GLVND libraries NVIDIA's ICD loads. prepare brought Debian's packages (gl/*.deb); each of
# their libraries the machine lacks is linked into gl/lib, which goes on LD_LIBRARY_PATH (the
# machine's own libraries are never replaced, nothing is written outside gl/).
# (The cache is read once: `ldconfig -p | grep -q` can fail under pipefail when grep stops early.)
ld_cache=$(ldconfig -p 2>/dev/null)
known() { grep -q "^[[:space:]]$1 " <<<"$ld_cache"; }
if ! known libvulkan.so.1; then
    if ls "$here"/gl/*.deb >/dev/null 2>&1; then
        mkdir -p "$here/gl/root" "$here/gl/lib"
        for deb in "$here"/gl/*.deb; do dpkg -x "$deb" "$here/gl/root"; done
        for lib in "$here"/gl/root/usr/lib/x86_64-linux-gnu/*.so.*; do
            name=$(basename "$lib")
            case "$name" in *.so.*.*) continue ;; esac # the sonames (lib*.so.N) are what is loaded
            known "$name" || ln -sf "$lib" "$here/gl/lib/"
        done
        export LD_LIBRARY_PATH="$here/gl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        say "vulkan: no loader on the machine; brought $(ls "$here/gl/lib" | tr '\n' ' ')"
    else
        say "vulkan: no loader on the machine and none brought (gl/ is empty)"
    fi
fi
# NVIDIA's ICD file where the driver is mounted (the device tool's README); named, so that
# the loader finds it and no software driver is picked.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -e "$nvidia_icd" ]; then
    export VK_DRIVER_FILES=$nvidia_icd
fi

# CUDA: cubecl opens libcuda and libnvrtc by name; where the loader's cache lacks NVRTC, use
# the CUDA toolkit's or the one in PyTorch's wheels.
if ! grep -q 'libnvrtc\.so' <<<"$ld_cache"; then  # any version: cudarc tries several
    site=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
    nvrtc=$(find /usr/local/cuda/ /usr/local/cuda-*/ "${site:-/nonexistent}/nvidia" \
        -name 'libnvrtc.so*' 2>/dev/null | head -1)
    if [ -n "$nvrtc" ]; then
        export LD_LIBRARY_PATH="$(dirname "$nvrtc")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        say "cuda: NVRTC from $(dirname "$nvrtc")"
    fi
fi
{
    echo "libraries the loader knows:"
    grep -E 'libcuda\.so|libnvrtc\.so|libvulkan\.so' <<<"$ld_cache" || echo "  (none of libcuda, libnvrtc, libvulkan)"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
} >>"$log"

pytorch_cuda=false
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>>"$log"; then
    pytorch_cuda=true
else
    say "pytorch cuda: not available here (no torch with CUDA)"
fi

# PyTorch CUDA, eager, cuDNN autotuned: LAYOUT is "" (default) or --channels-last.
pytorch() {
    local layout=$1 limit=$2
    $pytorch_cuda || return 0
    step "$limit" "pytorch cuda ${layout:-default} inference" python3 "$here/bench_model_torch.py" \
        --device cuda $layout --preset "$preset" --parts detector \
        --batch-sizes "$infer_batches" --warmup 3 --iters 10
    step "$limit" "pytorch cuda ${layout:-default} training step" python3 "$here/bench_model_torch.py" \
        --device cuda $layout --preset "$preset" --parts train_step \
        --batch-sizes "$train_batches" --warmup 2 --iters 5
}

# Burn on DEVICE with BINARY: inference (with the logits check against flex), a training step.
burn() {
    local binary=$1 device=$2 limit=$3
    [ -x "$binary" ] || return 0
    step "$limit" "burn $device inference ($infer_batches)" "$binary" "${size_args[@]}" \
        --device "$device" --variant fast --parts detector \
        --batch-sizes "$infer_batches" --warmup 3 --iters 10 --check-against-cpu
    step "$limit" "burn $device training step ($train_batches)" "$binary" "${size_args[@]}" \
        --device "$device" --parts train-step --batch-sizes "$train_batches" \
        --warmup 2 --iters 5
}

# The grouped 3x3 convolutions: each formulation pinned, at batch 32.
grouped() {
    local binary=$1 device=$2 limit=$3
    [ -x "$binary" ] || return 0
    for method in direct im2col shifted; do
        step "$limit" "burn $device grouped conv $method" "$binary" "${size_args[@]}" \
            --device "$device" --grouped-conv "$method" --parts detector,train-step \
            --batch-sizes 32 --warmup 2 --iters 5
    done
}

# The `train` command's loop end to end: is the loader fast enough to keep the GPU busy? Burn's
# run writes the synthetic JPEGs (256x256 for the seed, as the 140k faces), then PyTorch's
# DataLoader loop trains on the same files.
synth="${TMPDIR:-/tmp}/deepfake-bench-gpu-synth"
loop_iters=8 # batches per epoch
training_loop() {
    local binary=$1 device=$2 limit=$3
    [ -x "$binary" ] || return 0
    step "$limit" "burn $device training loop (batch $loop_batch)" "$binary" "${size_args[@]}" \
        --device "$device" --parts train-epoch --batch-sizes "$loop_batch" --iters "$loop_iters" \
        --data-dir "$synth"
    if $pytorch_cuda && [ -e "$synth/synthetic.json" ]; then
        step "$limit" "pytorch cuda channels_last training loop (batch $loop_batch)" \
            python3 "$here/bench_model_torch.py" --device cuda --channels-last \
            --preset "$preset" --parts train_epoch --batch-sizes "$loop_batch" --iters "$loop_iters" \
            --data "$synth"
    fi
}

# In order of what the figures are for, so that a slow step costs the least important ones:
# the peer's best layout, Burn's main GPU backend, then the rest.
pytorch --channels-last 90
burn "$here/bench_model-cuda" cuda 150
burn "$here/bench_model-vulkan" vulkan 120
pytorch "" 60
if [ -x "$here/bench_model-cuda" ]; then
    training_loop "$here/bench_model-cuda" cuda 90
    grouped "$here/bench_model-cuda" cuda 45
else
    training_loop "$here/bench_model-vulkan" vulkan 90
    grouped "$here/bench_model-vulkan" vulkan 45
fi
burn "$here/bench_model-cuda" wgpu 90
say "done in $(($(date +%s) - started)) s: $(wc -l <"$results") records in $results"
