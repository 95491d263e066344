"""Sphinx configuration of the mmconvnextv2 docs (``make docs``).

The build is strict (``-W --keep-going -n``): every warning fails it,
including a cross-reference that resolves to nothing. Only references to
other projects' types are let through (``nitpick_ignore_regex``): the docs
are built offline, so there is no intersphinx inventory to resolve them.
"""
import os
import os.path as osp
import sys

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(DOCS, '_ext'))

from mmconvnextv2.version import __version__  # noqa: E402

project = 'mmconvnextv2'
author = 'mmconvnextv2 contributors'
copyright = 'mmconvnextv2 contributors; ConvNeXt V2 weights: Meta, CC-BY-NC 4.0'
version = release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'mmcnx_docs',  # docs/_ext: model zoo and API pages generated at build time
]

source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
root_doc = 'index'
# docs/collapse/ is written by the feature-collapse study: not pages of their
# own; user_guides/feature_collapse.md shows what it holds (docs/_ext).
# swap_backbone_families.md is written by swap_backbone_table.py (no title of
# its own): user_guides/swap_families.md includes it.
exclude_patterns = ['_build', '_generated', 'collapse',
                    'swap_backbone_families.md', 'Thumbs.db', '.DS_Store']

myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3

# Google-style docstrings (``Args:``, ``Returns:``) through napoleon.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# ``Attributes:`` as fields of the class, not as second descriptions of the
# attributes autodoc documents anyway (dataclass fields)
napoleon_use_ivar = True
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = {'undoc-members': True}
# mmengine's Hook methods that our hooks override keep their own docstrings
# (which speak mmengine's types); ours are documented by what they add.
autodoc_inherit_docstrings = False
# Importing the package pulls in torch and the OpenMMLab stacks; nothing is
# mocked, so the reference documents what an installed package really has.

html_theme = 'furo'
html_title = f'mmconvnextv2 {release}'
html_static_path = []

nitpicky = True
# Types of other projects (no network, so no intersphinx inventories).
# Names of this package are never silenced.
_EXTERNAL = (r'torch', r'mmengine', r'mmcv', r'mmdet', r'mmseg', r'mmpretrain',
             r'numpy', r'np', r'typing', r'collections', r'argparse',
             r'pathlib', r'PIL', r'matplotlib', r'onnx', r'onnxruntime',
             r'concurrent', r'subprocess', r'multiprocessing', r'logging',
             r'io', r'os', r'types', r'enum', r'abc', r'signal', r'dataclasses',
             r'threading', r'datetime', r'contextlib', r'json', r're', r'random',
             r'yaml', r'tqdm', r'safetensors', r'timm', r'transformers',
             r'xml', r'tifffile', r'cv2')
_BUILTINS = (r'int', r'float', r'str', r'bool', r'bytes', r'dict', r'list',
             r'tuple', r'set', r'frozenset', r'object', r'type', r'None',
             r'Exception', r'RuntimeError', r'ValueError', r'KeyError',
             r'OSError', r'TypeError', r'FileNotFoundError', r'SystemExit',
             r'ImportError', r'callable', r'Ellipsis', r'NoneType',
             r'BaseException', r'IOError', r'PermissionError')
nitpick_ignore_regex = [
    (r'py:.*', r'(%s)(\..*)?' % '|'.join(_EXTERNAL)),
    (r'py:.*', r'(builtins\.)?(%s)' % '|'.join(_BUILTINS)),
    # typing's names as they print in signatures (Optional, Sequence, ...)
    (r'py:.*', r'(Any|Optional|Union|List|Dict|Tuple|Sequence|Iterable|'
               r'Iterator|Callable|Mapping|Set|Type|Generator|Literal|'
               r'NamedTuple|MutableMapping|ContextManager)'),
]
