# Sphinx configuration for the lesson1 site. Build with `python tools/build_docs.py`, which first turns the
# notebooks in nbs/ into the pages Sphinx reads (_proc/docs_src/); running sphinx-build alone is not enough.
import configparser, importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_cp = configparser.ConfigParser(interpolation=None)
_cp.read(ROOT/'settings.ini', encoding='utf-8')
cfg = _cp['DEFAULT']

project = cfg.get('title', cfg['lib_name'])
author = cfg.get('author', '')
copyright = cfg.get('copyright', '')
release = version = cfg.get('version', '')

extensions = ['myst_nb']
if importlib.util.find_spec('sphinx-mathjax-offline'):  # MathJax served from the site itself, so maths renders offline
    extensions.append('sphinx-mathjax-offline')

# Notebooks are rendered with the outputs they were saved with: lessons are committed executed, and
# tools/build_docs.py has already executed the show_doc cells of the library notebooks.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_render_markdown_format = 'myst'   # show_doc and doc() results are markdown with tables and raw HTML
nb_ipywidgets_js = {}                # widget views would need JavaScript from the internet: shown as text instead
nb_mime_priority_overrides = [('html', 'application/vnd.jupyter.widget-view+json', None)]
myst_enable_extensions = ['colon_fence', 'dollarmath', 'attrs_block', 'attrs_inline', 'html_image']
myst_all_links_external = True       # links are already final, relative .html addresses (see tools/build_docs.py)
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'misc.highlighting_failure']
exclude_patterns = ['**.ipynb_checkpoints']

html_theme = 'sphinx_book_theme'
html_title = project
html_static_path = [str(ROOT/'docs'/'_static')]
html_css_files = ['lesson1.css']
html_favicon = str(ROOT/'docs'/'_static'/'favicon.svg')
html_context = {'default_mode': 'auto'}  # the theme logs an error on a first visit without it
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    'repository_url': cfg.get('git_url', ''),
    'repository_branch': cfg.get('branch', 'main'),
    'path_to_docs': cfg.get('nbs_path', 'nbs'),
    'use_repository_button': bool(cfg.get('git_url')),
    'use_download_button': False,
    'home_page_in_toc': True,
    'show_toc_level': 2,
    'navigation_with_keys': False,
}

def setup(app):
    "Quarto's callout blocks (`::: {.callout-note}` ... `:::`), which nbdev notebooks use, render as admonitions."
    from docutils.parsers.rst.directives import admonitions
    for kind in ('note', 'tip', 'warning', 'important', 'caution'):
        app.add_directive(f'.callout-{kind}', getattr(admonitions, kind.capitalize()))
