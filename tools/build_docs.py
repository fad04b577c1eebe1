#!/usr/bin/env python3
"""Build the documentation site (lessons + API reference) from the notebooks in nbs/, offline.

    python tools/build_docs.py            # writes the site to _docs/ (settings.ini `doc_path`); open _docs/index.html
    python tools/build_docs.py --serve    # ... then serve it on http://127.0.0.1:8000

Quarto, nbdev's usual site builder, downloads a binary when it is installed, which cannot work offline, so:
1. nbdev's own processors (`nbdev.processors.FilterDefaults`, what `nbdev_docs` runs before Quarto) process
   every notebook: `#| hide`/`#| export` cells go, `show_doc` cells (written or added after exported
   cells) are executed and give each exported name its signature, docstring and parameter table;
2. each processed notebook is turned into one that myst-nb understands (Quarto `#| echo/output/include`
   options become cell tags, `show_doc` results become headings with the anchors `doc(obj)` links to,
   links to the published site or to other notebooks become relative links) under _proc/docs_src/;
3. Sphinx with myst-nb and sphinx-book-theme renders them with their saved outputs (images, tables,
   plots: nothing is executed again) and builds the offline full-text search index.
Page addresses follow nbdev's: nbs/01_pets.ipynb -> pets.html, nbs/api/00_core.ipynb -> api/core.html, and
anchors are those in lesson1/_modidx.py (`api/core.html#ls`). Check the result with tools/check_docs.py.
"""
import argparse, ast, configparser, importlib, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PROC = ROOT/'_proc'                   # nbdev's folder for processed notebooks (git-ignored)
SRC = PROC/'docs_src'                 # what Sphinx reads
DOCTREES = PROC/'sphinx'/'doctrees'  # Sphinx's cache, so rebuilds only re-read changed pages
HTML = PROC/'sphinx'/'html'           # where Sphinx writes, before the site moves to _docs/
ASSET_EXTS = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}
CALLOUTS = {'note': 'note', 'tip': 'tip', 'warning': 'warning', 'important': 'important', 'caution': 'caution'}

def settings():
    "The [DEFAULT] section of settings.ini, as a dict."
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ROOT/'settings.ini', encoding='utf-8')
    return dict(cp['DEFAULT'])

def site_dir(cfg=None):
    "Folder the site is built into: settings.ini `doc_path` (nbdev's `_docs`)."
    return ROOT/(cfg or settings()).get('doc_path', '_docs')

# ---- which notebooks, which pages ---------------------------------------------------------------
def _skipped(rel):
    "nbdev's rule: files and folders starting with `_` or `.` are not part of the docs."
    return any(p.startswith(('_', '.')) for p in rel.parts)

def page_of(rel):
    "Site page of the notebook at `rel` (relative to nbs/), the way nbdev's _modidx names it: 'api/core.html'."
    rel = PurePosixPath(rel)
    return str(rel.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html'))

def discover(nbs=None):
    "Every notebook of the site: dicts with `path`, `rel`, `page`, `kind` ('home', 'lesson' or 'api'), in nav order."
    nbs = Path(nbs or ROOT/settings().get('nbs_path', 'nbs')).resolve()
    out = []
    for p in sorted(nbs.rglob('*.ipynb')):
        rel = p.relative_to(nbs)
        if _skipped(rel): continue
        page = page_of(rel.as_posix())
        kind = 'home' if page == 'index.html' else 'api' if page.startswith('api/') else 'lesson'
        out.append(dict(path=str(p), rel=rel.as_posix(), page=page, kind=kind))
    pages = [o['page'] for o in out]
    dups = {p for p in pages if pages.count(p) > 1}
    if dups: raise SystemExit(f"Two notebooks would become the same page {sorted(dups)}: rename one of them.")
    return out

def modidx():
    "nbdev's symbol index (lesson1/_modidx.py) as a dict, read from the file (no import of the library)."
    cfg = settings()
    ns = {}
    exec((ROOT/cfg.get('lib_path', cfg['lib_name'])/'_modidx.py').read_text(encoding='utf-8'), ns)
    return ns['d']

# ---- step 1: nbdev's processors (in worker processes) --------------------------------------------
def _show_doc_calls(src):
    "(first-argument source, `name=` value or None) of each `show_doc(...)` call in the cell source `src`."
    try: tree = ast.parse(src)
    except SyntaxError: return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'show_doc' and node.args:
            name = next((k.value.value for k in node.keywords if k.arg == 'name' and isinstance(k.value, ast.Constant)), None)
            out.append((ast.get_source_segment(src, node.args[0]), name))
    return out

def _needed(cell):
    """Whether a cell must run for the show_doc results: exported cells, cells of imports only, show_doc cells.
    (nbdev also runs cells that mix imports with other code, e.g. tests that need earlier cells: not here.)"""
    if cell.cell_type != 'code' or not cell.source or 'nbdev_export()' in cell.source: return False
    if cell.directives_.get('eval:', [''])[0].lower() == 'false': return False
    if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: return True
    if _show_doc_calls(cell.source): return True
    try: body = ast.parse(cell.source).body
    except SyntaxError: return False
    return bool(body) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in body)

