"""Reading checkpoint files: torch pickles (local or remote) and safetensors."""
import logging
import os
import os.path as osp
import pickle
import re
from importlib import import_module
from typing import Any, Dict, List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from ..utils.errors import reported
from ..utils.paths import is_remote

# file names that ``save_pretrained`` (Hugging Face) writes into a directory
HF_WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin')

# Python objects, besides tensors, that checkpoints commonly hold and that
# are harmless to rebuild (numpy scalars/arrays in mmengine's ``meta``, the
# official scripts' ``args``).
_BENIGN_GLOBALS = {
    'argparse.Namespace',
    'collections.OrderedDict',
    'numpy.dtype',
    'numpy.ndarray',
    'numpy.core.multiarray._reconstruct',
    'numpy.core.multiarray.scalar',
    'numpy._core.multiarray._reconstruct',
    'numpy._core.multiarray.scalar',
}
_BENIGN_PATTERN = re.compile(r'^numpy\.dtypes\.\w+DType$')

# Globals whose only use in a pickle is to run something: a checkpoint that
# names one is refused (none is ever imported or called here).
_CODE_MODULES = {
    'os', 'posix', 'nt', 'subprocess', 'sys', 'shutil', 'importlib', 'runpy',
    'pickle', '_pickle', 'marshal', 'types', 'ctypes', 'socket', 'pty', 'code',
    'codeop', 'webbrowser', 'operator', 'functools', 'io', '_io', 'pathlib',
    'tempfile', 'platform', 'multiprocessing', 'asyncio', 'signal',
    'threading', '_thread', 'pdb', 'bdb', 'timeit', 'commands', 'popen2',
    'posixpath', 'ntpath', 'glob', 'urllib', 'http', 'ftplib', 'smtplib',
    'telnetlib', 'requests', 'dill', 'cloudpickle', 'joblib', 'zipimport',
    'pkgutil', 'site', 'distutils', 'setuptools', 'pip', 'ensurepip',
    'inspect', 'gc', 'weakref', 'copyreg', '_posixsubprocess', 'nturl2path',
}
# builtins that plain data may use when unpickled
_DATA_BUILTINS = {
    'getattr', 'set', 'frozenset', 'slice', 'complex', 'bytearray', 'range',
    'tuple', 'list', 'dict', 'int', 'float', 'str', 'bytes', 'bool', 'object',
}


@reported
class CheckpointReadError(ValueError):
    """A file that is not a readable checkpoint."""


class UnsafeCheckpointError(CheckpointReadError):
    """A checkpoint whose unpickling would run code; it is not loaded."""


@reported
class CheckpointMismatchError(ValueError):
    """A readable checkpoint that does not fit the model: no known ConvNeXt
    V2 layout, no backbone weights, or another size or decoder."""


def _runs_code(name: str) -> bool:
    """Whether the pickled global ``name`` (``module.attr``) can only be
    there to run something (``posix.system``, ``builtins.eval`` ...)."""
    module, _, attr = name.rpartition('.')
    if module in ('builtins', '__builtin__'):
        return attr not in _DATA_BUILTINS
    return module.split('.')[0] in _CODE_MODULES


class OpaqueObject:
    """Stands in for a Python object of a checkpoint that is not rebuilt (a
    class or function outside the allow-list, e.g. mmengine's message hub
    buffers): it only records the arguments it was given, so reading the
    file runs no code of the file's choosing."""

    qualified_name = '?'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f'<opaque {self.qualified_name}>'


def _stand_in(name: str) -> type:
    return type(name.rpartition('.')[2], (OpaqueObject, ),
                dict(qualified_name=name))


def _resolve_local(filename: Union[str, os.PathLike]) -> str:
    """Expand ``~``; a directory stands for the weights ``save_pretrained``
    wrote into it. Raise FileNotFoundError naming the path if absent."""
    path = osp.expanduser(os.fspath(filename))
    if osp.isdir(path):
        for name in HF_WEIGHT_FILES:
            candidate = osp.join(path, name)
            if osp.isfile(candidate):
                return candidate
        raise FileNotFoundError(
            f'checkpoint directory {path!r} holds none of {list(HF_WEIGHT_FILES)}'
            ' (sharded Hugging Face checkpoints are not supported)')
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    return path


