#!/usr/bin/env python3
"""Check the site that tools/build_docs.py built (default _docs/), against the notebooks and the library.

    python tools/check_docs.py [SITE]      # exit 1 and list every problem found

What is checked:
1. pages: every notebook in nbs/ (nbdev's rules: no `_`/`.` names) has its page, lessons and API pages
   are both in the sidebar's "Lessons" and "API" sections of the home page;
2. links: every internal href/src of every page points to a file of the site, and every `#anchor` to an
   element with that id; no page loads a script, stylesheet or image from the internet (the site works
   offline) or links to the published site instead of the page next to it;
3. reference: every name in each lesson1 module's `__all__` has its entry (a show_doc heading, not just
   an anchor) on the page of the module that defines it; constants are at least named on that page;
4. `doc(obj)`: every address in lesson1/_modidx.py (what `doc` links to) lands on an existing page and
   anchor, and `doc`'s own url for each exported function and class does too;
5. search: searchindex.js exists, indexes every page and every reference entry's heading.
"""
import importlib, inspect, json, os, re, sys
from pathlib import Path
from urllib.parse import urlsplit, unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import ROOT, discover, modidx, settings  # noqa: E402

problems = []
def fail(msg): problems.append(msg)

def _soup(path):
    from bs4 import BeautifulSoup
    return BeautifulSoup(path.read_text(encoding='utf-8'), 'html.parser')

class Site:
    "The built pages, parsed once: ids per page and links per page."
    def __init__(self, folder):
        self.folder = folder
        self.pages = {p.relative_to(folder).as_posix(): _soup(p) for p in sorted(folder.rglob('*.html'))
                      if not p.relative_to(folder).as_posix().startswith(('_static/', '_sources/'))}
        self.ids = {k: {t['id'] for t in s.find_all(id=True)} for k, s in self.pages.items()}

    def resolve(self, page, url):
        "(target file relative to the site, fragment) for a relative `url` on `page`; None for external urls."
        u = urlsplit(url)
        if u.scheme or u.netloc or url.startswith(('mailto:', 'javascript:', 'data:')): return None
        path = unquote(u.path)
        if not path: return page, u.fragment
        target = os.path.normpath(os.path.join(os.path.dirname(page), path)).replace(os.sep, '/')
        if (self.folder/target).is_dir(): target = (target + '/index.html').lstrip('./')
        return target, u.fragment

def check_pages(site, nbs_pages):
    for p in nbs_pages:
        if p['page'] not in site.pages: fail(f"nbs/{p['rel']}: no page {p['page']} in the site")
    home = site.pages.get('index.html')
    if home is None: return fail('no index.html')
    for kind, caption in (('lesson', 'Lessons'), ('api', 'API')):
        want = [p['page'] for p in nbs_pages if p['kind'] == kind]
        if not want: continue
        cap = next((c for c in home.find_all(class_='caption') if c.get_text(strip=True) == caption), None)
        if cap is None: fail(f'home page: no "{caption}" section in the navigation'); continue
        ul = cap.find_next('ul')
        got = [a['href'] for a in ul.find_all('a', href=True)] if ul else []
        for w in want:
            if w not in got: fail(f'home page: "{caption}" navigation has no link to {w} (has {got})')

def check_links(site, cfg):
    published = (cfg.get('doc_host', '').rstrip('/') + '/' + cfg.get('doc_baseurl', '').strip('/')).rstrip('/')
    n = 0
    for page, soup in site.pages.items():
        for tag in soup.find_all(['a', 'link', 'img', 'script', 'source', 'iframe']):
            attr = 'href' if tag.name in ('a', 'link') else 'src'
            url = tag.get(attr)
            if not url: continue
            if tag.name != 'a' and re.match(r'^(https?:)?//', url):
                fail(f'{page}: loads {url} from the internet (<{tag.name}>): the site must work offline')
            if tag.name == 'a' and published and url.startswith(published + '/'):
                fail(f'{page}: links to the published site ({url}) instead of the page in this site')
            r = site.resolve(page, url)
            if r is None: continue
            target, frag = r
            n += 1
            if not (site.folder/target).is_file():
                fail(f'{page}: broken link {url!r} (no {target})'); continue
            if frag and target.endswith('.html') and target in site.ids and frag not in site.ids[target]:
                fail(f'{page}: broken anchor {url!r} (no id "{frag}" in {target})')
    return n

def _entry_at(site, page, anchor):
    "'entry' if `page` has a show_doc entry with id `anchor`, 'alias' if only an alias anchor, None if neither."
    soup = site.pages.get(page)
    el = soup.find(id=anchor) if soup else None
    if el is None: return None
    if 'nbdev-entry' in el.get('class', []): return 'entry'
    if el.name == 'section':
        h = el.find(re.compile('^h[1-6]$'))
        if h and h.get_text(' ', strip=True).rstrip('#').strip().lower() == anchor: return 'entry'
    return 'alias'

