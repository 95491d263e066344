"""Paths into a model config tree, and the one error the swap raises."""
import re
from typing import Any, Optional, Tuple, Union

__all__ = ['SwapError', 'Path', 'WIDTH_KEY', 'OTHER_WIDTH_KEY', 'NOT_MODULES',
           'dotted', 'plain', 'get_path', 'locate']

#: ``in_channels``, ``c1_in_channels``: the widths a module reads
WIDTH_KEY = re.compile(r'^(?:(\w+)_)?in_channels$')
#: widths that are not inputs
OTHER_WIDTH_KEY = re.compile(r'(channels|_dims?)$')
#: keys of a model dict that hold no module reading the backbone's outputs
NOT_MODULES = ('backbone', 'neck', 'data_preprocessor', 'train_cfg', 'test_cfg',
               'init_cfg', 'pretrained')
#: keys and list positions from the config root, e.g. ``('model', 'neck')``
Path = Tuple[Union[str, int], ...]


class SwapError(ValueError):
    """The config cannot be swapped; the message is one line naming the field."""


def dotted(path: Path) -> str:
    """``('model', 'decode_head', 1, 'in_channels')`` ->
    ``model.decode_head[1].in_channels``."""
    text = ''
    for part in path:
        text += f'[{part}]' if isinstance(part, int) else f'.{part}'
    return text.lstrip('.')


def plain(value: Any) -> Any:
    """ConfigDicts and tuples-in-lists as plain Python values."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def get_path(root: Any, path: Path) -> Any:
    """The value at ``path`` inside nested dicts and lists."""
    for part in path:
        root = root[part]
    return root


def locate(root: Any, target: dict, path: Path) -> Optional[Path]:
    """Path of the dict ``target`` inside ``root`` (identity)."""
    if root is target:
        return path
    items = root.items() if isinstance(root, dict) else enumerate(root) \
        if isinstance(root, (list, tuple)) else ()
    for key, value in items:
        if isinstance(value, (dict, list, tuple)):
            found = locate(value, target, path + (key, ))
            if found is not None:
                return found
    return None
