#!/usr/bin/env python3
"""Open the built site in headless Chromium and check that pages really render; screenshots go to screenshots/.

    python tools/browser_test.py [--site _docs] [--screenshots screenshots]

Serves the site on 127.0.0.1 (a free port) and drives Chromium through chromedriver (selenium), offline:
- home page: its title, and the "Lessons" and "API" navigation with a visible link to every page;
- every lesson: each saved image output of the notebook is an <img> that the browser decoded, each HTML
  table output is a table, maths is typeset; the pets lesson must show its `show_batch` figure once the
  notebook has one;
- API: `doc(obj)`'s own address for `fit_one_cycle` (or, until lesson1 exports it, the first exported
  function) opens the right page scrolled to the entry, whose signature shows every parameter;
- search: the offline full-text search finds that function and links to its API page;
- no page logs a browser error (a missing file, a script error, or an attempt to reach the internet).
Chromium and chromedriver: Debian's `chromium` and `chromium-driver` (or $CHROME_BIN and $CHROMEDRIVER).
"""
import argparse, functools, http.server, inspect, json, os, re, shutil, sys, tempfile, threading, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import ROOT, discover, modidx, settings  # noqa: E402

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
         '--disable-background-networking', '--disable-component-update', '--window-size=1280,1600']
IMG_TYPES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')
problems, passed = [], []

def check(ok, what):
    (passed if ok else problems).append(what)
    print(('ok   ' if ok else 'FAIL ') + what, flush=True)
    return ok

def _find(env, *names):
    if os.environ.get(env): return os.environ[env]
    for n in names:
        if os.path.sep in n and os.path.exists(n): return n
        if shutil.which(n): return shutil.which(n)
    sys.exit(f'Cannot find {names[0]}: `apt-get install -y chromium chromium-driver`, or set {env}.')

def serve(folder):
    "Serve `folder` on 127.0.0.1 in a thread; returns (server, base url)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    os.environ.setdefault('SE_OFFLINE', 'true')  # never let Selenium Manager try to download a driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = _find('CHROME_BIN', 'chromium', 'chromium-browser', 'google-chrome')
    profile = tempfile.mkdtemp(prefix='chromium-profile-')
    for f in FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver_bin = _find('CHROMEDRIVER', 'chromedriver', os.path.join(os.environ.get('CHROMEWEBDRIVER', '/nonexistent'), 'chromedriver'))
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=driver_bin))
    drv.set_page_load_timeout(30)
    return drv, profile

def load(drv, url):
    drv.get(url)  # returns once the page has loaded (Selenium's default page load strategy)
    drv.execute_script('return document.fonts ? document.fonts.ready : null')

def wait_for(drv, js, *args, timeout=10):
    "The first truthy result of the script `js`, tried until `timeout` seconds have passed; None if none came."
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try: return WebDriverWait(drv, timeout).until(lambda d: d.execute_script(js, *args))
    except TimeoutException: return None

def shot(drv, folder, name):
    drv.save_screenshot(str(folder/f'{name}.png'))

def console_errors(drv, page):
    "Fail for each error the browser logged on this page (missing files, script errors, blocked requests)."
    errs = [e['message'] for e in drv.get_log('browser') if e['level'] == 'SEVERE']
    for m in errs: check(False, f'{page}: browser error: {m[:300]}')
    if not errs: check(True, f'{page}: no browser errors')

