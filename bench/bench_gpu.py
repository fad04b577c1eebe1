"""GPU benchmarks of lesson1 (and fastai 2.x when it is installed), in one run that fits in a few minutes.

On the pets sample repeated to a few thousand images (links to the 370 photos in numbered folders, so every
item is a file of its own; labelled as such everywhere), at 224 px:
  1. compute bound: resnet34 and EfficientNet-Lite0 training steps (forward, backward, fused AdamW step) on
     random tensors, with lesson1's precision on the GPU (fp16 autocast, channels-last), bs 64 to 256: images/s;
  2. loader only: images/s of lesson1's training loader (batches on the GPU, augmented there) and fastai's,
     first epoch (decoding) and second (lesson1's image cache, when it fits);
  3. real pipeline: unfrozen training epochs through each library's loop, images/s of the training phase,
     and the fraction of the compute bound it reaches;
  4. the lesson's 4 resnet34 epochs (`fit_one_cycle(4)`, frozen, bs 64) on the sample repeated to 7,400 images.
Sections that would not finish within `--budget` seconds are skipped, saying so; the results file is rewritten
after every section, so a run cut short still leaves what it measured.

Without a GPU it runs every section on the CPU at toy sizes (a check that the script works, not a measurement)
and says so at the top of the results. `bench/gpu.sh` is the way to run it.
"""
from __future__ import annotations
import argparse, contextlib, io, os, platform, sys, tempfile, time
from pathlib import Path

import torch
from _common import cpu_name, uptime

T0 = time.perf_counter()
PAT = r'/([^/]+)_\d+.jpg$'


class Report:
    "The results file, rewritten after each section."
    def __init__(self, out, head): self.out, self.lines = Path(out), list(head)
    def add(self, *lines):
        self.lines += lines; print(*lines, sep='\n', flush=True)
        tmp = self.out.with_suffix('.tmp'); tmp.write_text('\n'.join(self.lines) + '\n'); os.replace(tmp, self.out)


def left(args) -> float: return args.budget - (time.perf_counter() - T0)


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def repeated(images: Path, n: int, tmp: Path) -> list:
    "`n` image files: links to the photos in `images`, in folders r0, r1, ... (each link is an item of its own)."
    src = sorted(images.glob('*.jpg'))
    out = []
    for k in range(-(-n // len(src))):
        d = tmp/f'r{k}'; d.mkdir(parents=True, exist_ok=True)
        for f in src:
            (d/f.name).symlink_to(f); out.append(d/f.name)
    return out[:n]


# ---------------------------------------------------------------------------------------------- models
def lesson1_model(arch: str, c: int = 37):
    "lesson1's network for `arch` (body + head, as `cnn_learner` builds it), random weights."
    from lesson1 import models as M
    return M._cnn_model('resnet34' if arch == 'resnet34' else 'efficientnet_lite0', c)[0]


def synthetic(arch: str, bs: int, size: int, steps: int, dev) -> float:
    "Training images/s of `arch` on random tensors: the compute bound, with lesson1's precision for `dev`."
    import torch.nn.functional as F
    from lesson1.learner import Precision
    prec = Precision(dev)
    model = lesson1_model(arch).to(dev).to(memory_format=torch.channels_last if prec.channels_last else torch.contiguous_format)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=dev.type == 'cuda')
    x, y = torch.randn(bs, 3, size, size, device=dev), torch.randint(0, 37, (bs,), device=dev)
    def step():
        with prec.autocast(): loss = F.cross_entropy(model(prec.prep(x)).float(), y)
        prec.backward(loss); prec.step(opt); opt.zero_grad(set_to_none=True)
    model.train()
    for _ in range(3): step()
    sync(dev); t = time.perf_counter()
    for _ in range(steps): step()
    sync(dev)
    return steps * bs / (time.perf_counter() - t)


# ---------------------------------------------------------------------------------------------- data
def lesson1_data(files, bs, size, workers, dev, stats=None):
    from lesson1.data import ImageDataBunch
    from lesson1.transforms import get_transforms, imagenet_stats
    with contextlib.redirect_stdout(io.StringIO()):
        data = ImageDataBunch.from_name_re(files[0].parent.parent, files, PAT, ds_tfms=get_transforms(), size=size, bs=bs,
                                           num_workers=workers, device=dev, seed=42)
    return data.normalize(stats or imagenet_stats)


def fastai_dls(files, bs, size, workers, dev, stats=None):
    from fastai.vision.all import ImageDataLoaders, Resize, aug_transforms, Normalize, imagenet_stats
    return ImageDataLoaders.from_path_re(files[0].parent.parent, files, PAT, valid_pct=0.2, seed=42, item_tfms=Resize(size),
                                         batch_tfms=[*aug_transforms(), Normalize.from_stats(*(stats or imagenet_stats))],
                                         bs=bs, num_workers=workers, device=dev)


def loader_rate(dl, dev) -> float:
    "Images/s of one epoch of `dl` (batches on `dev`)."
    n, t = 0, time.perf_counter()
    for xb, yb in dl: n += len(xb)
    sync(dev)
    return n / (time.perf_counter() - t)


# ---------------------------------------------------------------------------------------------- training
class PhaseTimer:
    "Wall time of the training phases of a fit (GPU synchronised at both ends), from either library's events."
    def __init__(self, dev): self.dev, self.times = dev, []
    def start(self): sync(self.dev); self.t = time.perf_counter()
    def stop(self): sync(self.dev); self.times.append(time.perf_counter() - self.t)


def lesson1_train(arch, files, bs, size, workers, dev, epochs) -> tuple:
    "lesson1, unfrozen, `epochs` epochs: images/s of each training phase, and the pipeline line."
    from lesson1.learner import Learner, Callback
    from lesson1.models import cnn_learner, models
    from _lite0 import STATS
    data = lesson1_data(files, bs, size, workers, dev, None if arch == 'resnet34' else STATS)
    learn = (cnn_learner(data, models.resnet34, pretrained=False) if arch == 'resnet34'
             else Learner(data, lesson1_model('lite0', data.c), layer_groups=None))
    pt = PhaseTimer(dev)
    class T(Callback):
        def begin_train(self): pt.start()
        def after_train(self): pt.stop()
    learn.add_cbs(T())
    learn.unfreeze()
    with contextlib.redirect_stdout(io.StringIO()): learn.fit_one_cycle(epochs, 1e-3)
    n = len(data.train_dl) * bs
    return [n / t for t in pt.times], data.pipeline


def fastai_train(arch, files, bs, size, workers, dev, epochs) -> list:
    "fastai 2.x, `to_fp16()`, unfrozen, `epochs` epochs: images/s of each training phase."
    from fastai.vision.all import vision_learner, resnet34, Callback
    from _lite0 import STATS
    dls = fastai_dls(files, bs, size, workers, dev, None if arch == 'resnet34' else STATS)
    learn = vision_learner(dls, resnet34 if arch == 'resnet34' else 'tf_efficientnet_lite0', pretrained=False)
    if dev.type == 'cuda': learn = learn.to_fp16()
    pt = PhaseTimer(dev)
    class T(Callback):
        order = -100
        def before_train(self): pt.start()
        def after_train(self): pt.stop()
    learn.add_cb(T())
    learn.unfreeze()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): learn.fit_one_cycle(epochs, 1e-3)
    n = len(dls.train) * bs
    return [n / t for t in pt.times]