def _import_global(name: str) -> Any:
    module, _, attr = name.rpartition('.')
    return getattr(import_module(module), attr)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _load_torch_file(path: str, map_location: Optional[str]) -> Any:
    """``torch.load`` (weights only) on a local torch file. When the
    weights-only unpickler refuses the file's Python objects, refuse files
    that name code to run; otherwise retry with a few benign types allowed
    and every other global replaced by an :class:`OpaqueObject`."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if 'weights only' not in str(err).lower():
            raise CheckpointReadError(
                f'could not read checkpoint {path!r}: {_first_line(err)}'
            ) from err
        # else retry below, with the file's globals allowed or stood in for
    except Exception as err:  # torch.load fails in many ways on a bad file
        raise CheckpointReadError(
            f'could not read checkpoint {path!r} (not a torch checkpoint, or '
            f'truncated): {_first_line(err)}') from err
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as err:
        raise CheckpointReadError(
            f'could not read checkpoint {path!r}: {_first_line(err)}') from err
    dangerous = [name for name in needed if _runs_code(name)]
    if dangerous:
        raise UnsafeCheckpointError(
            f'refusing checkpoint {path!r}: unpickling it would call '
            f'{", ".join(dangerous)} (a checkpoint must hold data only; '
            'nothing was run)')
    allowed = []
    for name in needed:
        if name in _BENIGN_GLOBALS or _BENIGN_PATTERN.match(name):
            allowed.append(_import_global(name))
        else:
            allowed.append((_stand_in(name), name))
    if 'numpy.dtype' in needed:  # dtype instances are built on their classes
        import numpy
        allowed += [cls for cls in vars(getattr(numpy, 'dtypes', object)).values()
                    if isinstance(cls, type) and issubclass(cls, numpy.dtype)]
    opaque = [name for name, obj in zip(needed, allowed) if isinstance(obj, tuple)]
    if opaque:
        print_log(f'{path}: Python objects of type {opaque} are read as '
                  'opaque placeholders (only the tensors are needed)',
                  logger='current', level=logging.DEBUG)
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except Exception as err:
        raise CheckpointReadError(
            f'could not read checkpoint {path!r} with the weights-only '
            f'unpickler ({_first_line(err)}); if you trust the file, re-save '
            'its weights') from err


def _load_safetensors(path_or_bytes: Union[str, bytes],
                      map_location: Optional[str], name: str) -> Dict[str, Any]:
    try:
        from safetensors.torch import load, load_file
    except ImportError as err:  # pragma: no cover - depends on the env
        raise ImportError(f'reading {name!r} needs the "safetensors" package '
                          '(pip install safetensors)') from err
    device = map_location if isinstance(map_location, str) else 'cpu'
    try:
        if isinstance(path_or_bytes, bytes):
            state = load(path_or_bytes)
            return {k: v.to(device) for k, v in state.items()}
        return load_file(path_or_bytes, device=device)
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointReadError(
            f'could not read safetensors file {name!r}: {err}') from err


def read_checkpoint(filename: Union[str, os.PathLike],
                    map_location: Optional[str] = 'cpu') -> Dict[str, Any]:
    """Read a checkpoint into a dict, whatever its container.

    Args:
        filename: A local path (a torch file, a ``.safetensors`` file, or a
            directory written by Hugging Face ``save_pretrained``) or a URI
            that mmengine's ``CheckpointLoader`` understands (``https://``,
            ``open-mmlab://``, ``s3://`` ...).
        map_location: Where to put the tensors, as for :func:`torch.load`.

    Returns:
        The checkpoint's top-level dict (a state dict, or a dict holding one
        under ``state_dict``/``model``).

    Raises:
        FileNotFoundError: A local path that does not exist.
        ValueError: A file that is not a readable checkpoint.
    """
    name = os.fspath(filename)
    if is_remote(name):
        if name.endswith('.safetensors'):
            from mmengine.fileio import get
            ckpt = _load_safetensors(get(name), map_location, name)
        else:
            ckpt = CheckpointLoader.load_checkpoint(name, map_location=map_location)
    else:
        path = _resolve_local(name)
        if path.endswith('.safetensors'):
            ckpt = _load_safetensors(path, map_location, path)
        else:
            ckpt = _load_torch_file(path, map_location)
    if not isinstance(ckpt, dict):
        raise CheckpointReadError(f'checkpoint {name!r} holds a {type(ckpt).__name__}, '
                         'not a dict of weights')
    return ckpt


def _load_local_for_mmengine(filename: str, map_location=None) -> Any:
    """mmengine's loader of local files (``load_from``, ``--resume``,
    ``init_cfg`` of upstream models): :func:`read_checkpoint`."""
    return read_checkpoint(filename, map_location=map_location)


def use_for_mmengine() -> None:
    """Make mmengine's ``CheckpointLoader`` read every local file through
    :func:`read_checkpoint` (weights only, code-running pickles refused)."""
    CheckpointLoader.register_scheme(prefixes='', loader=_load_local_for_mmengine,
                                     force=True)


__all__: List[str] = ['read_checkpoint', 'HF_WEIGHT_FILES',
                      'CheckpointReadError', 'UnsafeCheckpointError',
                      'use_for_mmengine']
