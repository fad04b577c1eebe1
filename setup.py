"""Packaging for lesson1, driven by nbdev 2's settings.ini (no pkg_resources: new setuptools removed it)."""
import re
from configparser import ConfigParser
import setuptools

def _version(v: str) -> tuple: return tuple(int(n) for n in re.findall(r'\d+', v)[:3])   # '80.9.0' -> (80, 9, 0)
if _version(setuptools.__version__) < (64,): raise RuntimeError('setuptools is too old: pip install -U setuptools')

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

expected = 'version description keywords author author_email'.split()
missing = [o for o in expected if o not in cfg]
if missing: raise ValueError(f'settings.ini is missing: {missing}')

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable',
            '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13 3.14'.split()
min_python = cfg['min_python']
if min_python not in py_versions: raise ValueError(f'min_python {min_python} must be one of {py_versions}')
lic = licenses[cfg['license']]

requirements = cfg.get('requirements', '').split()
dev_requirements = cfg.get('dev_requirements', '').split()
# `console_scripts` lines are `name=module:function`, separated by spaces
console_scripts = cfg.get('console_scripts', '').split()
lib_path = cfg['lib_path']

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license=lic[0],
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'License :: ' + lic[1],
                 'Natural Language :: ' + cfg['language'].title()] +
                ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=[lib_path, lib_path + '.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'dev': dev_requirements},
    python_requires='>=' + min_python,
    zip_safe=False,
    entry_points={'console_scripts': console_scripts, 'nbdev': [f'{lib_path}={lib_path}._modidx:d']},
    author=cfg['author'], author_email=cfg['author_email'], keywords=cfg['keywords'],
)