def _process(nb_path):
    "Run nbdev's doc processors on one notebook; show_doc cells get metadata naming the object they document."
    os.chdir(Path(nb_path).parent)  # like nbdev_test: relative paths in cells start at the notebook's folder
    os.environ.update(IN_TEST='1', MPLBACKEND='Agg')
    from execnb.nbio import read_nb, nb2dict
    from nbdev.processors import FilterDefaults, exec_show_docs

    class record_show_docs(exec_show_docs):
        "nbdev's `exec_show_docs`, running fewer cells and noting `module.qualname` of what each show_doc documents."
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, 'k') or not _needed(cell): return
            self.k.cell(cell)
            calls = _show_doc_calls(cell.source)
            if self.k.exc and calls:
                raise RuntimeError(f"show_doc failed in {nb_path}, cell {cell.idx_}:\n{cell.source}") from self.k.exc
            if self.k.exc: print(f"warning: {Path(nb_path).name}, cell {cell.idx_} failed while building docs: {self.k.exc!r}")
            self.k.exc = None
            docs = []
            for expr, name in calls:
                try: obj = eval(expr, self.k.user_ns)
                except Exception: obj = None
                obj = getattr(obj, '__func__', obj)
                docs.append(dict(expr=expr, name=name, module=getattr(obj, '__module__', None),
                                 qualname=getattr(obj, '__qualname__', None)))
            if docs: cell.metadata['lesson1_docs'] = docs

    class Procs(FilterDefaults):
        def base_procs(self): return [record_show_docs if p is exec_show_docs else p for p in super().base_procs()]

    nb = read_nb(nb_path)
    Procs()(nb)
    return json.loads(json.dumps(nb2dict(nb), default=str))

# ---- step 2: processed notebook -> myst-nb notebook -----------------------------------------------
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_link = re.compile(r'(\]\(\s*<?)([^)\s>]+)(>?(?:\s+"[^"]*")?\s*\))')
_re_href = re.compile(r'''((?:href|src)=["'])([^"']+)(["'])''')
_re_source = re.compile(r'\[source\]\(([^)\s]+)\)(\{[^}]*\})?')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$', re.MULTILINE)

def make_id(text):
    "The id docutils gives a section titled `text`."
    from docutils.nodes import make_id as mk
    return mk(text)

def _directives(src):
    "Quarto-style `#| key: value` options at the top of a cell, and the source without them."
    lines, dirs = src.splitlines(), {}
    while lines and (m := _re_dir.match(lines[0])):
        dirs[m[1].lower()] = m[2].strip('\'"').lower()
        lines.pop(0)
    return dirs, '\n'.join(lines).strip('\n')

class Linker:
    "Rewrites links to the published site, or to other notebooks, into links relative to the page being built."
    def __init__(self, cfg, page, nb_rel):
        host, base = cfg.get('doc_host', '').rstrip('/'), cfg.get('doc_baseurl', '').strip('/')
        self.site = '/'.join(p for p in (host, base) if p) + '/' if host else None
        self.page, self.nb_dir = PurePosixPath(page), PurePosixPath(nb_rel).parent

    def url(self, u):
        if self.site and u.startswith(self.site): target = u[len(self.site):]
        elif '://' in u or u.startswith(('#', 'mailto:', 'data:', '/')): return u
        else:
            path, _, frag = u.partition('#')
            if not path.endswith('.ipynb'): return u
            target = page_of(os.path.normpath(str(self.nb_dir/path))) + ('#' + frag if frag else '')
        path, _, frag = target.partition('#')
        rel = os.path.relpath(path or 'index.html', str(self.page.parent))
        return rel + ('#' + frag if frag else '')

    def __call__(self, md):
        md = _unnest(md)
        md = _re_link.sub(lambda m: m[1] + self.url(m[2]) + m[3], md)
        return _re_href.sub(lambda m: m[1] + self.url(m[2]) + m[3], md)

