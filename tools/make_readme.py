#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without Quarto, which can't be installed here).

Markdown cells are copied, code cells become ```python blocks followed by their text outputs; cells
marked `#| hide` are left out and `#|` directive lines are dropped. Run from anywhere:
    python tools/make_readme.py           # rewrite README.md
    python tools/make_readme.py --check   # exit 1 if README.md is out of date
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = '<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n'

def _directives(src):
    "The `#|` directive lines at the top of a cell, and the remaining lines."
    lines = src.splitlines()
    n = next((i for i, l in enumerate(lines) if not l.strip().startswith('#|')), len(lines))
    return [l.strip()[2:].strip() for l in lines[:n]], '\n'.join(lines[n:]).strip('\n')

def _outputs(cell):
    "Text of a code cell's outputs (streams, plain-text and markdown results)."
    out = []
    for o in cell.get('outputs', []):
        if o['output_type'] == 'stream': out.append(('text', ''.join(o['text'])))
        elif 'data' in o:
            d = o['data']
            if 'text/markdown' in d: out.append(('md', ''.join(d['text/markdown'])))
            elif 'text/plain' in d: out.append(('text', ''.join(d['text/plain'])))
    return out

def render(nb_path):
    "README text for the notebook at `nb_path`."
    parts = []
    for cell in json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']:
        dirs, src = _directives(''.join(cell['source']))
        if 'hide' in dirs or not src.strip(): continue
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        if cell['cell_type'] != 'code': continue
        if not any(d.startswith('hide_input') for d in dirs): parts.append(f'```python\n{src}\n```')
        for kind, text in _outputs(cell):
            parts.append(text.strip() if kind == 'md' else f'```\n{text.rstrip()}\n```')
    return HEADER + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(ROOT/'nbs'/'index.ipynb'), ROOT/'README.md'
    if '--check' in sys.argv:
        if readme.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py` and commit it.')
    else:
        tmp = readme.with_suffix('.md.tmp'); tmp.write_text(text, encoding='utf-8'); tmp.replace(readme)
