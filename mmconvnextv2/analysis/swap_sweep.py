"""The family sweep of ``tools/analysis_tools/swap_backbone_table.py``:
which stock mmdet / mmseg model families :mod:`mmconvnextv2.swap` puts
ConvNeXt V2 into.

For every folder of the installed mmdet and mmsegmentation ``.mim/configs``
(one folder = one family), the first config in name order that defines a
model stands for the family. In a forked process with a time limit
(:func:`run_family`), :func:`measure`:

1. builds the original model on CPU (SyncBN -> BN, no weights); a family
   whose original does not build is skipped, with the reason;
2. swaps the config (ConvNeXt V2-atto) and checks the new config as
   ``--check`` does: built, one loss step on generated inputs (batch 2, at
   ``size`` px, again at each retry size while that fails: some heads need
   larger maps);
3. when that step fails, runs the same step on the original config, so the
   table tells a failure of the swap from a model that does not train on CPU.

The table of the rows is :mod:`.swap_sweep_report`.
"""
import os
import os.path as osp
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from mmconvnextv2.runtime import drop_pretrained
from mmconvnextv2.swap import (SwapError, SwapResult, check_config,
                               installed_configs, render, resolve_config,
                               swap_config)
from mmconvnextv2.utils import (Stopwatch, build_model, one_line, read_json,
                                revert_sync_bn, write_json)

from .runner import call_with_timeout

__all__ = ['PACKAGES', 'reason', 'families', 'first_model_config',
           'measure', 'run_family', 'sweep']

PACKAGES = ('mmdet', 'mmseg')


def reason(err: BaseException) -> str:
    """A failure as the table shows it: ``TypeName: <first line>``."""
    return one_line(err, with_type=True, limit=200)


def families(packages: Sequence[str] = PACKAGES) -> List[str]:
    """``pkg/folder`` of every config folder but ``_base_``."""
    found = []
    for package in packages:
        root = installed_configs(package)
        found += [f'{package}/{name}' for name in sorted(os.listdir(root))
                  if osp.isdir(osp.join(root, name)) and name != '_base_']
    return found


def first_model_config(family: str) -> Optional[str]:
    """The first config (name order) of a family folder that has a model."""
    package, folder = family.split('/')
    root = osp.join(installed_configs(package), folder)
    for name in sorted(os.listdir(root)):
        if not name.endswith('.py'):
            continue
        try:
            cfg = Config.fromfile(osp.join(root, name))
        except Exception:  # noqa: BLE001  (a config that does not load)
            continue
        if isinstance(cfg.get('model'), dict) and 'type' in cfg.model:
            return f'{package}::{folder}/{name}'
    return None


# --------------------------------------------------------------- one family
def build_original(path: str) -> None:
    """Build the original model on CPU: no weights, BN for SyncBN."""
    cfg = Config.fromfile(path)
    drop_pretrained(cfg.model)
    revert_sync_bn(cfg.model)
    build_model(cfg, init=False)


def swap_family(family: str, config: str, path: str,
                out_dir: str) -> Tuple[str, SwapResult]:
    """Swap ConvNeXt V2-atto into the family's config; write the new config
    to ``out_dir/<pkg>_<folder>.py`` and return its path and the result."""
    _, base = resolve_config(config, out_dir)
    result = swap_config(Config.fromfile(path), base, 'atto')
    out = osp.join(out_dir, family.replace('/', '_') + '.py')
    with open(out, 'w') as f:
        f.write(render(result))
    return out, result


def check_at_sizes(row: Dict, out: str,
                   sizes: Sequence[int]) -> Optional[Dict]:
    """The check of ``out`` at each side in ``sizes`` until one passes: its
    report (``row['size']`` set), or None (the last failure in ``row``)."""
    for side in dict.fromkeys(sizes):
        try:
            report = check_config(out, (side, side))
            row['size'] = side
            return report
        except Exception as err:  # noqa: BLE001
            row.update(status='check failed', reason=reason(err),
                       trace=traceback.format_exc()[-2000:])
    return None


def original_step(path: str, side: int) -> str:
    """Whether the original config passes the same check."""
    try:
        check_config(path, (side, side))
        return 'passes'
    except Exception as original:  # noqa: BLE001
        return f'fails too: {reason(original)}'


def measure(family: str, out_dir: str, size: int,
            retry_size: Sequence[int]) -> Dict:
    """One family: original build, swap, check (see the module docstring)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    config = first_model_config(family)
    row: Dict = dict(family=family, config=config)
    if config is None:
        return dict(row, status='skipped', reason='no config with a model')
    package, rel = config.split('::')
    path = osp.join(installed_configs(package), rel)
    try:
        build_original(path)
    except Exception as err:  # noqa: BLE001
        return dict(row, status='skipped',
                    reason=f'original does not build on CPU: {reason(err)}')
    row['original_build_s'] = round(time.perf_counter() - start, 1)
    try:
        out, result = swap_family(family, config, path, out_dir)
    except SwapError as err:
        return dict(row, status='refused', reason=str(err))
    except Exception as err:  # noqa: BLE001
        return dict(row, status='error', reason=reason(err),
                    trace=traceback.format_exc()[-2000:])
    row['changed'] = [c.name for c in result.changes]
    report = check_at_sizes(row, out, (size, *retry_size))
    if report is None:
        row['original_step'] = original_step(path, retry_size[0])
        return row
    row.pop('reason', None)
    row.pop('trace', None)
    row.update(status='ok', params=report['params'], trained=report['trained'],
               losses=report['losses'])
    row['seconds'] = round(time.perf_counter() - start, 1)
    return row


def run_family(family: str, out_dir: str, size: int,
               retry_size: Sequence[int], timeout: float) -> Dict:
    """:func:`measure` in a forked process, killed after ``timeout``
    seconds; ``wall_s`` is its wall time."""
    with Stopwatch() as watch:
        outcome, value = call_with_timeout(
            measure, (family, out_dir, size, retry_size), timeout)
    if outcome == 'ok':
        row = value
    elif outcome == 'error':
        row = dict(family=family, status='error', reason=reason(value))
    elif outcome == 'timeout':
        row = dict(family=family, status='error',
                   reason=f'timed out after {timeout:.0f} s')
    else:
        row = dict(family=family, status='error',
                   reason=f'process died (exit code {value})')
    row['wall_s'] = round(watch.seconds, 1)
    return row


def sweep(names: Sequence[str], json_path: str, out_dir: str, size: int,
          retry_size: Sequence[int], timeout: float, resume: bool = False,
          on_row: Optional[Callable[[Dict], None]] = None) -> List[Dict]:
    """:func:`run_family` for each family in ``names`` (with ``resume``,
    not those already in ``json_path``); the rows go to ``json_path`` after
    each family and to ``on_row``. Returns all rows in family order."""
    os.makedirs(out_dir, exist_ok=True)
    rows: Dict[str, Dict] = {}
    if resume:
        rows = {r['family']: r for r in (read_json(json_path) or {}).get(
            'rows', [])}
    torch.set_num_threads(1)
    for family in names:
        if family in rows:
            continue
        row = run_family(family, out_dir, size, retry_size, timeout)
        rows[family] = row
        if on_row:
            on_row(row)
        write_json(json_path, dict(size=size, rows=list(rows.values())),
                   indent=1)
    return [rows[k] for k in sorted(rows)]
