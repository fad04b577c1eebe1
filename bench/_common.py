"""Helpers shared by the benchmark scripts: what machine they ran on and how busy it was."""
import os, platform
from pathlib import Path

def cpu_name() -> str:
    "The CPU's model name (Linux), else what `platform` knows."
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def load_avg() -> str:
    "The 1, 5 and 15 minute load averages, as text."
    try: return ' '.join(f'{x:.2f}' for x in os.getloadavg())
    except OSError: return 'n/a'
