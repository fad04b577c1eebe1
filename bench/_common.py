"""Helpers shared by the benchmark scripts: what machine they ran on, how busy it was, where results go, and where a
fit's time goes."""
import os, platform, re, subprocess, time
from pathlib import Path

_ISA_ENV = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'MKL_ENABLE_INSTRUCTIONS', 'LESSON1_PRECISION')


def cpu_name() -> str:
    "The CPU's model name (Linux), else what `platform` knows."
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    "The vector-instruction flags that matter for training speed (avx2, avx512f, avx512_bf16, amx_bf16), as the CPU reports them."
    try: flags = set(re.search(r'^flags\s*:(.*)$', Path('/proc/cpuinfo').read_text(), re.M).group(1).split())
    except (OSError, AttributeError): return 'unknown'
    return ' '.join(f for f in ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_tile') if f in flags) or 'none of avx2/avx512/amx'


def isa_env() -> dict:
    "The environment variables that cap the instruction set torch uses (set to emulate an older CPU)."
    return {k: os.environ[k] for k in _ISA_ENV if k in os.environ}


def cpu_kind() -> str:
    "A label for the kind of CPU this run measured: native, or capped to AVX2 by the environment (emulated)."
    import torch
    cap = torch.backends.cpu.get_cpu_capability()
    env = isa_env()
    if env.get('ATEN_CPU_CAPABILITY', '').lower() == 'avx2' or env.get('ONEDNN_MAX_CPU_ISA', '').upper() == 'AVX2':
        return f"{cpu_name()}, EMULATED AVX2-only CPU ({', '.join(f'{k}={v}' for k, v in env.items())}; torch capability {cap})"
    return f"{cpu_name()}, native ({cpu_flags()}; torch capability {cap})"


def load_avg() -> str:
    "The 1, 5 and 15 minute load averages, as text."
    try: return ' '.join(f'{x:.2f}' for x in os.getloadavg())
    except OSError: return 'n/a'


def uptime() -> str:
    "What `uptime` prints (it says how busy the machine was)."
    try: return subprocess.run(['uptime'], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError): return f'load average: {load_avg()}'


def write_section(path, kind: str, text: str, title: str):
    "Put `text` in the results file `path` under the heading `## kind`, replacing an older section of that kind only."
    path = Path(path)
    old = path.read_text() if path.exists() else f'# {title}\n'
    head, *parts = re.split(r'^(?=## )', old, flags=re.M)
    parts = [p for p in parts if p.splitlines()[0] != f'## {kind}']
    new = head.rstrip() + '\n\n' + ''.join(p.rstrip() + '\n\n' for p in parts) + f'## {kind}\n\n{text.strip()}\n'
    tmp = path.with_suffix('.tmp')
    tmp.write_text(new)
    os.replace(tmp, path)


PHASES = ['data', 'forward + loss', 'backward', 'optimizer step', 'rest of the batch', 'data (validation)',
          'forward (validation)', 'outside batches']


class Phases:
    "Seconds per phase of one fit, marked by a learner's batch events (`phase_cb`); together they add up to the fit."
    def __init__(self): self.t, self.s = None, dict.fromkeys(PHASES, 0.)
    def start(self): self.t = time.perf_counter()
    def mark(self, phase: str):
        t = time.perf_counter(); self.s[phase] += t - self.t; self.t = t
    def waiting(self) -> float:
        "The share of the fit spent waiting for batches (decoding, cropping, batch augmentation), training and validation."
        total = sum(self.s.values())
        return (self.s['data'] + self.s['data (validation)']) / total if total else float('nan')


def phase_cb(p: Phases, lib: str):
    """A callback for a `lib` ('lesson1' or 'fastai') learner, first at every event, that adds the time since the previous
    event to a phase of `p`. The two libraries name the opening events `begin_*` and `before_*`; the rest alike."""
    if lib == 'lesson1': from lesson1.learner import Callback; pre = 'begin'
    else: from fastai.callback.core import Callback; pre = 'before'
    mark = lambda train, valid: lambda cb: p.mark(train if cb.learn.training else valid)
    events = {f'{pre}_fit': lambda cb: (p.__init__(), p.start()),
              f'{pre}_train': mark('outside batches', 'outside batches'), f'{pre}_validate': mark('outside batches', 'outside batches'),
              f'{pre}_batch': mark('data', 'data (validation)'), 'after_loss': mark('forward + loss', 'forward (validation)'),
              'after_backward': mark('backward', 'backward'), 'after_step': mark('optimizer step', 'optimizer step'),
              'after_batch': mark('rest of the batch', 'forward (validation)'), 'after_fit': mark('outside batches', 'outside batches')}
    return type('PhaseCB', (Callback,), {'order': -100, **events})()
