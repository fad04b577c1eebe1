"""Does a change to lesson1's input pipeline keep its accuracy? Validation error of EfficientNet-Lite0 (the shipped
ImageNet weights) on the pets sample, seed 42, for whichever lesson1 is on the path:

  precompute: the head trained 3 epochs on the body's activations (fit_one_cycle(3, 1e-2)): no augmentation, so
              two pipelines differ here only in how they decode and resize the images;
  frozen:     then 1 epoch with the body frozen and augmentation on (fit_one_cycle(1, 1e-3)).

Run it for two versions of lesson1 and compare (same seed: the errors should agree within about a point; the
validation set has 74 images, so one image is 1.4 points):
    PYTHONPATH=/path/to/old/lesson1 bench/.env-fastai/bin/python bench/check_accuracy.py
    bench/.env-fastai/bin/python bench/check_accuracy.py --runs 2       # the same seed twice: the same errors?
    bench/.env-fastai/bin/python bench/check_accuracy.py --seeds 1 2 3  # how much the error moves with the seed
"""
from __future__ import annotations
import argparse, contextlib, io, json, os, time
from pathlib import Path


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


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--runs', type=int, default=1, help='runs per seed')
    p.add_argument('--seeds', type=int, nargs='+', default=[42], help='the seeds (torch, numpy, python; the split stays seed 42)')
    args = p.parse_args()
    os.environ.setdefault('LESSON1_PROGRESS', '0'); os.environ.setdefault('LESSON1_OFFLINE', '1')
    for seed in args.seeds:
        for _ in range(args.runs): print(json.dumps(one_run(seed)), flush=True)


if __name__ == '__main__': main()