def _module_pages(nbs_pages, lib):
    "lesson1 module name -> page of the notebook that exports it (its `#| default_exp`)."
    out = {}
    for p in nbs_pages:
        m = re.search(r'#\|\s*default_exp\s+([\w.]+)', Path(p['path']).read_text(encoding='utf-8'))
        if m: out[f'{lib}.{m[1]}'] = p['page']
    return out

def check_reference(site, nbs_pages, idx, cfg):
    lib = cfg['lib_name']
    sys.path.insert(0, str(ROOT))
    mod_pages, syms = _module_pages(nbs_pages, lib), {k: v[0] for m in idx['syms'].values() for k, v in m.items()}
    entries, claimed, n = [], set(), 0
    for mod_name, page in mod_pages.items():
        try: mod = importlib.import_module(mod_name)
        except Exception as e: fail(f'{mod_name}: cannot be imported ({type(e).__name__}: {e})'); continue
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            if inspect.ismodule(obj): continue                      # e.g. `np` re-exported for the lessons
            if inspect.isclass(obj) or inspect.isroutine(obj):
                home = getattr(obj, '__module__', '') or ''
                if home != lib and not home.startswith(lib + '.'): continue   # a re-export of torch, pathlib...
                key = f'{home}.{obj.__qualname__}'
                if key in claimed: continue
                claimed.add(key)
                n += 1
                if key in syms: tpage, anchor = syms[key].split('#', 1)
                else: tpage, anchor = mod_pages.get(home, page), name.lower()   # e.g. a namedtuple: not in _modidx
                kind = _entry_at(site, tpage, anchor)
                if kind != 'entry':
                    fail(f'{mod_name}.{name}: no reference entry on {tpage} (#{anchor} is '
                         f'{"only an alias" if kind else "missing"}): add a show_doc({name}) cell to its notebook')
                else: entries.append((tpage, anchor, obj))
            elif ('const', name) not in claimed:                      # constants: named on their module's page
                claimed.add(('const', name))
                n += 1
                soup = site.pages.get(page)
                text = soup.find('main').get_text(' ') if soup and soup.find('main') else ''
                if not re.search(rf'\b{re.escape(name)}\b', text):
                    fail(f'{mod_name}.{name}: exported but never named on {page}: document it in its notebook')
    return n, entries

def check_doc_links(site, idx, entries, cfg):
    n = 0
    for mod, d in idx['syms'].items():
        for key, (loc, _) in d.items():
            page, _, anchor = loc.partition('#')
            n += 1
            if page not in site.pages: fail(f'doc({key}) -> {loc}: no such page'); continue
            if anchor and anchor not in site.ids[page]: fail(f'doc({key}) -> {loc}: no anchor #{anchor} on {page}')
    try: from lesson1.core import _doc_url
    except ImportError: return n
    prefix = '/'.join(p for p in (cfg.get('doc_host', '').rstrip('/'), cfg.get('doc_baseurl', '').strip('/')) if p) + '/'
    for page, anchor, obj in entries:
        url = _doc_url(obj)
        n += 1
        if url != f'{prefix}{page}#{anchor}': fail(f'doc({obj.__qualname__}) gives {url}, but its entry is {page}#{anchor}')
    return n

def check_search(site, nbs_pages, entries):
    f = site.folder/'searchindex.js'
    if not f.exists() or f.stat().st_size < 1000: return fail('no search index (searchindex.js missing or empty)')
    s = f.read_text(encoding='utf-8')
    idx = json.loads(s[s.index('(') + 1:s.rindex(')')])
    docs = set(idx.get('docnames', []))
    for p in nbs_pages:
        if p['page'][:-len('.html')] not in docs: fail(f"search index: page {p['page']} is not indexed")
    titles = {t.lower() for t in idx.get('alltitles', {})}
    for page, anchor, obj in entries:
        h = site.pages[page].find(id=anchor)
        h = h if h.name == 'section' else h.find_next(re.compile('^h[1-6]$'))
        if h is not None and h.name == 'section': h = h.find(re.compile('^h[1-6]$'))
        text = h.get_text(' ', strip=True).rstrip('#').strip() if h is not None else anchor
        if text.lower() not in titles: fail(f'search index: reference entry "{text}" ({page}) is not indexed')
    return len(docs)

def main(folder=None):
    cfg = settings()
    folder = Path(folder or cfg.doc_path).resolve()
    if not (folder/'index.html').exists():
        sys.exit(f'No site in {folder}: build it first with `python tools/build_docs.py`.')
    nbs_pages, idx = discover(), modidx()
    site = Site(folder)
    check_pages(site, nbs_pages)
    n_links = check_links(site, cfg)
    n_names, entries = check_reference(site, nbs_pages, idx, cfg)
    n_doc = check_doc_links(site, idx, entries, cfg)
    n_docs = check_search(site, nbs_pages, entries)
    for p in problems: print('FAIL', p)
    print(f'{len(site.pages)} pages ({len(nbs_pages)} notebooks), {n_links} internal links, {n_names} exported names '
          f'({len(entries)} reference entries), {n_doc} doc() addresses, search index of {n_docs} pages')
    print(f'docs check: {"FAILED with " + str(len(problems)) + " problems" if problems else "passed"}')
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
