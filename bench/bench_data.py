"""Images per second of lesson1's training loader against fastai 2.x's `ImageDataLoaders`, in one run.

Both load the same pet photos (`untar_data(URLs.PETS)/'images'`), label them with the lesson's regex,
decode, resize/crop to `--size` px and augment them (flip, rotate, zoom, warp, lighting), normalise with
ImageNet stats, with the same batch size and the same number of worker processes, on the CPU:

    lesson1: ImageDataBunch.from_name_re(..., ds_tfms=get_transforms(), size=224).normalize(imagenet_stats)
             (its own choices: decoding threads at 0 workers, the image cache when it fits, batch augmentation)
    lesson1, no cache: the same with cache=False (every pass decodes every image, as fastai does)
    fastai : ImageDataLoaders.from_path_re(..., item_tfms=Resize(224),
                                           batch_tfms=[*aug_transforms(), Normalize.from_stats(*imagenet_stats)])

One pass = one epoch of the training loader (shuffled, last incomplete batch dropped, as in training).
After a warm-up pass each (which also fills lesson1's cache), timed passes alternate between the loaders,
so that other load on the machine hits them alike. Result: images/s (all timed passes together) and the
ratios to fastai. The results go into a section of `--out` named after the CPU kind (native, or AVX2
emulated through ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA), replacing only an older section of that kind.

Run it in its own environment, so fastai never becomes a dependency of lesson1 (see bench/README.md):
    bench/.env-fastai/bin/python bench/bench_data.py --workers 0 2 --passes 5
"""
from __future__ import annotations
import argparse, os, platform, statistics, sys, time
from pathlib import Path

from _common import cpu_kind, uptime, write_section   # bench/ is on sys.path when run as a script

SIZE = 224


def lesson1_loader(path, fnames, pat, bs, size, workers, cache=None):
    "lesson1's training loader over the pets sample, and its bunch."
    from lesson1.vision import ImageDataBunch, get_transforms, imagenet_stats
    data = ImageDataBunch.from_name_re(path, fnames, pat, ds_tfms=get_transforms(), size=size, bs=bs,
                                       num_workers=workers, device='cpu', seed=42, cache=cache)
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
    import torch
    n, t = 0, time.perf_counter()
    for xb, yb in dl:
        assert tuple(xb.shape[1:]) == (3, SIZE, SIZE) and xb.dtype == torch.float32, (xb.shape, xb.dtype)
        n += len(xb)
    return n, time.perf_counter() - t


def bench(workers: int, passes: int, bs: int, files, path, pat) -> dict:
    "The loaders with `workers` worker processes: per-pass rates and totals."
    dls = {'lesson1': lesson1_loader(path, files, pat, bs, SIZE, workers),
           'lesson1, no cache': lesson1_loader(path, files, pat, bs, SIZE, workers, cache=False),
           'fastai': fastai_loader(path, files, pat, bs, SIZE, workers)}
    for dl in dls.values(): one_pass(dl)   # warm-up: imports, worker start, file cache, lesson1's image cache
    res = {k: [] for k in dls}
    for _ in range(passes):
        for k, dl in dls.items(): res[k].append(one_pass(dl))
    out = {k: dict(rate=sum(n for n, _ in r) / sum(t for _, t in r), median=statistics.median(n / t for n, t in r))
           for k, r in res.items()}
    out['pipeline'] = dls['lesson1'].data.pipeline
    return out


def versions() -> str:
    import torch, torchvision, PIL, fastai, lesson1
    return (f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"pillow {PIL.__version__}, fastai {fastai.__version__}, lesson1 {lesson1.__version__}")


def report(results: dict, args, files, before: str, after: str) -> str:
    import torch
    lines = [f'- machine: {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, no GPU used (device=cpu)',
             f'- versions: {versions()}',
             f'- data: {len(files)} pet photos (untar_data(URLs.PETS)/"images"), labels by the lesson regex; '
             f'training loader (296 images, {296 // args.bs} batches of {args.bs} per pass), size {SIZE}',
             f'- passes: 1 warm-up + {args.passes} timed per loader, alternating',
             f'- uptime before: `{before}`', f'- uptime after: `{after}`',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '',
             '| num_workers | lesson1 images/s | lesson1 no cache | fastai images/s | lesson1 / fastai | no cache / fastai | target |',
             '|---:|---:|---:|---:|---:|---:|---|']
    for w, r in results.items():
        a, nc, f = r['lesson1'], r['lesson1, no cache'], r['fastai']
        target = '>= 1.5x' if w == 0 else '>= 2.0x' if w == 2 else ''
        lines.append(f"| {w} | {a['rate']:.0f} | {nc['rate']:.0f} | {f['rate']:.0f} | **{a['rate'] / f['rate']:.2f}x** | "
                     f"{nc['rate'] / f['rate']:.2f}x | {target} |")
    lines += ['', 'Median pass, images/s: ' + '; '.join(
        f"{w} workers: lesson1 {r['lesson1']['median']:.0f}, no cache {r['lesson1, no cache']['median']:.0f}, fastai {r['fastai']['median']:.0f}"
        for w, r in results.items()), '',
        "lesson1's choices (its bunch's `pipeline` line): " + '; '.join(f"{w} workers: {r['pipeline']}" for w, r in results.items())]
    return '\n'.join(lines) + '\n'


def main():
    global SIZE
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--workers', type=int, nargs='+', default=[0, 2], help='worker counts to compare')
    p.add_argument('--passes', type=int, default=5)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--out', default=str(Path(__file__).parent/'results_data.md'))
    args = p.parse_args()
    SIZE = args.size
    os.environ.setdefault('LESSON1_PROGRESS', '0')
    from lesson1.vision import untar_data, URLs, get_image_files
    path = untar_data(URLs.PETS)/'images'
    files = get_image_files(path)
    pat = r'/([^/]+)_\d+.jpg$'
    before = uptime()
    results = {w: bench(w, args.passes, args.bs, files, path, pat) for w in args.workers}
    text = report(results, args, files, before, uptime())
    print(text)
    write_section(args.out, cpu_kind(), text, 'Data loading benchmark: lesson1 vs fastai 2.x')


if __name__ == '__main__': main()
