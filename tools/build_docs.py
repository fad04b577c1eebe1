#!/usr/bin/env python3
"""Build the documentation site (lessons + API reference) from the notebooks in nbs/, offline, into _docs/.

    python tools/build_docs.py [--serve]    # then check it: tools/check_docs.py, tools/browser_test.py
    rm -rf _proc                            # ... to make nbdev process every notebook again, changed or not

Quarto, nbdev's usual renderer, cannot be installed offline, so Sphinx (myst-nb, sphinx-book-theme) renders:
1. nbdev's `proc_nbs` (what `nbdev_docs` runs first) runs nbdev's processors on the notebooks, in parallel; by
   nbdev's rule exported cells, imports and `show_doc` cells run. settings.ini has it skip `insert_warning`
   (`skip_procs`) and run `MystNb` below last (`procs`): it writes what myst-nb renders as nbdev's page;
2. the notebooks go to _proc/docs_src/ under nbdev's page names (nbs/api/00_core.ipynb -> api/core.html);
3. Sphinx renders them with their saved outputs (nothing runs again) and builds the offline search index.
"""
import argparse, contextlib, json, os, re, runpy, shutil, subprocess, sys, yaml
from pathlib import Path, PurePosixPath
from docutils.nodes import make_id  # the id docutils gives a section titled `text`
from execnb.nbio import mk_cell
from fastcore.basics import AttrDict
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.process import Processor
from nbdev.serve import proc_nbs

ROOT = Path(__file__).resolve().parent.parent
PROC = ROOT/'_proc'  # nbdev's folder for processed notebooks (git-ignored); Sphinx reads, caches and writes in it:
SRC, DOCTREES, HTML = PROC/'docs_src', PROC/'sphinx'/'doctrees', PROC/'sphinx'/'html'
IMAGES, SKIP_DIRS = r'(?i)\.(png|jpe?g|gif|svg|webp)$', r'^([_.]|models$)'  # images for the pages; folders never read

def settings(): return get_config(path=ROOT)  # nbdev's settings (settings.ini), with absolute paths

