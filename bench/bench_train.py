"""Training speed of lesson1 against fastai 2.x on the pets sample, in one run, plus the compute bound.

Both sides train resnet34 (random init: no downloads) at 224 px on the same 370 pet photos, labelled
by the lesson regex, with the same batch size, data-worker count and torch threads, on the CPU:

    lesson1: ImageDataBunch.from_name_re(..., ds_tfms=get_transforms(), size=224).normalize(imagenet_stats)
             cnn_learner(data, models.resnet34, metrics=accuracy, pretrained=False)
    fastai : ImageDataLoaders.from_path_re(..., item_tfms=Resize(224), batch_tfms=[*aug_transforms(), Normalize])
             vision_learner(dls, resnet34, metrics=accuracy, pretrained=False)

Timed (wall clock of the whole call, data loading and validation included), alternating between the
two sides so that other load on the machine hits both alike:
  frozen epoch     fit_one_cycle(1, 1e-3) right after creation (head + batchnorm train)
  precompute       lesson1 only: precompute=True, one head epoch (activations computed once, timed apart)
  unfrozen epoch   unfreeze(); fit_one_cycle(1, slice(1e-5, 1e-3))
  lr_find          lr_find with 20 iterations (no plot)
Before timing, each side warms up (untimed): one frozen epoch (its time is reported as the cold first
epoch) and a 3-iteration lr_find unfrozen (first use of the weight-gradient kernels), weights restored.
Compute bound: the same lesson1 model's forward+backward (and forward only, for validation) on random
tensors of the same shape, in fp32 and in bf16 autocast with channels-last; the faster is the bound
an epoch could reach if loading data cost nothing.

Run it in its own environment, so fastai never becomes a dependency of lesson1 (see bench/README.md):
    bench/.env-fastai/bin/python bench/bench_train.py --bs 32
"""
from __future__ import annotations
import argparse, contextlib, io, os, platform, sys, tempfile, time
from pathlib import Path


from _common import cpu_name as _cpu_name, load_avg as _load   # bench/ is on sys.path when run as a script


def timed(f) -> float:
    "Seconds `f()` takes, with its printed output swallowed."
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): f()
    return time.perf_counter() - t


def lesson1_learner(path, files, pat, bs, workers):
    from lesson1.data import ImageDataBunch
    from lesson1.transforms import get_transforms, imagenet_stats
    from lesson1.models import cnn_learner, models
    from lesson1.learner import accuracy
    data = ImageDataBunch.from_name_re(path, files, pat, ds_tfms=get_transforms(), size=224, bs=bs,
                                       num_workers=workers, device='cpu', seed=42).normalize(imagenet_stats)
    return cnn_learner(data, models.resnet34, metrics=accuracy, pretrained=False)


def fastai_learner(path, files, pat, bs, workers):
    from fastai.vision.all import (ImageDataLoaders, Resize, aug_transforms, Normalize, imagenet_stats,
                                   vision_learner, resnet34, accuracy)
    dls = ImageDataLoaders.from_path_re(path, files, pat, valid_pct=0.2, seed=42, item_tfms=Resize(224),
                                        batch_tfms=[*aug_transforms(), Normalize.from_stats(*imagenet_stats)],
                                        bs=bs, num_workers=workers, device='cpu')
    learn = vision_learner(dls, resnet34, metrics=accuracy, pretrained=False)
    learn.recorder.train_metrics = False
    return learn


def fastai_acc(learn) -> float: return float(learn.recorder.values[-1][-1])
def lesson1_acc(learn) -> float: return float(learn.recorder.metrics[-1][0])


