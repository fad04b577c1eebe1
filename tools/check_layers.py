#!/usr/bin/env python3
"""Fail if a lesson1 module imports from a module above it (or beside it) in the layering.

    python tools/check_layers.py

The modules are layered top to bottom; each may import only from the layers above its own:

    core -> external, transforms -> image -> data -> learner -> callbacks, schedule, distributed
         -> models -> interpret, widgets -> vision -> classic -> cli

A module that is not in LAYERS is an error too, so a new module has to be given its place here.
Imports are read with `ast` from lesson1/*.py, wherever they are in the file (inside functions too).
"""
import ast, sys
from pathlib import Path

LAYERS = [['core'], ['external', 'transforms'], ['image'], ['data'], ['learner'],
          ['callbacks', 'schedule', 'distributed'], ['models'], ['interpret', 'widgets'], ['vision'], ['classic'], ['cli']]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}
PKG = 'lesson1'

def imported(tree: ast.AST) -> set:
    "The lesson1 modules that a module's syntax tree imports, relatively or absolutely."
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):   # import lesson1.data
            mods |= {a.name.split('.')[1] for a in node.names if a.name.startswith(PKG + '.')}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 0 and mod == PKG: mods |= {a.name for a in node.names}     # from lesson1 import data
            elif node.level == 0 and mod.startswith(PKG + '.'): mods.add(mod.split('.')[1])  # from lesson1.data import x
            elif node.level and mod: mods.add(mod.split('.')[0])                           # from .data import x
            elif node.level: mods |= {a.name for a in node.names}                           # from . import data
    return mods - {'__version__', '_modidx'}

def problems(lib: Path) -> list:
    "One line for every upward or sideways import, and for every module missing from LAYERS."
    out = []
    for f in sorted(lib.glob('*.py')):
        mod = f.stem
        if mod in ('__init__', '_modidx'): continue
        if mod not in RANK: out.append(f'{f}: module {mod!r} has no place in LAYERS in {__file__}'); continue
        for dep in sorted(imported(ast.parse(f.read_text(), str(f)))):
            if dep not in RANK: out.append(f'{f}: imports {dep!r}, which has no place in LAYERS')
            elif RANK[dep] >= RANK[mod]: out.append(f'{f}: {mod} (layer {RANK[mod]}) imports {dep} (layer {RANK[dep]}): '
                                                    'a module may import only from the layers above its own')
    return out

if __name__ == '__main__':
    lib = Path(__file__).resolve().parent.parent/PKG
    bad = problems(lib)
    print('\n'.join(bad) if bad else f'layers ok: {len(list(lib.glob("*.py"))) - 2} modules, no import points up')
    sys.exit(1 if bad else 0)