def page_of(rel):
    "Page of the notebook at `rel` (relative to nbs/), by nbdev's rule: 'api/00_core.ipynb' -> 'api/core.html'."
    rel = PurePosixPath(rel)
    return str(rel.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html'))

def discover():
    "The notebooks nbdev finds (`nbglob`): dicts with `path`, `rel`, `page` and `kind` ('home', 'lesson', 'api')."
    nbs, out = settings().nbs_path, []
    for p in sorted(nbglob(nbs, as_path=True, skip_folder_re=SKIP_DIRS)):
        page = page_of(rel := p.relative_to(nbs).as_posix())
        kind = 'home' if page == 'index.html' else 'api' if page.startswith('api/') else 'lesson'
        out.append(dict(path=str(p), rel=rel, page=page, kind=kind))
    pages = [o['page'] for o in out]
    if dups := {p for p in pages if pages.count(p) > 1}: sys.exit(f'Notebooks would share the pages {sorted(dups)}.')
    return out

def modidx():
    "nbdev's symbol index (lesson1/_modidx.py) as a dict, read without importing the library."
    return runpy.run_path(str(settings().lib_path/'_modidx.py'))['d']

# ---- MystNb, the processor settings.ini's `procs` adds: a processed notebook -> one for myst-nb -------------
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_link = re.compile(r'(\]\(\s*<?)([^)\s>]+)(>?(?:\s+"[^"]*")?\s*\))')
_re_nested = re.compile(r'\[([^\[\]]*)\[(`[^`]+`)\]\([^)\s]+\)([^\[\]]*)\]\(')
_re_source = re.compile(r'\[source\]\(([^)\s]+)\)(\{[^}]*\})?')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$', re.MULTILINE)

def _directives(src):
    "Quarto's `#| key: value` options at the top of a cell (nbdev leaves them in the source), and the code."
    lines, dirs = src.splitlines(), {}
    while lines and (m := _re_dir.match(lines[0])): dirs[m[1].lower()] = m[2].strip('\'"').lower(); del lines[0]
    return dirs, '\n'.join(lines).strip('\n')

def linker(cfg, page, rel):
    "A function making links to the published site, or to other notebooks, relative to `page` (of notebook `rel`)."
    host, base = cfg.get('doc_host', '').rstrip('/'), cfg.get('doc_baseurl', '').strip('/')
    site = '/'.join(p for p in (host, base) if p) + '/' if host else None
    def url(u):
        path, hash_, frag = u.partition('#')
        if site and u.startswith(site): path, hash_, frag = u[len(site):].partition('#')
        elif '://' in u or u.startswith(('#', 'mailto:', 'data:', '/')) or not path.endswith('.ipynb'): return u
        else: path = page_of(os.path.normpath(os.path.join(os.path.dirname(rel), path)))
        return os.path.relpath(path or 'index.html', os.path.dirname(page) or '.') + hash_ + frag
    def link(md):
        # nbdev links `name` even inside a link the author wrote, giving [[`name`](a)](b): keep the author's link
        while (new := _re_nested.sub(r'[\1\2\3](', md)) != md: md = new
        return _re_link.sub(lambda m: m[1] + url(m[2]) + m[3], md)
    return link

def _divs(ids, kind, skip=None):  # empty divs carrying the anchors `ids` (but `skip`, the id of the section itself)
    return ''.join(f'<div id="{a}" class="nbdev-anchor nbdev-{kind}"></div>\n'
                   for a in dict.fromkeys(ids) if a and a != skip)

class Entry:
    "A `show_doc` result: nbdev's heading with its [source] link under it, and the anchor Quarto gives that heading."
    def __init__(self, md, link, id):
        md = re.sub(r'^\s*---\s*\n', '', md.lstrip())  # Quarto's rule above each entry
        src, md = _re_source.search(md), _re_source.sub('', md).strip()
        if (h := _re_heading.search(md)) and src:  # the [source] link goes under the heading, floated right by our CSS
            link_ = f'<a class="nbdev-source reference external" href="{src[1]}">[source]</a>'
            md = f'{md[:h.end()]}\n\n{link_}\n{md[h.end():]}'
        self.md, self.aliases, self.cell = link(md), [], mk_cell('', 'markdown', id=id)
        self.sec, self.anchors = (make_id(h[2]), [h[2].strip('`').lower()]) if h else (None, [])

class MystNb(Processor):
    "nbdev processor, run after nbdev's own: turns the notebook into the one myst-nb renders as nbdev's page."
    def end(self):
        cfg = settings()
        # execnb's read_nb notes the notebook's file in `nb.path_`; nbdev's FrontmatterProc reads it the same way
        rel = Path(self.nb.path_).resolve().relative_to(cfg.nbs_path).as_posix()
        self.page, self.link, self.entries, self.seen = page_of(rel), linker(cfg, page_of(rel), rel), [], set()
        # the front matter, which nbdev's FrontmatterProc put in a raw `---` cell first, becomes the title cell
        c = self.nb.cells[0] if self.nb.cells else None
        fm = yaml.safe_load(c.source.strip('-\n ')) if c and c.cell_type == 'raw' and c.source.startswith('---') else {}
        head = f"# {fm.get('title') or Path(rel).stem}\n"
        if fm.get('description'): head += f"\n{{.nbdev-description}}\n{fm['description']}\n"
        cells = [mk_cell(head, 'markdown', id='nbdev-title')] + self.nb.cells
        self.nb.cells = [new for c in cells for new in self.convert(c)]
        self.anchor_all()
        self.nb.metadata.pop('widgets', None)  # widget state (from nbdev's exec_show_docs): no widgets run offline
        self.nb.metadata.setdefault('kernelspec', dict(name='python3', display_name='Python 3', language='python'))

    def convert(self, c):
        "The cells that cell `c` becomes (none for raw cells: the front matter is the title cell now)."
        if c.cell_type == 'markdown': return [AttrDict(c, source=self.link(c.source))]
        if c.cell_type != 'code': return []
        (dirs, src), outs = _directives(c.source), c.get('outputs', [])
        if dirs.get('include') == 'false' or not (src.strip() or outs): return []
        if dirs.get('output') == 'asis' and 'show_doc(' in src:  # nbdev's clean_show_doc marks show_doc cells so
            mds = [md for o in outs if (md := ''.join(o.get('data', {}).get('text/markdown', '')))]
            new = [Entry(md, self.link, f'{c.id}-{i}')
                   for i, md in enumerate(dict.fromkeys(mds)) if md not in self.seen]
            self.seen.update(mds)  # (nbdev shows patched methods twice)
            self.entries += new
            code = [] if dirs.get('echo') == 'false' else [AttrDict(c, source=src, outputs=[])]
            return [e.cell for e in new] + code
        for o in outs:
            if 'text/markdown' in (d := o.get('data', {})): d['text/markdown'] = self.link(''.join(d['text/markdown']))
        tags = ['remove-input'] * (dirs.get('echo') == 'false' or not src.strip())
        tags += ['remove-output'] * (dirs.get('output') == 'false')
        return [AttrDict(c, source=src, metadata={'tags': tags} if tags else {})]

    def anchor_all(self):
        """Every _modidx anchor of this page must exist, so `doc(obj)` always lands: names without an entry of their
        own (methods not shown, private helpers) point at their class's entry, else at the top of the page."""
        idx = sorted((k, v[0].partition('#')) for m in modidx()['syms'].values() for k, v in m.items())
        anchors = [anchor for _, (page, _, anchor) in idx if page == self.page]
        for e in self.entries:  # an entry headed by a bare name (`added_cbs`, say) documents `Learner.added_cbs`
            if e.anchors and e.anchors[0] not in anchors:
                e.anchors += [a for a in anchors if a.endswith('.' + e.anchors[0])][:1]
        md = '\n'.join(c.source for c in self.nb.cells if c.cell_type == 'markdown')
        present = {make_id(h[2]) for h in _re_heading.finditer(md)}
        present |= {a for e in self.entries for a in (e.sec, *e.anchors)}
        by_anchor, top = {a: e for e in self.entries for a in e.anchors}, []
        for anchor in anchors:
            if anchor in present: continue
            parent = by_anchor.get(anchor.rsplit('.', 1)[0]) if '.' in anchor else None
            (parent.aliases if parent else top).append(anchor)
            present.add(anchor)
        if top: self.nb.cells[0].source = _divs(top, 'alias') + '\n' + self.nb.cells[0].source
        for e in self.entries:
            divs = _divs(e.anchors, 'entry', e.sec) + _divs(e.aliases, 'alias', e.sec)
            e.cell.source = divs + ('\n' if divs else '') + e.md

# ---- the build ------------------------------------------------------------------------------------------------
def _toctrees(pages):
    "The hidden toctrees that make the sidebar's 'Lessons' and 'API' sections."
    docs = {k: '\n'.join(p['page'][:-len('.html')] for p in pages if p['kind'] == k) for k in ('lesson', 'api')}
    return '\n\n'.join(f'```{{toctree}}\n:caption: {caption}\n:hidden:\n\n{docs[k]}\n```'
                       for k, caption in (('lesson', 'Lessons'), ('api', 'API')) if docs[k])

def build():
    "Process the notebooks with nbdev, put them under their page names, run Sphinx: returns the site (`doc_path`)."
    os.chdir(ROOT)  # nbdev reads settings.ini from the working directory
    cfg, pages = settings(), discover()
    # proc_nbs processes again the notebooks changed since its last run, or all of them when settings.ini changed;
    newest = max(f.stat().st_mtime for f in [Path(__file__), *cfg.lib_path.glob('*.py')])  # or MystNb or the library
    try: proc_nbs(cfg.nbs_path, skip_folder_re=SKIP_DIRS, force=PROC.exists() and PROC.stat().st_mtime < newest)
    except Exception:
        __import__('traceback').print_exc()
        sys.exit('nbdev could not process a notebook (above). To document a notebook nbdev runs its exported cells, '
                 'show_doc cells and every cell with an import: a cell with an import must run alone.')
    shutil.rmtree(SRC, ignore_errors=True)  # then copy the pages there, and the images their markdown shows
    images = nbglob(cfg.nbs_path, file_glob='', file_re=IMAGES, skip_folder_re=SKIP_DIRS, as_path=True)
    for src, dst in [(PROC/p['rel'], SRC/p['page'].replace('.html', '.ipynb')) for p in pages] + \
                    [(f, SRC/f.relative_to(cfg.nbs_path)) for f in images]:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    home = json.loads((SRC/'index.ipynb').read_text(encoding='utf-8'))
    home['cells'].append(dict(cell_type='markdown', id='nbdev-toctree', metadata={}, source=_toctrees(pages)))
    (SRC/'index.ipynb').write_text(json.dumps(home), encoding='utf-8')
    print(f'Sphinx: {SRC.relative_to(ROOT)} -> {cfg.doc_path}', flush=True)
    shutil.rmtree(HTML, ignore_errors=True)  # Sphinx writes here (myst-nb puts scratch files next to it), then it moves
    from sphinx.cmd.build import build_main
    args = ['-b', 'html', '-c', str(ROOT/'docs'), '-d', str(DOCTREES), '-q', '--keep-going', str(SRC), str(HTML)]
    if rc := build_main(args): sys.exit(f'Sphinx failed (exit {rc}): see the messages above.')
    shutil.rmtree(cfg.doc_path, ignore_errors=True)
    shutil.move(str(HTML), str(cfg.doc_path))
    (cfg.doc_path/'.nojekyll').touch()  # GitHub Pages must serve _static/ and _images/ as they are
    return cfg.doc_path

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--serve', action='store_true', help='serve the site on http://127.0.0.1:8000 afterwards')
    a = ap.parse_args()
    site = build()
    print(f'Site: {site/"index.html"}')
    with contextlib.suppress(KeyboardInterrupt):
        if a.serve: subprocess.run([sys.executable, '-m', 'http.server', '-b', '127.0.0.1', '-d', str(site), '8000'])
