"""Time per epoch with 1 and with 2 training processes (torchrun, gloo on the CPU), and the gloo all-reduce cost per step.

Each run trains resnet34 (random init: no downloads) at 224 px on the 370 pet photos (labels by the lesson
regex, 80/20 split), frozen as `cnn_learner` makes it, with `fit_one_cycle(1, 1e-3)`, bs 32 *per process*,
0 data workers, in lesson1's default precision:

    1 process, 1 torch thread     python bench/bench_distributed.py --worker ...
    1 process, 2 torch threads    the same (what a plain run uses on 2 cores)
    2 processes, 1 thread each    torchrun --standalone --nproc-per-node 2 bench/bench_distributed.py --worker ...

Each run warms up with one epoch (untimed, reported as "cold"), then times `--epochs` epochs (wall clock of
the whole `fit_one_cycle(1)` call on rank 0, validation included), and the CPU time those epochs used, summed
over the processes (less sensitive than the wall clock to other programs on the machine). The 2-process run then times the gloo
all-reduce of one float32 tensor the size of the gradients DDP sends each step: the trainable parameters of
the frozen model (head + batchnorm) and of the unfrozen one (every parameter), median of 20 after 3 warm-ups.

Two processes on a 2-core machine share the same two cores that one process used, so expect no speed-up
here: the benchmark measures what distribution costs, not what it gains (that needs a core or GPU per process).

    python bench/bench_distributed.py            # writes bench/results_distributed.md
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

from _common import cpu_name, load_avg   # bench/ is on sys.path when run as a script


def _cpu_flags() -> str:
    "The CPU flags that matter for training speed here (bf16/AMX/AVX-512)."
    try: flags = next(l for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('flags')).split()
    except (OSError, StopIteration): return 'n/a'
    return ' '.join(f for f in flags if f.startswith(('avx512_bf16', 'amx', 'avx512f', 'avx2'))) or 'none of avx2/avx512/amx'


def _learner(bs: int):
    from lesson1.vision import ImageDataBunch, untar_data, URLs, get_transforms, imagenet_stats, cnn_learner, models, accuracy
    path = untar_data(URLs.PETS)/'images'
    data = ImageDataBunch.from_name_re(path, sorted(path.glob('*.jpg')), r'/([^/]+)_\d+.jpg$', ds_tfms=get_transforms(),
                                       size=224, bs=bs, num_workers=0, seed=42).normalize(imagenet_stats)
    return cnn_learner(data, models.resnet34, metrics=accuracy, pretrained=False)


def _allreduce_ms(numel: int, reps: int = 20) -> float:
    "Median milliseconds of a gloo all-reduce of `numel` float32 values."
    import torch, torch.distributed as dist
    t = torch.zeros(numel)
    for _ in range(3): dist.all_reduce(t)
    times = []
    for _ in range(reps):
        dist.barrier(); t0 = time.perf_counter(); dist.all_reduce(t); times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _cpu_all(secs: float) -> float:
    "`secs` summed over the processes of the run."
    import torch, torch.distributed as dist
    if not dist.is_initialized(): return secs
    t = torch.tensor([secs], dtype=torch.float64); dist.all_reduce(t); return float(t)


def worker(args):
    "One training process: warm up, time the epochs, (2 processes) time the all-reduce; rank 0 writes JSON."
    import contextlib, io, torch
    from lesson1.distributed import rank_distrib, num_distrib
    torch.set_num_threads(args.threads)
    learn = _learner(args.bs)
    res = {'processes': num_distrib(), 'threads': torch.get_num_threads(), 'precision': repr(learn.precision)}
    with learn.distrib_ctx(timeout=600), contextlib.redirect_stdout(io.StringIO()):
        res['steps'] = len(learn.data.train_dl)
        t0 = time.perf_counter(); learn.fit_one_cycle(1, 1e-3); res['cold'] = time.perf_counter() - t0
        res['epochs'], c0 = [], time.process_time()
        for _ in range(args.epochs):
            t0 = time.perf_counter(); learn.fit_one_cycle(1, 1e-3); res['epochs'].append(time.perf_counter() - t0)
        res['cpu'] = _cpu_all(time.process_time() - c0) / args.epochs
        res['accuracy'] = learn.recorder.metrics[-1][0]
        if num_distrib() > 1:
            frozen = sum(p.numel() for p in learn.model.parameters() if p.requires_grad)
            total = sum(p.numel() for p in learn.model.parameters())
            res['allreduce'] = {'frozen': (frozen, _allreduce_ms(frozen)), 'unfrozen': (total, _allreduce_ms(total))}
    if rank_distrib() == 0: Path(args.worker).write_text(json.dumps(res))


def _run(nproc: int, threads: int, args) -> dict:
    "Run the workers with `nproc` processes of `threads` torch threads each; their rank 0's results."
    out = Path(tempfile.mkdtemp())/'res.json'
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'LESSON1_PROGRESS': '0'}
    w = [__file__, '--worker', str(out), '--threads', str(threads), '--epochs', str(args.epochs), '--bs', str(args.bs)]
    launch = [sys.executable] if nproc == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', str(nproc)]
    subprocess.run(launch + w, check=True, env=env)
    return json.loads(out.read_text())


def _n(k: int, word: str) -> str:
    "`k word`, plural when needed."
    return f'{k} {word}' + ('' if k == 1 else 'es' if word.endswith('s') else 's')


def _report(runs: list, args, cores: int, load0: str, load1: str) -> str:
    import torch, torchvision, lesson1
    one, two = runs[0], runs[-1]
    med = lambda r: statistics.median(r['epochs'])
    lines = ['# Distributed training benchmark: 1 vs 2 processes on the CPU (torchrun, gloo)', '',
             f'- machine: {cpu_name()}, {cores} CPU cores, flags: {_cpu_flags()}; no GPU used',
             f'- versions: python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, lesson1 {lesson1.__version__}',
             f'- model: resnet34 (random init), frozen (head + batchnorm train), {one["precision"]}; data: 370 pet photos, 296 training / 74 validation, 224 px, bs {args.bs} per process, 0 data workers',
             f'- epochs: 1 untimed warm-up ("cold") + {args.epochs} timed, `fit_one_cycle(1, 1e-3)` each, wall clock on rank 0, validation '
             'included; CPU s: the CPU time of a timed epoch, all processes and threads together',
             f'- load average before / after (1, 5, 15 min): {load0} / {load1}',
             f'- command: `python bench/bench_distributed.py --epochs {args.epochs} --bs {args.bs}`', '',
             '| processes | torch threads each | steps per epoch (each process) | images trained per epoch | cold epoch s | epoch s (median) | epoch s (all) | wall vs first row | CPU s per epoch | CPU vs first row |',
             '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in runs:
        lines.append(f'| {r["processes"]} | {r["threads"]} | {r["steps"]} | {r["steps"] * args.bs * r["processes"]} | {r["cold"]:.1f} | {med(r):.1f} | '
                     f'{", ".join(f"{t:.1f}" for t in r["epochs"])} | {med(r) / med(one):.2f}x | {r["cpu"]:.1f} | {r["cpu"] / one["cpu"]:.2f}x |')
    lines += ['', 'gloo all-reduce of one float32 tensor the size of the gradients DDP sends each training step (2 processes, median of 20):', '',
              '| model | trainable parameters | MB per step | all-reduce ms per step | per epoch (x steps) ms |', '|---|---:|---:|---:|---:|']
    for k, (n, ms) in two['allreduce'].items():
        lines.append(f'| {k} | {n:,} | {4 * n / 2**20:.1f} | {ms:.1f} | {ms * two["steps"]:.0f} |')
    per_img = lambda r: 1000 * r['cpu'] / (r['steps'] * args.bs * r['processes'])
    best = min(runs[:-1], key=per_img)
    lines += ['', 'CPU time per trained image: ' + ', '.join(f'{_n(r["processes"], "process")} x {_n(r["threads"], "thread")}: {per_img(r):.0f} ms' for r in runs) +
              f'. Two processes spend {per_img(two) / per_img(best):.2f}x the CPU time per image of the best single-process run: '
              'that is the cost of distribution here. Expect no speed-up from it on this machine: its '
              f'{cores} cores are shared by the two processes, which can at best split the work one process did with all the cores, '
              'and each step adds the exchange above. Distribution pays off with a GPU (or a whole machine) per process.']
    if max(float(load0.split()[0]), float(load1.split()[0])) > cores:
        lines += ['', f'The machine was busy during this run (load average above {cores}, its number of cores): the wall-clock times '
                  'measure the share of the cores each run got from the scheduler (two processes get two shares against the '
                  'other programs, and two threads of one process wait for each other), more than the speed of the code. '
                  'Compare the CPU times, or run it again on an idle machine.']
    lines.append('')
    return '\n'.join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=3, help='timed epochs per run (default: %(default)s)')
    p.add_argument('--bs', type=int, default=32, help='batch size per process (default: %(default)s)')
    p.add_argument('--threads', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    p.add_argument('--out', default=str(Path(__file__).parent/'results_distributed.md'))
    args = p.parse_args()
    if args.worker: return worker(args)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    load0 = load_avg()
    runs = [_run(n, t, args) for n, t in ((1, 1), (1, cores), (2, max(1, cores // 2)))]
    text = _report(runs, args, cores, load0, load_avg())
    Path(args.out).write_text(text); print(text)


if __name__ == '__main__': main()