def compute_bound(model, bs: int, n_train_batches: int, n_valid: int, reps: int = 3) -> dict:
    "Seconds per epoch if data were free: fwd+bwd per training batch and fwd per validation image, fp32 vs bf16."
    import torch
    import torch.nn.functional as F
    out = {}
    for name in ('fp32', 'bf16'):
        cl = name == 'bf16'
        model.to(memory_format=torch.channels_last if cl else torch.contiguous_format)
        x = torch.randn(bs, 3, 224, 224)
        x = x.contiguous(memory_format=torch.channels_last) if cl else x
        y = torch.randint(0, 37, (bs,))
        ctx = (lambda: torch.autocast('cpu', dtype=torch.bfloat16)) if cl else contextlib.nullcontext
        def fb():
            model.train()
            with ctx(): loss = F.cross_entropy(model(x).float(), y)
            loss.backward(); model.zero_grad(set_to_none=True)
        def fwd():
            model.eval()
            with torch.no_grad(), ctx(): model(x)
        fb(); fwd()   # warm-up
        t_fb = min(timed(fb) for _ in range(reps))
        t_f = min(timed(fwd) for _ in range(reps))
        out[name] = dict(fb=t_fb, f=t_f, epoch=n_train_batches * t_fb + n_valid / bs * t_f)
    out['best'] = min(('fp32', 'bf16'), key=lambda k: out[k]['epoch'])
    return out


