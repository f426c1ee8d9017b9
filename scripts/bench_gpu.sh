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
    timeout "$limit" "$@" 2>>"$log" | tee -a "$log" | grep '^{' >>"$results"
    local rc=${PIPESTATUS[0]}
    say "$name: exit $rc after $(($(date +%s) - t0)) s"
}

if [ "$preset" = tiny ]; then
    infer_batches=1,8
    train_batches=8
    size_args=(--preset tiny)
else
    infer_batches=1,8,32,128
    train_batches=32,64
    size_args=(--preset seed)
fi

say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
for packed in "$here"/bench_model-*.zst; do
    [ -e "$packed" ] || continue
    zstd -q -d -f "$packed" -o "${packed%.zst}" && chmod +x "${packed%.zst}"
done

# Burn: each binary on each device it was built for (bench_model-<features>).
for binary in "$here"/bench_model-cuda "$here"/bench_model-vulkan; do
    [ -x "$binary" ] || continue
    case "$(basename "$binary")" in
        bench_model-cuda) devices="cuda wgpu" ;;
        bench_model-vulkan) devices="vulkan" ;;
    esac
    for device in $devices; do
        step 150 "burn $device inference ($infer_batches)" "$binary" "${size_args[@]}" \
            --device "$device" --variant fast --parts detector \
            --batch-sizes "$infer_batches" --warmup 3 --iters 10 --check-against-cpu
        step 150 "burn $device training step ($train_batches)" "$binary" "${size_args[@]}" \
            --device "$device" --parts train-step --batch-sizes "$train_batches" \
            --warmup 2 --iters 5
    done
done

# The grouped 3x3 convolutions: each formulation at one batch, on the best-built backend.
grouped_binary="$here/bench_model-cuda"
grouped_device=cuda
if [ ! -x "$grouped_binary" ]; then
    grouped_binary="$here/bench_model-vulkan"
    grouped_device=vulkan
fi
if [ -x "$grouped_binary" ]; then
    for method in direct im2col shifted; do
        step 60 "burn $grouped_device grouped conv $method" "$grouped_binary" "${size_args[@]}" \
            --device "$grouped_device" --grouped-conv "$method" --parts detector,train-step \
            --batch-sizes 32 --warmup 2 --iters 5
    done
fi

# PyTorch CUDA: eager, default layout and channels_last (cuDNN autotuned), same cases.
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>>"$log"; then
    for layout in "" --channels-last; do
        step 120 "pytorch cuda ${layout:-default} inference" python3 "$here/bench_model_torch.py" \
            --device cuda $layout --preset "$preset" --parts detector \
            --batch-sizes "$infer_batches" --warmup 3 --iters 10
        step 90 "pytorch cuda ${layout:-default} training step" python3 "$here/bench_model_torch.py" \
            --device cuda $layout --preset "$preset" --parts train_step \
            --batch-sizes "$train_batches" --warmup 2 --iters 5
    done
else
    say "pytorch cuda: not available here (no torch with CUDA)"
fi
say "done in $(($(date +%s) - started)) s: $(wc -l <"$results") records in $results"
