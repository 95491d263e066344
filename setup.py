"""Installation of mmconvnextv2: ConvNeXt V2 and FCMAE for OpenMMLab.

Like mmdet, mmseg and mmpretrain, the package carries its ``configs/``,
``tools/`` and ``model-index.yml`` under ``mmconvnextv2/.mim/``, where
``mim`` (``mim train/test/run/search mmconvnextv2 ...``) and mmengine's
``mmconvnextv2::`` config prefix look for them: copied into every wheel (by
``build_py``), linked to the clone's folders in an editable install.
"""
import os
import os.path as osp
import re
import shutil
import sys
from typing import Iterable

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = osp.dirname(osp.abspath(__file__))
PACKAGE = 'mmconvnextv2'
# what goes under mmconvnextv2/.mim/
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')
# never shipped from those folders
_MIM_IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.pth', '*.pt')


def read_version() -> str:
    """``__version__`` of mmconvnextv2/version.py, without importing the
    package (its dependencies need not be installed yet)."""
    with open(osp.join(ROOT, PACKAGE, 'version.py'), encoding='utf-8') as f:
        match = re.search(r"^__version__ = '([^']+)'", f.read(), re.M)
    if match is None:
        raise RuntimeError(f'no __version__ in {PACKAGE}/version.py')
    return match[1]


def copy_mim_items(target: str, items: Iterable[str] = MIM_ITEMS) -> None:
    """Copy ``items`` of the source tree into ``target`` (a ``.mim`` folder
    of a build directory), replacing what was there."""
    os.makedirs(target, exist_ok=True)
    for item in items:
        src, dst = osp.join(ROOT, item), osp.join(target, item)
        if not osp.exists(src):
            raise FileNotFoundError(f'{src} is missing: the package ships it')
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=_MIM_IGNORE)
        else:
            shutil.copyfile(src, dst)


def link_mim_items(items: Iterable[str] = MIM_ITEMS) -> None:
    """Editable install: ``mmconvnextv2/.mim/<item>`` -> ``../../<item>``
    (relative links, so that a moved clone keeps working). Left alone where
    the link is already right, so a re-install never disturbs a reader."""
    target = osp.join(ROOT, PACKAGE, '.mim')
    os.makedirs(target, exist_ok=True)
    for item in items:
        dst = osp.join(target, item)
        rel = osp.join('..', '..', item)
        if osp.islink(dst) and os.readlink(dst) == rel:
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        os.symlink(rel, dst)


class BuildPyWithMim(build_py):
    """``build_py`` that also puts ``configs/``, ``tools/`` and
    ``model-index.yml`` into the built package's ``.mim/`` (wheels; an
    editable build links them instead, see :func:`link_mim_items`)."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        copy_mim_items(osp.join(self.build_lib, PACKAGE, '.mim'))


class SdistWithMim(sdist):
    """``sdist`` whose tree also has ``mmconvnextv2/.mim/`` (copies), as an
    mmdet sdist does; the wheel built from it is filled by ``build_py``."""

    def make_release_tree(self, base_dir: str, files: list) -> None:
        super().make_release_tree(base_dir, files)
        copy_mim_items(osp.join(base_dir, PACKAGE, '.mim'))


if {'develop', 'editable_wheel'} & set(sys.argv[1:]):
    link_mim_items()

setup(
    name='mmconvnextv2',
    version=read_version(),
    description='ConvNeXt V2 and FCMAE pre-training for mmpretrain, mmdet and mmseg',
    long_description=open(osp.join(ROOT, 'README.md'), encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmconvnextv2', 'mmconvnextv2.*']),
    python_requires='>=3.8',
    # Ranges, not pins: a user with their own CUDA build installs into their env.
    # mmcv < 2.2 because mmdet 3.3 and mmseg 1.2 refuse 2.2.
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10,<1.0',
        'mmcv>=2.0,<2.2',
        'mmdet>=3.3,<3.4',
        'mmsegmentation>=1.2,<1.3',
        'mmpretrain>=1.2,<1.3',
        'pycocotools',
        'matplotlib',
        'safetensors',
        'ftfy',  # `import mmseg.datasets` needs it and mmseg does not declare it
        'regex',  # likewise
        # LoadAnyImageFromFile: TIFF frames of any depth and band count; a
        # pure-Python wheel needing only numpy (tested with 2026.3.3)
        'tifffile>=2023.7.10',
    ],
    extras_require={
        # timm and transformers are the independent oracles of the checkpoint
        # tests. transformers 5 removed helpers that mmpretrain 1.2.0's BLIP
        # module imports at `import mmpretrain.models` (it then fails with
        # "NoneType takes no arguments"): keep 4.x. pytest-xdist: `make test`
        # runs two worker processes of one thread each (-n 2 --dist
        # loadfile): in one process a core idles while a test waits on its
        # one-thread child tool. Pinned: 3.8.0's loadgroup does not group
        # under pytest 9.2 (it renames item._nodeid, which pytest no longer
        # reads); loadfile, by test file, works.
        'tests': ['pytest', 'pytest-xdist==3.8.0', 'timm',
                  'transformers==4.46.3'],
        # tools/deployment/export_onnx.py: writing (onnx) and the parity
        # check (onnxruntime). torch's TorchScript-based exporter is used,
        # so onnxscript (the dynamo exporter's dependency) is not needed.
        'export': ['onnx>=1.14', 'onnxruntime>=1.16'],
        # `mim train/test/run/search mmconvnextv2 ...` (OpenMMLab's launcher)
        'mim': ['openmim>=0.3.9'],
        # `make docs`: the strict build (-W -n) fails on any new warning, and
        # theme or parser releases change what they warn about, so the three
        # are pinned to the versions the docs were checked with.
        'docs': ['sphinx==9.0.4', 'myst-parser==5.2.0', 'furo==2025.12.19'],
    },
    license='MIT',
    cmdclass={'build_py': BuildPyWithMim, 'sdist': SdistWithMim},
    zip_safe=False,
)
