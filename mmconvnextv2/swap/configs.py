"""Where the original config is found, and how the written config names it."""
import importlib.util
import os.path as osp
import re
from typing import Tuple

from .tree import SwapError

__all__ = ['installed_configs', 'resolve_config']


def installed_configs(package: str) -> str:
    """The config folder an OpenMMLab wheel ships (``<pkg>/.mim/configs``)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SwapError(f'package {package!r} is not installed')
    return osp.join(osp.dirname(spec.origin), '.mim', 'configs')


def resolve_config(name: str, out_dir: str) -> Tuple[str, str]:
    """The file of ``name`` (a path or ``mmdet::rel/path.py``) and how the
    written config refers to it in ``_base_``: the ``pkg::`` form for a
    packaged config (unless its folder has a name mmengine's ``pkg::``
    parser rejects, such as ``gn+ws``), else a path relative to
    ``out_dir``."""
    if '::' in name:
        package, rel = name.split('::', 1)
        path = osp.join(installed_configs(package), rel)
        if not osp.isfile(path):
            raise SwapError(f'{name}: no such config in {package}')
    else:
        path = osp.abspath(name)
        if not osp.isfile(path):
            raise SwapError(f'{name}: no such config file')
    match = re.search(r'[/\\](mm\w+)[/\\]\.mim[/\\]configs[/\\](\w+[/\\].+)$',
                      path)
    if match:  # the pkg:: form where mmengine can read it (\w+ folders)
        return path, f'{match.group(1)}::{match.group(2)}'.replace('\\', '/')
    return path, osp.relpath(path, osp.abspath(out_dir)).replace('\\', '/')