def versions() -> str:
    import torch, torchvision, fastai, lesson1
    return (f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"fastai {fastai.__version__}, lesson1 {lesson1.__version__}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--workers', type=int, default=0, help='data worker processes, both sides (0 is fastest on 2 cores)')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--lr-iters', type=int, default=20)
    p.add_argument('--skip-fastai', action='store_true', help='time lesson1 only (quick check)')
    p.add_argument('--out', default=str(Path(__file__).parent/'results_train.md'))
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    import torch
    if args.threads: torch.set_num_threads(args.threads)
    from lesson1.external import untar_data, URLs
    from lesson1.data import get_image_files
    from lesson1.core import set_seed
    from lesson1.learner import cpu_has_bf16
    path = untar_data(URLs.PETS)/'images'
    files = get_image_files(path)
    pat = r'/([^/]+)_\d+.jpg$'
    load_before = _load()
    set_seed(42)
    L = lesson1_learner(path, files, pat, args.bs, args.workers)
    F = None if args.skip_fastai else fastai_learner(path, files, pat, args.bs, args.workers)
    r = {'lesson1': {}, 'fastai': {}}
    # warm-up, untimed: a first (cold) frozen epoch, and a few unfrozen iterations (new kernels for weight gradients)
    for lrn, kw in ((L, {}), (F, {'show_plot': False})):
        if lrn is None: continue
        r['lesson1' if lrn is L else 'fastai']['cold'] = timed(lambda: lrn.fit_one_cycle(1, 1e-3))
        lrn.unfreeze(); timed(lambda: lrn.lr_find(num_it=3, **kw)); lrn.freeze()
    def both(key, fl, ff, accs=False):
        r['lesson1'][key] = timed(fl); print(f'lesson1 {key}: {r["lesson1"][key]:.1f}s', flush=True)
        if accs: r['lesson1'][key + '_acc'] = lesson1_acc(L)
        if F:
            r['fastai'][key] = timed(ff); print(f'fastai  {key}: {r["fastai"][key]:.1f}s', flush=True)
            if accs: r['fastai'][key + '_acc'] = fastai_acc(F)
    both('frozen', lambda: L.fit_one_cycle(1, 1e-3), lambda: F and F.fit_one_cycle(1, 1e-3), accs=True)
    L.precompute = True
    r['lesson1']['precompute_first'] = timed(lambda: L.fit_one_cycle(1, 1e-2))
    r['lesson1']['precompute'] = timed(lambda: L.fit_one_cycle(1, 1e-2))
    r['lesson1']['precompute_acc'] = lesson1_acc(L)
    print(f"lesson1 precompute: first epoch {r['lesson1']['precompute_first']:.1f}s (computes activations), "
          f"next {r['lesson1']['precompute']:.3f}s", flush=True)
    L.precompute = False
    L.unfreeze()
    if F: F.unfreeze()
    both('unfrozen', lambda: L.fit_one_cycle(1, slice(1e-5, 1e-3)), lambda: F.fit_one_cycle(1, slice(1e-5, 1e-3)), accs=True)
    both('lr_find', lambda: L.lr_find(num_it=args.lr_iters), lambda: F.lr_find(num_it=args.lr_iters, show_plot=False))
    n_train = len(L.data.train_dl)
    bound = compute_bound(L.model, args.bs, n_train, len(L.data.valid_ds))
    text = report(r, bound, args, L, len(files), n_train, load_before, _load(), cpu_has_bf16())
    print(text)
    out = Path(args.out)
    if not args.skip_fastai:
        with tempfile.NamedTemporaryFile('w', dir=out.parent, delete=False, suffix='.tmp') as f: f.write(text)
        os.replace(f.name, out)


def report(r, bound, args, L, n_files, n_train, load_before, load_after, bf16) -> str:
    import torch
    a, b = r['lesson1'], r['fastai']
    best = bound[bound['best']]
    def ratio(x, y): return f'{x / y:.2f}x' if y else 'n/a'
    lines = ['# Training speed benchmark: lesson1 vs fastai 2.x', '',
             f'- machine: {_cpu_name()}, {os.cpu_count()} CPU cores, native bf16: {bf16}, torch threads '
             f'{torch.get_num_threads()}, data workers {args.workers}, no GPU in this session (device=cpu)',
             f'- versions: {versions()}',
             f'- data: {n_files} pet photos (37 breeds), 80/20 split, 224 px, bs {args.bs}, {n_train} training batches per epoch; '
             f'resnet34, random init (no downloads); lesson1 precision: {L.precision!r}',
             f'- load average before / after: {load_before} / {load_after} (1, 5, 15 min)',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '',
             '| step | lesson1 s | fastai s | lesson1/fastai | target |', '|---|---:|---:|---:|---|',
             f"| frozen epoch | {a['frozen']:.1f} | {b.get('frozen', 0):.1f} | {ratio(a['frozen'], b.get('frozen'))} | <= 0.5x |",
             f"| unfrozen epoch | {a['unfrozen']:.1f} | {b.get('unfrozen', 0):.1f} | {ratio(a['unfrozen'], b.get('unfrozen'))} | <= 0.5x |",
             f"| precompute head epoch (vs fastai frozen epoch) | {a['precompute']:.3f} | {b.get('frozen', 0):.1f} | "
             f"{a['precompute'] / b['frozen'] if b.get('frozen') else float('nan'):.4f}x | <= 0.05x |",
             f"| precompute: first epoch, computing the activations once | {a['precompute_first']:.1f} | | | |",
             f"| first (cold) frozen epoch, untimed warm-up | {a['cold']:.1f} | {b.get('cold', 0):.1f} | {ratio(a['cold'], b.get('cold'))} | |",
             f"| lr_find, {args.lr_iters} iterations | {a['lr_find']:.1f} | {b.get('lr_find', 0):.1f} | {ratio(a['lr_find'], b.get('lr_find'))} | |",
             '', '**Compute bound** (same model, random tensors of the same shape; epoch = training batches x fwd+bwd + '
             'validation images / bs x fwd):', '',
             '| precision | fwd+bwd per batch s | fwd per batch s | epoch bound s |', '|---|---:|---:|---:|']
    for k in ('fp32', 'bf16'):
        c = bound[k]; lines.append(f"| {k}{' (faster)' if k == bound['best'] else ''} | {c['fb']:.2f} | {c['f']:.2f} | {c['epoch']:.1f} |")
    lines += ['', f"lesson1's unfrozen epoch runs at **{best['epoch'] / a['unfrozen']:.0%}** of the compute bound "
              f"({best['epoch']:.1f}s bound / {a['unfrozen']:.1f}s measured; target >= 80%).", '',
              '**Validation accuracy** (random init, 1 frozen + 1 unfrozen epoch on 296 images of 37 classes: near chance, '
              '1/37 = 2.7%, for both; this only shows neither side trades accuracy for speed):', '',
              '| after | lesson1 | fastai |', '|---|---:|---:|',
              f"| frozen epoch | {a['frozen_acc']:.3f} | {b.get('frozen_acc', float('nan')):.3f} |",
              f"| precompute head epochs | {a['precompute_acc']:.3f} | |",
              f"| unfrozen epoch | {a['unfrozen_acc']:.3f} | {b.get('unfrozen_acc', float('nan')):.3f} |"]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__': main()
