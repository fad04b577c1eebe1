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
import argparse, os, sys
from pathlib import Path

from _common import PHASES, Phases, cpu_kind, phase_cb, uptime, write_section   # bench/ is on sys.path when run as a script
from bench_train import LR, LR_UNFROZEN, fastai_learner, lesson1_learner, timed, versions
from bench_bound import prepared, train_step

def conv_share(arch: str, bf16: bool, channels_last: bool, bs: int) -> float:
    "Share of one training step on random tensors (after a warm-up step) that torch's profiler puts in convolutions."
    from torch.profiler import profile, ProfilerActivity
    m, x, y, opt = prepared(arch, channels_last, bs)
    train_step(m, x, y, opt, bf16)   # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof: train_step(m, x, y, opt, bf16)
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
    L.add_cbs(phase_cb(pl, 'lesson1')); F.add_cb(phase_cb(pf, 'fastai'))
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