_re_nested = re.compile(r'\[([^\[\]]*)\[(`[^`]+`)\]\([^)\s]+\)([^\[\]]*)\]\(')

def _unnest(md):
    "nbdev links `name` even inside a link the author wrote, giving `[[`name`](a)](b)`: keep the author's link."
    while True:
        new = _re_nested.sub(lambda m: f'[{m[1]}{m[2]}{m[3]}](', md)
        if new == md: return md
        md = new

def _callouts(md):
    "Quarto callout blocks (`::: {.callout-note}`) become MyST admonitions; other Quarto divs are unwrapped."
    out, stack = [], []
    for line in md.split('\n'):
        m = re.match(r'^\s*(:{3,})\s*(\{[^}]*\})?\s*$', line)
        if m and m[2]:
            kind = re.search(r'\.callout-(\w+)', m[2])
            kind = CALLOUTS.get(kind[1]) if kind else None
            stack.append(kind)
            if kind: out.append(f':::{{{kind}}}')
            continue
        if m and stack:
            if stack.pop(): out.append(':::')
            continue
        out.append(line)
    return '\n'.join(out)

def _md_cell(src, **meta): return dict(cell_type='markdown', metadata=meta, source=src)

def _anchor(d, idx, page, mods):
    """Anchor of a show_doc entry `d` (from `record_show_docs`) on `page`: the one in _modidx for that object.
    Objects defined by exported cells run in nbdev's shell live in `__main__`, so look them up by qualified
    name among the symbols of this page first, then of any page; else the lower-cased name as written."""
    qual = d.get('qualname') or d['expr']
    mod = d.get('module') or ''
    if mod.startswith(('lesson1.',)) and f'{mod}.{qual}' in idx and idx[f'{mod}.{qual}'][0] == page:
        return idx[f'{mod}.{qual}'][1]
    for name in dict.fromkeys((qual, d['expr'])):
        hits = [v for k, v in idx.items() if k.endswith('.' + name) and k[:-len(name) - 1] in mods]
        hits = [v for v in hits if v[0] == page] or hits
        if hits: return hits[0][1]
    return (d.get('name') or d['expr']).lower()

class Entry:
    "One `show_doc` result on a page, as a markdown cell with anchor divs before its heading."
    def __init__(self, md, docs, linker, idx, page, mods):
        md = re.sub(r'^\s*---\s*\n', '', md.lstrip())  # Quarto's horizontal rule above each entry
        src = _re_source.search(md)
        md = _re_source.sub('', md).strip()
        h = _re_heading.search(md)
        self.heading = h[2].strip() if h else None
        if src and h:  # the [source] link goes under the heading, floated right by the theme's CSS
            link = f'<a class="nbdev-source reference external" href="{src[1]}">[source]</a>'
            md = md[:h.end()] + '\n\n' + link + '\n' + md[h.end():]
        self.body, self.anchors, self.aliases = linker(md), [], []
        for d in docs: self.anchors.append(_anchor(d, idx, page, mods))
        if self.heading: self.anchors.append(self.heading.strip('`').lower())  # Quarto's id for the heading

    def ids(self):
        "Ids this entry carries: the heading's own section id, plus the anchors in divs."
        return ({make_id(self.heading)} if self.heading else set()) | set(self.anchors) | set(self.aliases)

    def cell(self):
        sec = make_id(self.heading) if self.heading else None
        divs = [f'<div id="{a}" class="nbdev-anchor nbdev-entry"></div>' for a in dict.fromkeys(self.anchors) if a != sec]
        divs += [f'<div id="{a}" class="nbdev-anchor nbdev-alias"></div>' for a in dict.fromkeys(self.aliases) if a != sec]
        return _md_cell('\n'.join(divs) + ('\n\n' if divs else '') + self.body, lesson1_entry=self.anchors)

def _frontmatter(cells):
    "title, description, other cells: nbdev's FrontmatterProc puts them in a raw `---` cell first."
    import yaml
    fm = {}
    if cells and cells[0]['cell_type'] == 'raw' and ''.join(cells[0]['source']).lstrip().startswith('---'):
        fm = yaml.safe_load(''.join(cells[0]['source']).strip().strip('-')) or {}
        cells = cells[1:]
    return fm, cells

