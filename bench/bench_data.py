"""Images per second of lesson1's image loader against fastai 2.x's `ImageDataLoaders`, in one run.

Both load the same pet photos (`untar_data(URLs.PETS)/'images'`), label them with the lesson's regex,
decode, resize/crop to `--size` px and augment them (flip, rotate, zoom, warp, lighting), normalise with
ImageNet stats, with the same batch size and the same number of worker processes, on the CPU:

    lesson1: ImageDataBunch.from_name_re(..., ds_tfms=get_transforms(), size=224).normalize(imagenet_stats)
    fastai : ImageDataLoaders.from_path_re(..., item_tfms=Resize(224),
                                           batch_tfms=[*aug_transforms(), Normalize.from_stats(*imagenet_stats)])

One pass = one epoch of the training loader (shuffled, last incomplete batch dropped, as in training).
After a warm-up pass each, timed passes alternate between the two loaders, so that other load on the
machine hits both alike. Result: images/s (all timed passes together) and the ratio lesson1/fastai.

Run it in its own environment, so fastai never becomes a dependency of lesson1 (see bench/README.md):
    bench/.env-fastai/bin/python bench/bench_data.py --workers 0 2 --passes 5
"""
from __future__ import annotations
import argparse, os, platform, statistics, sys, tempfile, time
from pathlib import Path


from _common import cpu_name as _cpu_name, load_avg as _load   # bench/ is on sys.path when run as a script


def lesson1_loader(path, fnames, pat, bs, size, workers):
    "lesson1's training loader over the pets sample."
    from lesson1.vision import ImageDataBunch, get_transforms, imagenet_stats
    data = ImageDataBunch.from_name_re(path, fnames, pat, ds_tfms=get_transforms(), size=size, bs=bs,
                                       num_workers=workers, device='cpu', seed=42)
    return data.normalize(imagenet_stats).train_dl


def fastai_loader(path, fnames, pat, bs, size, workers):
    "fastai 2.x's training loader over the same files, with comparable augmentation."
    from fastai.vision.all import ImageDataLoaders, Resize, aug_transforms, Normalize, imagenet_stats
    dls = ImageDataLoaders.from_path_re(path, fnames, pat, valid_pct=0.2, seed=42, item_tfms=Resize(size),
                                        batch_tfms=[*aug_transforms(), Normalize.from_stats(*imagenet_stats)],
                                        bs=bs, num_workers=workers, device='cpu')
    return dls.train


def one_pass(dl) -> tuple[int, float]:
    "Images delivered and seconds taken for one epoch of `dl`."
    n, t = 0, time.perf_counter()
    for xb, yb in dl:
        assert tuple(xb.shape[1:]) == (3, SIZE, SIZE), xb.shape
        n += len(xb)
    return n, time.perf_counter() - t


def bench(workers: int, passes: int, bs: int, files, path, pat) -> dict:
    "Both loaders with `workers` worker processes: per-pass rates and totals."
    dls = {'lesson1': lesson1_loader(path, files, pat, bs, SIZE, workers),
           'fastai': fastai_loader(path, files, pat, bs, SIZE, workers)}
    for dl in dls.values(): one_pass(dl)   # warm-up: imports, worker start, file cache
    res = {k: [] for k in dls}
    for _ in range(passes):
        for k, dl in dls.items(): res[k].append(one_pass(dl))
    out = {}
    for k, runs in res.items():
        n, t = sum(r[0] for r in runs), sum(r[1] for r in runs)
        out[k] = dict(rate=n / t, median=statistics.median(r[0] / r[1] for r in runs), images=n, seconds=t)
    out['ratio'] = out['lesson1']['rate'] / out['fastai']['rate']
    return out


def versions() -> str:
    import torch, torchvision, PIL, fastai, lesson1
    return (f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"pillow {PIL.__version__}, fastai {fastai.__version__}, lesson1 {lesson1.__version__}")


def report(results: dict, args, files, load_before: str, load_after: str) -> str:
    import torch
    lines = ['# Data loading benchmark: lesson1 vs fastai 2.x', '',
             f'- machine: {_cpu_name()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, no GPU used (device=cpu)',
             f'- versions: {versions()}',
             f'- data: {len(files)} pet photos (untar_data(URLs.PETS)/"images"), labels by the lesson regex; '
             f'training loader (296 images, 4 batches of {args.bs} per pass), size {SIZE}, bs {args.bs}',
             f'- passes: 1 warm-up + {args.passes} timed per loader, alternating; load average before/after: {load_before} / {load_after}',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '',
             '| num_workers | lesson1 images/s | fastai images/s | ratio | lesson1 median/pass | fastai median/pass |',
             '|---:|---:|---:|---:|---:|---:|']
    for w, r in results.items():
        a, b = r['lesson1'], r['fastai']
        lines.append(f"| {w} | {a['rate']:.0f} | {b['rate']:.0f} | **{r['ratio']:.2f}x** | {a['median']:.0f} | {b['median']:.0f} |")
    return '\n'.join(lines) + '\n'


def main():
    global SIZE
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--workers', type=int, nargs='+', default=None, help='worker counts to compare (default: lesson1 default)')
    p.add_argument('--passes', type=int, default=5)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--out', default=str(Path(__file__).parent/'results_data.md'))
    args = p.parse_args()
    SIZE = args.size
    os.environ.setdefault('LESSON1_PROGRESS', '0')
    from lesson1.vision import untar_data, URLs, get_image_files, default_num_workers
    path = untar_data(URLs.PETS)/'images'
    files = get_image_files(path)
    pat = r'/([^/]+)_\d+.jpg$'
    load_before = _load()
    results = {w: bench(w, args.passes, args.bs, files, path, pat) for w in (args.workers or [default_num_workers()])}
    text = report(results, args, files, load_before, _load())
    print(text)
    out = Path(args.out)
    with tempfile.NamedTemporaryFile('w', dir=out.parent, delete=False, suffix='.tmp') as f: f.write(text)
    os.replace(f.name, out)


SIZE = 224
if __name__ == '__main__': main()