# ---- what the notebooks promise -------------------------------------------------------------------
def _hidden(src):
    "Whether a code cell's outputs are left out of the docs (nbdev/Quarto directives)."
    dirs = re.findall(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$', src, re.MULTILINE)
    d = {k.lower(): v.strip('\'"').lower() for k, v in dirs}
    return 'hide' in d or 'export' in d or 'exporti' in d or d.get('include') == 'false' or d.get('output') == 'false'

def expected_outputs(nb_path):
    "Image outputs, HTML tables, whether a show_batch figure and maths are there: what the page must show."
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    imgs, tables, batch, math = 0, 0, False, False
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            src = re.sub(r'`[^`]*`', '', ''.join(c['source']))
            math = math or bool(re.search(r'\$\$.+?\$\$|(?<![\\$])\$[^$\s][^$\n]*?(?<!\s)\$(?!\d)', src, re.DOTALL))
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        if _hidden(src): continue
        outs = [o for o in c.get('outputs', []) if 'data' in o]
        n_img = sum(any(t in o['data'] for t in IMG_TYPES) for o in outs)
        imgs += n_img
        tables += sum('<table' in ''.join(o['data'].get('text/html', '')) for o in outs)
        if 'show_batch' in src and n_img: batch = True
    return imgs, tables, batch, math

# ---- the checks --------------------------------------------------------------------------------------
def test_home(drv, base, pages, shots):
    load(drv, base + 'index.html')
    home = next((p for p in pages if p['kind'] == 'home'), None)
    title = settings().get('title', '')
    h1 = drv.execute_script("const h = document.querySelector('main h1'); return h ? h.innerText : ''")
    check(bool(h1.strip()) and (home is not None or title in h1), f'home page: has its title ({h1.strip()[:60]!r})')
    nav = drv.execute_script("""
        const out = {};
        for (const cap of document.querySelectorAll('.bd-sidebar-primary p.caption')) {
            const ul = cap.nextElementSibling;
            out[cap.innerText.trim()] = ul ? [...ul.querySelectorAll('a')].filter(a => a.offsetParent !== null)
                                                .map(a => a.getAttribute('href')) : [];
        }
        return out;""")
    for kind, caption in (('lesson', 'Lessons'), ('api', 'API')):
        want = [p['page'] for p in pages if p['kind'] == kind]
        if want: check(set(want) <= set(nav.get(caption, [])), f'home page: "{caption}" menu shows all {len(want)} pages')
    shot(drv, shots, 'home')
    console_errors(drv, 'index.html')

def test_lesson(drv, base, p, shots, pets=False):
    load(drv, base + p['page'])
    imgs, tables, batch, math = expected_outputs(p['path'])
    h1 = drv.execute_script("const h = document.querySelector('main h1'); return h ? h.innerText : ''")
    check(bool(h1.strip()), f"{p['page']}: rendered with its title ({h1.strip()[:50]!r})")
    got = drv.execute_script("""
        const imgs = [...document.querySelectorAll('main .cell_output img')];
        return {total: imgs.length, decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
                tables: document.querySelectorAll('main .cell_output table').length};""")
    if imgs:
        check(got['decoded'] >= imgs, f"{p['page']}: {got['decoded']} of {imgs} image outputs shown (decoded by the browser)")
    if tables:
        check(got['tables'] >= tables, f"{p['page']}: {got['tables']} of {tables} table outputs shown")
    if math:  # MathJax comes with the site (sphinx-mathjax-offline) and typesets after the page has loaded
        n = wait_for(drv, "return document.querySelectorAll('main mjx-container').length") or 0
        check(n > 0, f"{p['page']}: maths typeset offline by MathJax ({n} formulas)")
    if batch or pets:
        fig = drv.execute_script("""
            for (const cell of document.querySelectorAll('main div.cell')) {
                const inp = cell.querySelector('.cell_input');
                if (!inp || !inp.innerText.includes('show_batch')) continue;
                const img = cell.querySelector('.cell_output img');
                if (img && img.complete && img.naturalWidth > 0) {
                    img.scrollIntoView(); return [img.naturalWidth, img.naturalHeight]; }
            }
            return null;""")
        if batch: check(fig is not None, f"{p['page']}: the show_batch figure is shown ({fig and f'{fig[0]}x{fig[1]}'})")
        elif pets: print(f"note {p['page']}: the notebook has no saved show_batch figure yet, so none is required")
    shot(drv, shots, 'lesson_' + p['page'][:-5].replace('/', '_'))
    console_errors(drv, p['page'])

def _pick_function():
    "fit_one_cycle if lesson1 has it, else the first exported function or method with an entry: (obj, qualname)."
    import importlib
    sys.path.insert(0, str(ROOT))
    idx = modidx()
    keys = [k for m in idx['syms'].values() for k in m]
    want = [k for k in keys if k.endswith('.fit_one_cycle')] or \
           [k for k in keys if not any(part.startswith('_') for part in k.split('.')[2:])]
    for key in want:
        mod_name, _, qual = key.partition('.')[2].partition('.')
        mod = importlib.import_module(f"{idx['settings']['lib_path']}.{mod_name}")
        obj = mod
        for part in qual.split('.'): obj = getattr(obj, part, None)
        if callable(obj) and not inspect.isclass(obj): return obj, key, qual
    return None, None, None

def test_api(drv, base, shots):
    obj, key, qual = _pick_function()
    if not check(obj is not None, f'API: found a function to look up ({key})'): return None
    from lesson1.core import _doc_url
    url, cfg = _doc_url(obj), settings()
    prefix = '/'.join(x for x in (cfg['doc_host'].rstrip('/'), cfg['doc_baseurl'].strip('/')) if x) + '/'
    if not check(bool(url) and url.startswith(prefix), f'API: doc({qual}) gives an address on the site ({url})'): return None
    page, _, anchor = url[len(prefix):].partition('#')
    load(drv, base + url[len(prefix):])
    time.sleep(0.3)
    info = drv.execute_script("""
        const el = document.getElementById(arguments[0]);
        if (!el) return null;
        // the entry's section, or the first section after its anchor div in the page
        const sec = el.matches('section') ? el : [...document.querySelectorAll('main section')].find(
            s => el.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING) || null;
        const h = sec ? sec.querySelector('h1,h2,h3,h4,h5,h6') : null;
        const pre = sec ? sec.querySelector('pre') : null;
        const r = (h || el).getBoundingClientRect();
        return {heading: h ? h.innerText : '', sig: pre ? pre.innerText : '', text: sec ? sec.innerText : '',
                top: r.top, vh: window.innerHeight};""", anchor)
    if not check(info is not None, f'API: {page} has the anchor #{anchor} that doc({qual}) links to'): return None
    name = qual.split('.')[-1]
    check(name in info['heading'], f"API: the entry's heading names {name} ({info['heading'].strip()!r})")
    check(0 <= info['top'] < info['vh'], f"API: opening doc()'s address scrolls to the entry (top at {info['top']:.0f}px)")
    params = [n for n in inspect.signature(obj).parameters if n not in ('self', 'cls')]
    missing = [n for n in params if n not in info['sig']]
    check(name in info['sig'] and not missing, f'API: the signature of {qual} shows {params}' +
          (f' (missing {missing}: {info["sig"][:200]!r})' if missing or name not in info['sig'] else ''))
    first = (inspect.getdoc(obj) or '').split('\n')[0].replace('`', '').strip()
    check(first[:40] in info['text'].replace('`', ''), f'API: the docstring of {qual} is shown ({first[:50]!r})')
    shot(drv, shots, 'api_' + page[:-5].replace('/', '_'))
    console_errors(drv, page)
    return name, page

def test_search(drv, base, name, page, shots):
    load(drv, base + f'search.html?q={name}')
    # the search runs in JavaScript after the page has loaded
    hrefs = wait_for(drv, "return [...document.querySelectorAll('#search-results a')].map(a => a.getAttribute('href'))") or []
    check(any(h.split('#')[0].split('?')[0].endswith(page) for h in hrefs),
          f'search: "{name}" finds {page} offline ({len(hrefs)} results)')
    shot(drv, shots, 'search')
    console_errors(drv, 'search.html')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--site', help='built site (default: settings.ini doc_path, _docs/)')
    ap.add_argument('--screenshots', default=str(ROOT/'screenshots'))
    a = ap.parse_args()
    site = Path(a.site or settings().doc_path).resolve()
    if not (site/'index.html').exists(): sys.exit(f'No site in {site}: run `python tools/build_docs.py` first.')
    shots = Path(a.screenshots); shots.mkdir(parents=True, exist_ok=True)
    pages = discover()
    t0 = time.time()
    srv, base = serve(site)
    drv, profile = browser()
    try:
        test_home(drv, base, pages, shots)
        lessons = [p for p in pages if p['kind'] == 'lesson']
        pets = next((p for p in lessons if 'pets' in p['page']), None)
        check(pets is not None, 'the pets lesson exists')
        for p in lessons: test_lesson(drv, base, p, shots, pets=p is pets)
        found = test_api(drv, base, shots)
        if found: test_search(drv, base, *found, shots)
    finally:
        drv.quit(); srv.shutdown(); shutil.rmtree(profile, ignore_errors=True)
    print(f'screenshots in {shots} ({time.time() - t0:.1f}s)')
    print(f'browser test: {len(passed)} checks ok, {len(problems)} failed')
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main())
