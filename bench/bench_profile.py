"""Where does the time of an epoch go? lesson1 and fastai 2.x side by side, phase by phase, on the CPU.

The same learners as bench_train.py (pets sample, 224 px, same augmentation, 0 workers) train one frozen and one
unfrozen epoch each (after an untimed warm-up epoch), alternating between the sides. A callback on each side reads
the clock at every batch event and adds the time since the previous event to a phase:

    data                 waiting for the next batch: decoding, cropping and the batch augmentation (both sides
                         augment batches inside their loaders)
    forward + loss       the model's forward pass and the loss
    backward             loss.backward()
    optimizer step       opt.step()
    rest of the batch    zero_grad and the other callbacks' work after the step (recorder, progress, metrics)
    outside batches      set-up and end of the phases and the epoch (validation metrics, scheduling, progress lines)

Other callbacks' work at an event counts in the phase after it. The validation phase is split into data and
forward. Last, torch's profiler runs one training step of each side's setup on random tensors and reports the share
of it spent in convolutions (forward and backward): what no input pipeline can change.

    bench/.env-fastai/bin/python bench/bench_profile.py      # writes a section of bench/results_profile.md per CPU kind
(AVX2 emulation: the same variables as for bench_train.py, see bench/README.md.)
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path

from _common import cpu_kind, uptime, write_section   # bench/ is on sys.path when run as a script
from bench_train import LR, LR_UNFROZEN, fastai_learner, lesson1_learner, timed, versions
from bench_bound import make

PHASES = ['data', 'forward + loss', 'backward', 'optimizer step', 'rest of the batch', 'data (validation)',
          'forward (validation)', 'outside batches']


class Phases:
    "Seconds per phase of one fit, from a side's batch events."
    def __init__(self): self.t, self.s = None, dict.fromkeys(PHASES, 0.)
    def start(self): self.t = time.perf_counter()
    def mark(self, phase: str):
        t = time.perf_counter(); self.s[phase] += t - self.t; self.t = t


def lesson1_cb(p: Phases):
    from lesson1.learner import Callback
    class PhaseCB(Callback):
        order = -100   # first at every event
        def begin_fit(self): p.__init__(); p.start()
        def begin_train(self): p.mark('outside batches')
        def begin_validate(self): p.mark('outside batches')
        def begin_batch(self): p.mark('data' if self.learn.training else 'data (validation)')
        def after_loss(self): p.mark('forward + loss' if self.learn.training else 'forward (validation)')
        def after_backward(self): p.mark('backward')
        def after_step(self): p.mark('optimizer step')
        def after_batch(self): p.mark('rest of the batch' if self.learn.training else 'forward (validation)')
        def after_fit(self): p.mark('outside batches')
    return PhaseCB()


def fastai_cb(p: Phases):
    from fastai.callback.core import Callback
    class PhaseCB(Callback):
        order = -100
        def before_fit(self): p.__init__(); p.start()
        def before_train(self): p.mark('outside batches')
        def before_validate(self): p.mark('outside batches')
        def before_batch(self): p.mark('data' if self.training else 'data (validation)')
        def after_loss(self): p.mark('forward + loss' if self.training else 'forward (validation)')
        def after_backward(self): p.mark('backward')
        def after_step(self): p.mark('optimizer step')
        def after_batch(self): p.mark('rest of the batch' if self.training else 'forward (validation)')
        def after_fit(self): p.mark('outside batches')
    return PhaseCB()


def conv_share(arch: str, bf16: bool, channels_last: bool, bs: int) -> float:
    "Share of one training step on random tensors (after a warm-up step) that torch's profiler puts in convolutions."
    import torch
    from torch.profiler import profile, ProfilerActivity
    m, x, y = make(arch).train(), torch.randn(bs, 3, 224, 224), torch.randint(0, 37, (bs,))
    if channels_last: m, x = m.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = torch.nn.functional.cross_entropy(m(x).float(), y)
        loss.backward(); opt.step(); opt.zero_grad()
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof: step()
    ev = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in ev)
    return sum(e.self_cpu_time_total for e in ev if 'convolution' in e.key) / total


def run_model(arch, args, path, files, pat) -> dict:
    "Per-phase seconds of a frozen and an unfrozen epoch on both sides, alternating."
    import torch
    torch.manual_seed(42)
    L, _ = lesson1_learner(arch, path, files, pat, args.bs, 0)
    F = fastai_learner(arch, path, files, pat, args.bs, 0)
    pl, pf = Phases(), Phases()
    L.add_cbs(lesson1_cb(pl)); F.add_cb(fastai_cb(pf))
    r = {'precision': repr(L.precision)}
    timed(lambda: L.fit_one_cycle(1, LR)); timed(lambda: F.fit_one_cycle(1, LR))   # warm-up, untimed
    for key, lr in (('frozen', LR), ('unfrozen', LR_UNFROZEN)):
        if key == 'unfrozen': L.unfreeze(); F.unfreeze()
        for side, lrn, p in (('lesson1', L, pl), ('fastai', F, pf)):
            total = timed(lambda: lrn.fit_one_cycle(1, lr))
            r[side, key] = dict(p.s, total=total)
            print(f"{arch} {side} {key}: {total:.1f}s " + ', '.join(f'{k} {v:.1f}' for k, v in p.s.items()), flush=True)
    bf16 = L.precision.dtype is not None
    r['conv'] = {'lesson1': conv_share(arch, bf16, L.precision.channels_last, args.bs), 'fastai': conv_share(arch, False, False, args.bs)}
    return r


def table(arch, r) -> list:
    cols = [(s, k) for k in ('frozen', 'unfrozen') for s in ('lesson1', 'fastai')]
    cell = lambda d, ph: f"{d[ph]:.1f} ({d[ph] / d['total']:.0%})"
    rows = [f'### {arch}', '', f"lesson1 precision: {r['precision']}; fastai: fp32, contiguous", '',
            '| phase | ' + ' | '.join(f'{s} {k} s (share)' for s, k in cols) + ' |', '|---|' + '---:|' * len(cols)]
    rows += [f'| {ph} | ' + ' | '.join(cell(r[c], ph) for c in cols) + ' |' for ph in PHASES]
    rows.append('| **epoch (wall clock)** | ' + ' | '.join(f"**{r[c]['total']:.1f}**" for c in cols) + ' |')
    rows += ['', f"Convolutions (forward and backward) in one training step on random tensors, torch's profiler: "
             f"lesson1's setup {r['conv']['lesson1']:.0%}, fastai's {r['conv']['fastai']:.0%}.", '']
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=['resnet34', 'lite0'], choices=['resnet34', 'lite0'])
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--out', default=str(Path(__file__).parent/'results_profile.md'))
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    import torch
    from lesson1.external import untar_data, URLs
    from lesson1.image import get_image_files
    path = untar_data(URLs.PETS)/'images'
    files = get_image_files(path)
    before = uptime()
    results = {arch: run_model(arch, args, path, files, r'/([^/]+)_\d+.jpg$') for arch in args.models}
    lines = [f'- {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, data workers 0, no GPU; '
             f'{len(files)} pet photos, 224 px, bs {args.bs}, the learners of bench_train.py',
             f'- versions: {versions()}', f'- uptime before: `{before}`', f'- uptime after: `{uptime()}`',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '']
    for arch, r in results.items(): lines += table(arch, r)
    text = '\n'.join(lines)
    print(text)
    write_section(args.out, cpu_kind(), text, 'Where an epoch spends its time: lesson1 vs fastai 2.x, phase by phase')


if __name__ == '__main__': main()
