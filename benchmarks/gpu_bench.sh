#!/usr/bin/env bash
# The GPU table of `mithridate bench`, as one prepared script (under 5 minutes on an H100/H200):
# mithridate against torchvision (image by image), kornia and torchaug (batches) on the GPU.
#   bash benchmarks/gpu_bench.sh OUT_DIR
# Where kornia and torchaug are not installed, put their wheels in gpu_wheels/ (pip download ... -d gpu_wheels).
set -euo pipefail
out="${1:-benchmarks/results}"
if ls gpu_wheels/*.whl >/dev/null 2>&1; then python3 -m pip install -q --no-deps --no-index gpu_wheels/*.whl; fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
python3 benchmarks/gpu_syncs.py
python3 -m mithridate.cli bench --device cuda \
    --sizes 32:1024,32:16384,224:128 --threads 1 \
    --libraries mithridate,torchvision,kornia,torchaug,copy --repeats 3 --target-seconds 0.1 --out "$out"
