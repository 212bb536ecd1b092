#!/usr/bin/env bash
# The fused Triton path on a GPU, as one prepared script (about 4 minutes on an H100/H200): agreement of the
# draws, grids and images with the CPU, host syncs and kernels per call, the first call's compilation and
# self-checks, and the bench table (Triton paths on, the default) against kornia.
#   bash benchmarks/gpu_triton.sh OUT_DIR
set -euo pipefail
out="${1:-benchmarks/results}"
if ls gpu_wheels/*.whl >/dev/null 2>&1; then python3 -m pip install -q --no-deps --no-index gpu_wheels/*.whl; fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
python3 benchmarks/gpu_triton.py --json "$out/gpu_triton.json"
python3 -m mithridate.cli bench --device cuda \
    --sizes 32:1024,32:16384,224:128 --threads 1 --groups policy,reference \
    --libraries mithridate,kornia,copy --repeats 3 --target-seconds 0.1 --out "$out" --name bench_cuda_triton
