"""The compute bound of a training step on this CPU: how fast can any library train, whatever its input pipeline?

One training step (forward, backward, SGD step) of resnet34 and EfficientNet-Lite0 (37 classes) on a random batch
(bs 32, 224 px), in each numeric setup, alternating, median of the runs:

    fp32, contiguous       what fastai 2.x trains in on a CPU
    fp32, channels_last    lesson1 on a CPU without native bf16
    bf16, channels_last    lesson1 on a CPU with native bf16 (autocast)

Each is timed with every layer training (the unfrozen epoch) and with the body frozen but its batchnorm layers
training (the frozen epoch, as both libraries train by default: the backward pass still runs through the whole
body, for the batchnorm weights, but computes no convolution weight gradients). The ratio of lesson1's setup to
fastai's is the best lesson1 / fastai epoch ratio any input pipeline can give. Under the AVX2 emulation (see bench/README.md) only the fp32 rows run:
lesson1 does not use bf16 there.

    python bench/bench_bound.py            # writes a section of bench/results_bound.md named after the CPU kind
"""
from __future__ import annotations
import argparse, statistics, time
from pathlib import Path

import timm, torch, torchvision
from torch import nn

from _common import cpu_kind, uptime, write_section   # bench/ is on sys.path when run as a script

SETUPS = {'fp32, contiguous': (False, False), 'fp32, channels_last': (False, True), 'bf16, channels_last': (True, True)}


def make(arch: str) -> nn.Module:
    "A fresh network with 37 outputs, random weights."
    if arch == 'resnet34': return torchvision.models.resnet34(num_classes=37)
    return timm.create_model('tf_efficientnet_lite0', num_classes=37)


def freeze_body(m: nn.Module):
    "Freeze `m` as a frozen learner's body is (fastai's default, `train_bn=True`): every weight but the batchnorm layers' and the classifier's."
    head = m.get_classifier() if hasattr(m, 'get_classifier') else m.fc
    keep = {id(p) for p in head.parameters()} | {id(p) for mod in m.modules() if isinstance(mod, nn.modules.batchnorm._BatchNorm) for p in mod.parameters()}
    for p in m.parameters(): p.requires_grad_(id(p) in keep)


def prepared(arch: str, channels_last: bool, bs: int, frozen: bool = False) -> tuple:
    "`(model, x, y, opt)`: a fresh network in training mode (`frozen`: its body frozen, batchnorm training), a random batch, SGD."
    m, x, y = make(arch).train(), torch.randn(bs, 3, 224, 224), torch.randint(0, 37, (bs,))
    if frozen: freeze_body(m)
    if channels_last: m, x = m.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    return m, x, y, torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=1e-3)


def train_step(m, x, y, opt, bf16: bool):
    "One training step: forward and loss (bf16 autocast if asked), backward, optimiser step."
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = nn.functional.cross_entropy(m(x).float(), y)
    loss.backward(); opt.step(); opt.zero_grad()


def median_seconds(f, steps: int) -> float:
    "Median seconds of `steps` calls of `f()`, after one untimed warm-up call."
    f(); times = []
    for _ in range(steps):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)


def step_seconds(arch: str, bf16: bool, channels_last: bool, bs: int, steps: int, frozen: bool = False) -> float:
    "Median seconds of `steps` training steps (after one warm-up step); `frozen`: the body frozen, its batchnorm training."
    m, x, y, opt = prepared(arch, channels_last, bs, frozen)
    return median_seconds(lambda: train_step(m, x, y, opt, bf16), steps)


def forward_seconds(arch: str, bf16: bool, channels_last: bool, bs: int, steps: int) -> float:
    "Median seconds of `steps` validation forwards (evaluation mode, no gradients), after one warm-up."
    m, x, _, _ = prepared(arch, channels_last, bs)
    m.eval()
    def fwd():
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): m(x)
    return median_seconds(fwd, steps)


def alternating(arch: str, setups: dict, bs: int, steps: int, rounds: int, frozen: bool = False) -> dict:
    "`{name: [seconds per step of each run]}` for the `setups` (`name: (bf16, channels_last)`), run in alternating order."
    runs = {k: [] for k in setups}
    for r in range(rounds):
        for k in (list(setups) if r % 2 == 0 else list(setups)[::-1]):
            runs[k].append(step_seconds(arch, *setups[k], bs, steps, frozen))
    return runs


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--steps', type=int, default=3, help='timed steps per run')
    p.add_argument('--rounds', type=int, default=3, help='runs of every setup, in alternating order')
    p.add_argument('--models', nargs='+', default=['resnet34', 'lite0'], choices=['resnet34', 'lite0'])
    p.add_argument('--out', default=str(Path(__file__).parent/'results_bound.md'))
    args = p.parse_args()
    kind = cpu_kind()
    setups = {k: v for k, v in SETUPS.items() if not (v[0] and 'EMULATED' in kind)}
    before, rows = uptime(), []
    for arch in args.models:
        for frozen in (False, True):
            runs = alternating(arch, setups, args.bs, args.steps, args.rounds, frozen)
            base = statistics.median(runs['fp32, contiguous'])
            for k, ts in runs.items():
                med = statistics.median(ts)
                rows.append(f"| {arch} | {'frozen body' if frozen else 'all trained'} | {k} | {med:.2f} | "
                            f"{' '.join(f'{t:.2f}' for t in ts)} | **{med / base:.2f}x** |")
                print(rows[-1], flush=True)
    text = '\n'.join([f'- torch {torch.__version__}, {torch.get_num_threads()} threads, bs {args.bs}, 224 px, '
                      f'{args.rounds} rounds x {args.steps} timed steps', f'- uptime before: `{before}`', f'- uptime after: `{uptime()}`',
                      '', '| model | body | setup | s per step (median) | runs | vs fp32 contiguous (fastai) |', '|---|---|---|---:|---|---:|', *rows])
    write_section(args.out, kind, text, 'Compute bound of a training step: lesson1 vs fastai setups on the CPU')


if __name__ == '__main__': main()