def convert(pnb, nb, cfg, idx, all_pages):
    "The myst-nb notebook for processed notebook `pnb` of `nb` (a `discover` dict); also returns page info."
    linker = Linker(cfg, nb['page'], nb['rel'])
    page_idx = {k: tuple(v[0].split('#', 1)) for m in idx['syms'].values() for k, v in m.items()}
    fm, cells = _frontmatter(pnb['cells'])
    title = str(fm.get('title') or Path(nb['rel']).stem)
    head = f'# {title}\n'
    if fm.get('description'): head += f"\n{{.nbdev-description}}\n{linker(str(fm['description']))}\n"
    out, entries, headings, seen = [_md_cell(head)], [], {make_id(title)}, set()
    for c in cells:
        src = ''.join(c.get('source', ''))
        if c['cell_type'] == 'markdown':
            if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            src = _callouts(linker(src))
            headings |= {make_id(h[2]) for h in _re_heading.finditer(src)}
            out.append(_md_cell(src))
            if c.get('attachments'): out[-1]['attachments'] = c['attachments']  # pasted images: myst-nb shows them
            continue
        if c['cell_type'] != 'code': continue
        dirs, code = _directives(src)
        outputs = c.get('outputs', [])
        if dirs.get('include') == 'false' or (not code.strip() and not outputs): continue
        if dirs.get('output') == 'asis' or c.get('metadata', {}).get('lesson1_docs'):  # show_doc results
            docs = c.get('metadata', {}).get('lesson1_docs', [])
            for o in outputs:
                md = ''.join(o.get('data', {}).get('text/markdown', ''))
                if md and docs and md in seen: continue  # nbdev adds a second show_doc for patched methods
                if md and docs:
                    seen.add(md)
                    entries.append(Entry(md, docs, linker, page_idx, nb['page'], set(idx['syms']))); out.append(entries[-1])
                elif md: out.append(_md_cell(linker(md)))
            if dirs.get('echo') == 'false': continue
            outputs = []
        tags = []
        if dirs.get('echo') == 'false' or not code.strip(): tags.append('remove-input')
        if dirs.get('output') == 'false': tags.append('remove-output')
        for o in outputs:
            md = o.get('data', {}).get('text/markdown')
            if md: o['data']['text/markdown'] = linker(''.join(md))
            o.get('data', {}).pop('application/vnd.jupyter.widget-view+json', None)  # needs JS from the internet
        outputs = [o for o in outputs if o.get('output_type') not in ('display_data', 'execute_result') or o.get('data')]
        out.append(dict(cell_type='code', execution_count=None, metadata={'tags': tags} if tags else {},
                        source=code, outputs=outputs))
    # every _modidx anchor of this page must exist, so `doc(obj)` always lands: names without their own
    # entry (methods not shown, private helpers) point at their class's entry, else at the top of the page
    present = headings.union(*(e.ids() for e in entries))
    by_anchor, top = {a: e for e in entries for a in e.anchors}, []
    for key, (page, anchor) in sorted(page_idx.items()):
        if page != nb['page'] or anchor in present: continue
        parent = by_anchor.get(anchor.rsplit('.', 1)[0]) if '.' in anchor else None
        if parent: parent.aliases.append(anchor)
        else: top.append(f'<div id="{anchor}" class="nbdev-anchor nbdev-alias"></div>')
        present.add(anchor)
    if top: out[0]['source'] = '\n'.join(top) + '\n\n' + out[0]['source']
    cells_out = [c.cell() if isinstance(c, Entry) else c for c in out]
    if nb['kind'] == 'home': cells_out.append(_md_cell(_toctrees(all_pages)))
    meta = {k: v for k, v in pnb.get('metadata', {}).items() if k in ('kernelspec', 'language_info')}
    meta.setdefault('kernelspec', dict(name='python3', display_name='Python 3', language='python'))
    return (dict(cells=cells_out, metadata=meta, nbformat=4, nbformat_minor=5),
            dict(title=title, entries=sorted({a for e in entries for a in e.anchors})))

def _toctrees(pages):
    "The hidden toctrees that make the sidebar's 'Lessons' and 'API' sections."
    out = []
    for kind, caption in (('lesson', 'Lessons'), ('api', 'API')):
        docs = [p['page'][:-len('.html')] for p in pages if p['kind'] == kind]
        if docs: out.append('```{toctree}\n:caption: ' + caption + '\n:hidden:\n\n' + '\n'.join(docs) + '\n```')
    return '\n\n'.join(out)

# ---- step 3: Sphinx --------------------------------------------------------------------------------
def _write(path, text):
    "Write `text` to `path` only if it changed (keeps Sphinx's incremental build useful)."
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding='utf-8') == text: return
    tmp = path.with_suffix(path.suffix + '.tmp')
    tmp.write_text(text, encoding='utf-8')
    os.replace(tmp, path)

