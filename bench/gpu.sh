#!/usr/bin/env bash
# The GPU benchmarks in one command (under 8 minutes), writing bench/results_gpu.md, then the `#| cuda` notebook tests; see bench/README.md.
# Without a GPU it runs the same sections on the CPU at toy sizes, to show that it works, and says so.
#   bench/gpu.sh                       (from the repository root)
#   PYTHON=/path/to/python bench/gpu.sh --budget 420
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1 && { $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}; }
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 LESSON1_PROGRESS=0 LESSON1_OFFLINE=1
[ -d data/oxford-iiit-pet/images ] && export LESSON1_DATA=$PWD/data   # the pets sample carried into the repo's data/ folder
gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then nvidia-smi -L; gpu=1; else echo "gpu.sh: no GPU here: the GPU parts are skipped (CPU check at toy sizes only)."; fi
(cd bench && timeout 400 $PY bench_gpu.py "$@"); rc=$?
# The notebook tests marked `#| cuda` (fp16 training, CUDA loading, DDP over nccl with 1 process per GPU), if nbdev is here.
if [ $gpu = 1 ] && $PY -c "import nbdev" 2>/dev/null; then
  for nb in 12_distributed 04_data 07_models; do
    timeout 120 $PY -m nbdev.test --flags cuda --do_print --path nbs/api/$nb.ipynb 2>&1 | tail -3 | sed "s/^/gpu.sh cuda tests $nb: /"
  done
fi
exit $rc
