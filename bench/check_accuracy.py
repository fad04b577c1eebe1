"""Does a change to lesson1's input pipeline keep its accuracy? Validation error of EfficientNet-Lite0 (the shipped
ImageNet weights) on the pets sample, seed 42, for whichever lesson1 is on the path:

  precompute: the head trained 3 epochs on the body's activations (fit_one_cycle(3, 1e-2)): no augmentation, so
              two pipelines differ here only in how they decode and resize the images;
  frozen:     then 1 epoch with the body frozen and augmentation on (fit_one_cycle(1, 1e-3)).

Run it for two versions of lesson1 and compare (the validation set has 74 images, so one image is 1.4 points):
    PYTHONPATH=/path/to/old/lesson1 bench/.env-fastai/bin/python bench/check_accuracy.py
    bench/.env-fastai/bin/python bench/check_accuracy.py --runs 2       # the same seed twice: the same errors?
    bench/.env-fastai/bin/python bench/check_accuracy.py --seeds 1 2 3  # how much the error moves with the seed

A pipeline change that draws its random numbers differently (another crop or augmentation for the same seed) moves
a single seed's error by several points either way, so one seed cannot show that accuracy is kept. `--against`
runs the previous checkout and this one on the same seeds, each run in its own process, and writes the paired
comparison (mean error of each, and the mean seed-by-seed difference with its standard error) to
results_accuracy.md:
    bench/.env-fastai/bin/python bench/check_accuracy.py --against /path/to/previous/checkout --seeds $(seq 1 20)
"""
from __future__ import annotations
import argparse, contextlib, io, json, os, statistics, subprocess, sys, time
from pathlib import Path

from _common import cpu_kind, uptime, write_section   # bench/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
METRICS = {'precompute_error': 'after 3 precompute head epochs', 'frozen_error': 'then 1 frozen epoch with augmentation'}


def one_run(seed: int = 42) -> dict:
    from lesson1.core import set_seed
    from lesson1.external import untar_data, URLs
    from lesson1.image import get_image_files
    from bench_train import lesson1_learner
    import lesson1
    set_seed(seed)
    path = untar_data(URLs.PETS)/'images'
    learn, how = lesson1_learner('lite0', path, get_image_files(path), r'/([^/]+)_\d+.jpg$', 32, 0)
    err = lambda: 1 - float(learn.recorder.metrics[-1][0])
    out = {'lesson1': str(Path(lesson1.__file__).parent), 'seed': seed, 'pipeline': getattr(learn.data, 'pipeline', 'n/a')}
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        learn.precompute = True; learn.fit_one_cycle(3, 1e-2); out['precompute_error'] = err()
        learn.precompute = False; learn.fit_one_cycle(1, 1e-3); out['frozen_error'] = err()
    out['seconds'] = round(time.perf_counter() - t, 1)
    return out


def run_in(root: Path, seed: int) -> dict:
    "`one_run(seed)` for the lesson1 in the checkout `root`, in a fresh process."
    env = {**os.environ, 'PYTHONPATH': f'{root}{os.pathsep}{HERE}'}
    out = subprocess.run([sys.executable, str(HERE/'check_accuracy.py'), '--seeds', str(seed)], env=env, cwd=HERE,
                         capture_output=True, text=True)
    if out.returncode: raise RuntimeError(f"check_accuracy.py failed for {root} (seed {seed}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def commit(root: Path) -> str:
    "The short commit of the checkout `root` (and '+changes' when its lesson1/ has uncommitted ones)."
    git = lambda *a: subprocess.run(['git', '-C', str(root), *a], capture_output=True, text=True).stdout.strip()
    return (git('rev-parse', '--short', 'HEAD') or 'unknown') + ('+changes' if git('status', '--porcelain', '--', 'lesson1') else '')


def compare(previous: Path, seeds: list) -> str:
    "Both checkouts on every seed, alternating; the paired summary as markdown."
    current, before, runs = HERE.parent, uptime(), []
    commits = {root: commit(root) for root in (previous, current)}   # at the start: the code that runs
    for seed in seeds:
        pair = {name: run_in(root, seed) for name, root in (('previous', previous), ('current', current))}
        runs.append(pair)
        print(f"seed {seed}: " + ', '.join(f"{n} {d['precompute_error']:.1%} / {d['frozen_error']:.1%}" for n, d in pair.items()), flush=True)
    lines = [f'- previous: `{previous.name}` at {commits[previous]}; current: `{current.name}` at {commits[current]}',
             f"- EfficientNet-Lite0 (shipped ImageNet weights), pets sample, 296 train / 74 valid (split seed 42), bs 32, 224 px; "
             f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), each run in its own process",
             f"- current pipeline: {runs[-1]['current']['pipeline']}",
             f'- uptime before: `{before}`', f'- uptime after: `{uptime()}`',
             f'- command: `{" ".join([Path(sys.executable).as_posix()] + sys.argv)}`', '',
             '| validation error | previous, mean (sd) | current, mean (sd) | current - previous, mean ± standard error | seeds with the same error | within one image (1.4 points) |',
             '|---|---:|---:|---:|---:|---:|']
    for k, name in METRICS.items():
        a, b = ([100 * r[side][k] for r in runs] for side in ('previous', 'current'))
        d = [y - x for x, y in zip(a, b)]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else float('nan')
        lines.append(f'| {name} | {statistics.mean(a):.1f}% ({sd(a):.1f}) | {statistics.mean(b):.1f}% ({sd(b):.1f}) | '
                     f'{statistics.mean(d):+.1f} ± {sd(d) / len(d) ** .5:.1f} points | {sum(abs(x) < 1e-6 for x in d)} of {len(d)} | '
                     f'{sum(abs(x) < 1.5 for x in d)} of {len(d)} |')
    lines += ['', 'Seed by seed (error %, previous / current):', '', '| seed | ' + ' | '.join(METRICS) + ' |', '|---:|' + '---:|' * len(METRICS)]
    lines += [f"| {s} | " + ' | '.join(f"{100 * r['previous'][k]:.1f} / {100 * r['current'][k]:.1f}" for k in METRICS) + ' |'
              for s, r in zip(seeds, runs)]
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--runs', type=int, default=1, help='runs per seed')
    p.add_argument('--seeds', type=int, nargs='+', default=[42], help='the seeds (torch, numpy, python; the split stays seed 42)')
    p.add_argument('--against', type=Path, default=None, help='a checkout of the previous lesson1: compare it with this one, seed by seed')
    p.add_argument('--out', default=str(HERE/'results_accuracy.md'))
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    if args.against:
        text = compare(args.against.resolve(), args.seeds)
        print(text)
        return write_section(args.out, cpu_kind(), text, 'Accuracy kept: the previous and the current lesson1 on the same seeds')
    for seed in args.seeds:
        for _ in range(args.runs): print(json.dumps(one_run(seed)), flush=True)


if __name__ == '__main__': main()