def _copy_assets(nbs, keep):
    "Images that notebooks' markdown refers to by relative path (any image file under nbs/)."
    for p in nbs.rglob('*'):
        rel = p.relative_to(nbs)
        if p.suffix.lower() in ASSET_EXTS and p.is_file() and not _skipped(rel) and 'models' not in rel.parts:
            dst = SRC/rel
            keep.add(dst)
            if not dst.exists() or dst.stat().st_mtime < p.stat().st_mtime:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dst)

def build(nbs=None, out=None, workers=2, strict=False, quiet=False):
    "Process every notebook, convert it and run Sphinx: returns the site folder."
    t0, cfg = time.time(), settings()
    nbs = Path(nbs or ROOT/cfg.get('nbs_path', 'nbs')).resolve()
    out = Path(out or site_dir(cfg))
    pages = discover(nbs)
    if not pages: raise SystemExit(f'No notebooks found under {nbs}.')
    idx = modidx()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say(f'Processing {len(pages)} notebooks with nbdev\'s processors ({workers} workers)...')
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context('spawn')) as ex:
        sys.path.insert(0, str(Path(__file__).parent))
        proc = importlib.import_module('build_docs')._process  # by module name, so spawned workers can find it
        futs = {p['rel']: ex.submit(proc, p['path']) for p in pages}
        processed = {}
        for rel, f in futs.items():
            try: processed[rel] = f.result()
            except Exception as e: raise SystemExit(f'nbdev could not process nbs/{rel}: {type(e).__name__}: {e}')
    say(f'  done in {time.time() - t0:.1f}s')
    keep, manifest = set(), []
    for p in pages:
        mnb, info = convert(processed[p['rel']], p, cfg, idx, pages)
        dst = SRC/(p['page'][:-len('.html')] + '.ipynb')
        _write(dst, json.dumps(mnb, indent=1, ensure_ascii=False) + '\n')
        keep.add(dst)
        manifest.append({**p, **info})
    if not any(p['kind'] == 'home' for p in pages):
        dst = SRC/'index.md'
        _write(dst, f"# {cfg.get('title', cfg['lib_name'])}\n\n{cfg.get('description', '')}\n\n{_toctrees(pages)}\n")
        keep.add(dst)
    _copy_assets(nbs, keep)
    for f in list(SRC.rglob('*')):  # notebooks that were renamed or removed
        if f.is_file() and f not in keep: f.unlink()
    _write(PROC/'docs_manifest.json', json.dumps(manifest, indent=1) + '\n')
    say(f'Sphinx: {SRC.relative_to(ROOT)} -> {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}')
    t1 = time.time()
    if out.exists() and any(out.iterdir()) and not (out/'.buildinfo').exists():
        raise SystemExit(f'{out} is not empty and is not a site built by Sphinx: choose another --out.')
    if HTML.exists(): shutil.rmtree(HTML)  # a fresh folder: no stale pages of renamed notebooks
    # Sphinx writes into _proc/sphinx/html (myst-nb puts its scratch folder next to it), then it moves to `out`
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(ROOT/'docs'), '-d', str(DOCTREES),
           '-q', '--keep-going', str(SRC), str(HTML)]
    if strict: cmd.insert(-2, '-W')
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    res = subprocess.run(cmd, cwd=ROOT, env=env)
    if res.returncode: raise SystemExit(f'Sphinx failed (exit {res.returncode}): see the messages above.')
    if out.exists(): shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(HTML), str(out))
    (out/'.nojekyll').touch()  # GitHub Pages must serve _static/ and _images/ as they are
    say(f'  done in {time.time() - t1:.1f}s. Site: {out/"index.html"} ({time.time() - t0:.1f}s in all)')
    return out

def serve(folder, port=8000):
    "Serve `folder` on http://127.0.0.1:`port` until interrupted."
    import functools, http.server
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(('127.0.0.1', port), handler) as srv:
        print(f'Serving {folder} on http://127.0.0.1:{port}/ (Ctrl-C to stop)')
        try: srv.serve_forever()
        except KeyboardInterrupt: pass

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--nbs', help='notebook folder (default: settings.ini nbs_path)')
    ap.add_argument('--out', help='site folder (default: settings.ini doc_path, i.e. _docs/)')
    ap.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1), help='processes for nbdev and Sphinx')
    ap.add_argument('--strict', action='store_true', help="turn Sphinx's warnings into errors")
    ap.add_argument('--serve', action='store_true', help='serve the site on 127.0.0.1 afterwards')
    ap.add_argument('--port', type=int, default=8000)
    a = ap.parse_args()
    site = build(a.nbs, a.out, a.workers, a.strict)
    if a.serve: serve(site, a.port)
