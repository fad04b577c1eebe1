"""Does torch.compile pay for itself on the CPU? Compile time and step time of one training step, eager vs compiled.

resnet34 or EfficientNet-Lite0 (37 classes), a random batch (bs 32, 224 px), channels-last, bf16 autocast (`bf16`)
or fp32 (`fp32`): the first step (for the compiled model, the compilation) and the median of the next steps.

    python bench/bench_compile.py lite0 bf16
    python bench/bench_compile.py resnet34 bf16
"""
import statistics, sys, time
import torch
from bench_bound import prepared, train_step   # bench/ is on sys.path when run as a script


def run(arch: str, bf16: bool, compiled: bool, steps: int = 4, bs: int = 32) -> tuple[float, float]:
    "Seconds of the first step and the median of the next `steps` steps."
    m, x, y, opt = prepared(arch, True, bs)
    f, ts = torch.compile(m) if compiled else m, []
    for _ in range(steps + 1):
        t = time.perf_counter(); train_step(f, x, y, opt, bf16); ts.append(time.perf_counter() - t)
    return ts[0], statistics.median(ts[1:])


if __name__ == '__main__':
    arch, bf16 = sys.argv[1], sys.argv[2] == 'bf16'
    (e0, e), (c0, c) = run(arch, bf16, False), run(arch, bf16, True)
    gain = e - c
    pays = f'after {(c0 - e0) / gain:.0f} steps' if gain > 0 else 'never (the compiled step is not faster)'
    print(f'{arch} {sys.argv[2]}: eager step {e:.2f} s; compiled: first step (compiling) {c0:.1f} s, then {c:.2f} s a step '
          f'({e / c:.2f}x); the compilation pays back {pays}')
