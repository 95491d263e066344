"""``_base_ = ['mmconvnextv2::<folder>/<config>.py']``: our configs as bases.

mmengine 0.10.7 resolves a ``pkg::`` base only for the packages of its
hard-coded table (``mmengine.config.utils.MODULE2PACKAGE``): it finds the
package with ``get_installed_path`` and reads mim's layout,
``<package>/.mim/configs/<path>`` (which our wheels ship), and tags every
typed dict of such a base with ``_scope_=pkg``. Adding ``mmconvnextv2`` to
that table is not enough:

- our configs span three tasks, their own ``default_scope`` (mmpretrain,
  mmdet or mmseg) names the registries, and a ``_scope_='mmconvnextv2'``
  tag makes mmengine look for registries of that name, fall back to the root
  ones and fail (``PackSegInputs is not in the transform registry``) or,
  worse, build a same-named transform of another package;
- in an editable install (PEP 660) mmengine's ``get_installed_path`` answers a
  folder of site-packages that does not exist.

So :func:`register_config_prefix` (run by ``import mmconvnextv2``) routes
this one prefix around mmengine's ``Config._get_cfg_path``, through the
guarded attachment
:func:`mmconvnextv2.engine.wiring.route_config_prefix`: a
``mmconvnextv2::`` base resolves to the package's ``.mim/configs`` (a wheel's
copy, or the clone's folder through the editable install's links) and is
read as a local base is, with no ``_scope_`` tag. Every other path goes to
mmengine unchanged. The package must be imported before the config is read:
our tools and ``mim train/test mmconvnextv2`` do; a stock script needs an
``import mmconvnextv2`` first (``custom_imports`` is read too late, after
the bases).
"""
import os.path as osp

PREFIX = 'mmconvnextv2::'


def config_root() -> str:
    """The folder of our configs: the package's ``.mim/configs`` (wheel,
    editable install), else the ``configs/`` of the clone the package was
    imported from (a clone on ``PYTHONPATH``, never installed)."""
    package = osp.dirname(osp.abspath(__file__))
    for root in (osp.join(package, '.mim', 'configs'),
                 osp.join(osp.dirname(package), 'configs')):
        if osp.isdir(root):
            return root
    raise FileNotFoundError(
        f'no configs beside the mmconvnextv2 package at {package}: neither '
        '.mim/configs (install it with pip) nor ../configs')


def resolve_config(cfg_path: str) -> str:
    """``'mmconvnextv2::upernet/x.py'`` -> the absolute path of that config.

    Raises:
        FileNotFoundError: No such shipped config (one line, naming it).
    """
    if not cfg_path.startswith(PREFIX):
        raise ValueError(f'{cfg_path!r} does not start with {PREFIX!r}')
    relative = cfg_path[len(PREFIX):]
    root = config_root()
    path = osp.normpath(osp.join(root, relative))
    if not path.startswith(osp.normpath(root) + osp.sep):
        raise FileNotFoundError(f'{cfg_path}: outside the shipped configs')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{cfg_path}: no such config in {root}')
    return path


def register_config_prefix() -> None:
    """Make mmengine's ``Config`` read ``mmconvnextv2::`` bases from
    :func:`resolve_config`, as local bases (idempotent).

    Raises:
        MMEngineChangedError: The installed mmengine changed what the
            attachment relies on (one line).
    """
    from .engine.wiring import route_config_prefix
    route_config_prefix(PREFIX, resolve_config)


__all__ = ['PREFIX', 'config_root', 'resolve_config', 'register_config_prefix']
