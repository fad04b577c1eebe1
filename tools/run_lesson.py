#!/usr/bin/env python3
"""Run a lesson notebook top to bottom without Jupyter's interface and print what it shows.

    python tools/run_lesson.py nbs/01_pets.ipynb          # run it, print each cell's text output
    python tools/run_lesson.py nbs/*.ipynb --save         # also save the outputs into the notebooks

Text outputs (printed lines, tables, values) are printed as the cells finish; a figure is shown as
"[figure]"; a cell that took 10 seconds or more is followed by "[cell N: S s]", so slow steps show.
With --save the executed notebook replaces the original (written to a temporary file first, then
renamed), and is cleaned with nbdev_clean, so saved outputs always come from a run of the current code.
"""
import argparse, html, os, re, subprocess, sys, time
from pathlib import Path

def _html_table(h: str) -> str:
    "An HTML table (like the training results) as aligned plain text."
    rows = [[html.unescape(re.sub(r'<[^>]+>', '', c)).strip() for c in re.findall(r'<t[dh][^>]*>(.*?)</t[dh]>', r, re.S)]
            for r in re.findall(r'<tr[^>]*>(.*?)</tr>', h, re.S)]
    rows = [r for r in rows if r]
    if not rows: return ''
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return ''.join('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + '\n' for r in rows)

def _text(out) -> str:
    "What a person would read of one cell output, as plain text."
    kind = out.get('output_type')
    if kind == 'stream': return ''.join(out['text'])
    if kind == 'error': return f"{out['ename']}: {out['evalue']}\n"
    data = out.get('data', {})
    if 'image/png' in data: return '[figure]\n'
    if 'text/html' in data and '<table' in ''.join(data['text/html']): return _html_table(''.join(data['text/html']))
    if 'text/plain' in data: return ''.join(data['text/plain']) + '\n'
    return ''

def run(nb_path: Path, save: bool, timeout: int) -> float:
    "Execute `nb_path` in its own folder, print its text outputs; return the seconds it took."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(nb_path.parent)}},
                            # the kernel process's own log (e.g. "Kernel is running over TCP without encryption", which is about
                            # local sockets only) is not part of the lesson; the cells' output and warnings still come through
                            extra_arguments=['--IPKernelApp.log_level=ERROR'])
    print(f'=== {nb_path} ===', flush=True)
    t0 = time.perf_counter()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != 'code': continue
            t_cell = time.perf_counter()
            client.execute_cell(cell, i)
            for out in cell.get('outputs', []): sys.stdout.write(_text(out))
            if (secs := time.perf_counter() - t_cell) >= 10: sys.stdout.write(f'[cell {i}: {secs:.0f} s]\n')
            sys.stdout.flush()
    secs = time.perf_counter() - t0
    print(f'=== {nb_path.name}: ran in {secs:.0f} s ===', flush=True)
    if save:
        tmp = nb_path.with_name(f'.{nb_path.name}.tmp')
        nbformat.write(nb, tmp); tmp.replace(nb_path)
        subprocess.run(['nbdev_clean', '--fname', str(nb_path)], check=True)
    return secs

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--save', action='store_true', help='save the outputs into the notebooks')
    p.add_argument('--timeout', type=int, default=1200, help='seconds one cell may take')
    a = p.parse_args()
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    os.environ.setdefault('LESSON1_PROGRESS', '0')   # headless: the results table, not half-drawn progress bars
    for nb in a.notebooks: run(nb.resolve(), a.save, a.timeout)