def lesson_epochs(lib, files, bs, size, workers, dev, epochs) -> float:
    "Seconds for the lesson's `fit_one_cycle(epochs)` on resnet34 (frozen, random weights), data loading included."
    if lib == 'lesson1':
        from lesson1.models import cnn_learner, models
        from lesson1.learner import error_rate
        learn = cnn_learner(lesson1_data(files, bs, size, workers, dev), models.resnet34, metrics=error_rate, pretrained=False)
    else:
        from fastai.vision.all import vision_learner, resnet34, error_rate
        learn = vision_learner(fastai_dls(files, bs, size, workers, dev), resnet34, metrics=error_rate, pretrained=False)
        learn.freeze()   # as with pretrained weights (vision_learner freezes only then); lesson1's learner starts frozen
        if dev.type == 'cuda': learn = learn.to_fp16()
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): learn.fit_one_cycle(epochs)
    sync(dev)
    return time.perf_counter() - t


# ---------------------------------------------------------------------------------------------- main
def have(mod: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(mod) is not None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=str(Path(__file__).parent/'results_gpu.md'))
    p.add_argument('--budget', type=float, default=420, help='seconds for everything; later sections are skipped past it')
    p.add_argument('--images', type=Path, default=None, help='the pets photos (default: untar_data(URLs.PETS)/images)')
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    gpu = torch.cuda.is_available()
    dev = torch.device('cuda' if gpu else 'cpu')
    torch.backends.cudnn.benchmark = True   # fixed input sizes: let cuDNN pick its fastest kernels (both libraries alike)
    from lesson1.data import default_num_workers
    workers = default_num_workers()
    # sizes: the real thing on a GPU; toy sizes on a CPU, only to show the script works
    size, bss, steps, n_rep, epochs, n_lesson = (224, [64, 128, 256], 20, 3000, 2, 7400) if gpu else (32, [8], 1, 48, 1, 48)
    fastai = have('fastai')
    head = ['# GPU benchmarks: lesson1' + (' vs fastai 2.x' if fastai else ''), '']
    if gpu:
        pr = torch.cuda.get_device_properties(0)
        head += [f'- GPU: {pr.name}, {pr.total_memory / 2**30:.0f} GiB, {pr.multi_processor_count} SMs; CUDA {torch.version.cuda}']
    else:
        head += ['**No GPU in this run: every GPU part was skipped.** What follows ran on the CPU at toy sizes '
                 f'({size} px, bs {bss[0]}, {n_rep} images) only to show that the script works: these are not measurements.', '']
    head += [f'- CPU: {cpu_name()}, {os.cpu_count()} cores; data workers: {workers} (lesson1\'s default_num_workers(), both sides)',
             f'- python {platform.python_version()}, torch {torch.__version__}' + (f', fastai {__import__("fastai").__version__}' if fastai else
                                                                                   ', fastai not installed: its rows are skipped'),
             f'- `{uptime()}`', f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '']
    rep = Report(args.out, head)
    if args.images is None:
        from lesson1.external import untar_data, URLs
        args.images = untar_data(URLs.PETS)/'images'
    tmp = Path(tempfile.mkdtemp())
    files = repeated(args.images, n_rep, tmp/'pets')
    archs = ['resnet34'] + (['lite0'] if have('timm') else [])
    if 'lite0' not in archs: rep.add('timm is not installed: the EfficientNet-Lite0 rows are skipped.', '')

    # 1. compute bound
    bound = {}
    rep.add('## 1. Compute bound: training steps on random tensors', '',
            '| model | bs | images/s |', '|---|---:|---:|')
    for arch in archs:
        for bs in bss:
            if left(args) < 60: rep.add(f'| {arch} | {bs} | skipped: time budget |'); continue
            bound[arch, bs] = synthetic(arch, bs, size, steps, dev)
            rep.add(f'| {arch} | {bs} | {bound[arch, bs]:.0f} |')
    rep.add('')

    # 2. loader only
    rep.add(f'## 2. Loader only: training batches on {dev.type}, augmented, {len(files)} items (links to the 370-photo sample '
            f'in numbered folders), bs {bss[0]}', '', '| loader | epoch 1 images/s | epoch 2 images/s |', '|---|---:|---:|')
    if left(args) > 90:
        data = lesson1_data(files, bss[0], size, workers, dev)
        r = [loader_rate(data.train_dl, dev) for _ in range(2)]
        rep.add(f'| lesson1 ({data.pipeline}) | {r[0]:.0f} | {r[1]:.0f} |')
        if fastai and left(args) > 90:
            dls = fastai_dls(files, bss[0], size, workers, dev)
            r = [loader_rate(dls.train, dev) for _ in range(2)]
            rep.add(f'| fastai 2.x | {r[0]:.0f} | {r[1]:.0f} |')
    else: rep.add('| skipped: time budget | | |')
    rep.add('')

    # 3. real pipeline
    rep.add(f'## 3. Training through the real pipeline, unfrozen, {epochs} epochs; images/s of the training phase (last epoch), '
            'and its fraction of the compute bound', '',
            '| model | bs | lesson1 images/s | of the bound | fastai images/s | of the bound | lesson1 / fastai |', '|---|---:|---:|---:|---:|---:|---:|')
    pipe = 'n/a'
    for arch in archs:
        for bs in bss:
            if left(args) < 120: rep.add(f'| {arch} | {bs} | skipped: time budget | | | | |'); continue
            rl, pipe = lesson1_train(arch, files, bs, size, workers, dev, epochs)
            rf = fastai_train(arch, files, bs, size, workers, dev, epochs) if fastai and left(args) > 60 else None
            b = bound.get((arch, bs))
            frac = lambda v: f'{v / b:.0%}' if b and v else ''
            rep.add(f'| {arch} | {bs} | {rl[-1]:.0f} | {frac(rl[-1])} | {f"{rf[-1]:.0f}" if rf else "n/a"} | {frac(rf[-1]) if rf else ""} | '
                    f'{f"{rl[-1] / rf[-1]:.2f}x" if rf else ""} |')
    rep.add('', f"lesson1's pipeline in these runs: {pipe}", '')

    # 4. the lesson's 4 epochs
    files_l = repeated(args.images, n_lesson, tmp/'lesson')
    reps = f'{len(files_l) / 370:.0f} links to each of the 370 photos' if len(files_l) >= 370 else f'{len(files_l)} of the 370 photos'
    rep.add(f"## 4. The lesson's 4 resnet34 epochs (fit_one_cycle(4), frozen, bs 64, random weights) on the pets SAMPLE REPEATED to "
            f"{len(files_l)} images ({reps}; not the full 7,390-photo set)", '',
            f'| library | seconds for {4 if gpu else 1} epochs |', '|---|---:|')
    for lib in ['lesson1'] + (['fastai'] if fastai else []):
        if left(args) < 100: rep.add(f'| {lib} | skipped: time budget |'); continue
        rep.add(f'| {lib} | {lesson_epochs(lib, files_l, 64 if gpu else 16, size, workers, dev, 4 if gpu else 1):.1f} |')
    rep.add('', f'Total time: {time.perf_counter() - T0:.0f} s.')


if __name__ == '__main__': main()
