"""Which stock mmdet / mmseg model families ``tools/misc/swap_backbone.py``
swaps ConvNeXt V2 into, measured on this machine.

For every folder of the installed mmdet and mmsegmentation ``.mim/configs``
(one folder = one family), the first config in name order that defines a
model stands for the family. In a forked process with a time limit:

1. the original model is built on CPU (SyncBN -> BN, no weights); a family
   whose original does not build is skipped, with the reason;
2. the config is swapped (ConvNeXt V2-atto) and the new config is checked as
   ``--check`` does: built, one loss step on generated inputs (batch 2,
   ``--size`` px, again at each ``--retry-size`` (320, 512, 1024) while that
   fails: some heads need larger maps);
3. when that step fails, the original config runs the same step, so the
   table tells a failure of the swap from a model that does not train on CPU.

Writes a Markdown table (rate = swapped and checked / families whose
original builds, failures with their reasons) and the rows as JSON::

    python tools/analysis_tools/swap_backbone_table.py work_dirs/swap_table.md
"""
import argparse
import json
import multiprocessing
import os
import os.path as osp
import sys
import time
import traceback
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config

import mmconvnextv2  # noqa: F401  (registers ConvNeXtV2)
from mmconvnextv2.runtime import _revert_sync_bn, drop_pretrained
from mmconvnextv2.swap import (SwapError, check_config, installed_configs,
                               render, resolve_config, swap_config)
from mmconvnextv2.testing import build_model

PACKAGES = ('mmdet', 'mmseg')


def families(packages=PACKAGES) -> List[str]:
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


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[0][:200] if text else ""}'


def measure(family: str, out_dir: str, size: int,
            retry_size: Sequence[int]) -> Dict:
    """One family: original build, swap, check (see the module docstring)."""
    torch.set_num_threads(1)
    row: Dict = dict(family=family, config=None)
    start = time.perf_counter()
    config = first_model_config(family)
    row['config'] = config
    if config is None:
        return dict(row, status='skipped', reason='no config with a model')
    package, rel = config.split('::')
    path = osp.join(installed_configs(package), rel)
    try:
        cfg = Config.fromfile(path)
        drop_pretrained(cfg.model)
        _revert_sync_bn(cfg.model)
        build_model(cfg, init=False)
    except Exception as err:  # noqa: BLE001
        return dict(row, status='skipped',
                    reason=f'original does not build on CPU: {one_line(err)}')
    row['original_build_s'] = round(time.perf_counter() - start, 1)
    try:
        _, base = resolve_config(config, out_dir)
        result = swap_config(Config.fromfile(path), base, 'atto')
    except SwapError as err:
        return dict(row, status='refused', reason=str(err))
    except Exception as err:  # noqa: BLE001
        return dict(row, status='error', reason=one_line(err),
                    trace=traceback.format_exc()[-2000:])
    out = osp.join(out_dir, family.replace('/', '_') + '.py')
    with open(out, 'w') as f:
        f.write(render(result))
    row['changed'] = [c.name for c in result.changes]
    report = None
    for side in dict.fromkeys((size, *retry_size)):
        try:
            report = check_config(out, (side, side))
            row['size'] = side
            break
        except Exception as err:  # noqa: BLE001
            row.update(status='check failed', reason=one_line(err),
                       trace=traceback.format_exc()[-2000:])
    if report is None:
        try:
            check_config(path, (retry_size[0], retry_size[0]))
            row['original_step'] = 'passes'
        except Exception as original:  # noqa: BLE001
            row['original_step'] = f'fails too: {one_line(original)}'
        return row
    row.pop('reason', None)
    row.pop('trace', None)
    row.update(status='ok', params=report['params'], trained=report['trained'],
               losses=report['losses'])
    row['seconds'] = round(time.perf_counter() - start, 1)
    return row


def _child(family: str, out_dir: str, size: int, retry_size: Sequence[int],
           conn) -> None:
    try:
        conn.send(measure(family, out_dir, size, retry_size))
    except BaseException as err:  # noqa: BLE001
        conn.send(dict(family=family, status='error', reason=one_line(err)))


def run_family(family: str, out_dir: str, size: int,
               retry_size: Sequence[int],
               timeout: float) -> Dict:
    """``measure`` in a forked process, killed after ``timeout`` seconds."""
    ctx = multiprocessing.get_context('fork')
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(family, out_dir, size, retry_size, send))
    start = time.perf_counter()
    proc.start()
    row = None
    if receive.poll(timeout):
        try:
            row = receive.recv()
        except EOFError:
            row = None
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if row is None:
        row = dict(family=family, status='error',
                   reason=f'timed out after {timeout:.0f} s' if
                   time.perf_counter() - start >= timeout else
                   f'process died (exit code {proc.exitcode})')
    row['wall_s'] = round(time.perf_counter() - start, 1)
    return row


def markdown(rows: List[Dict], size: int, retry: Sequence[int]) -> str:
    """The table, its rate and the failures."""
    built = [r for r in rows if r['status'] != 'skipped']
    ok = [r for r in built if r['status'] == 'ok']
    rate = len(ok) / len(built) if built else 0.
    lines = [
        '| family | config | result | detail |', '|---|---|---|---|']
    for r in rows:
        config = (r.get('config') or '').split('/', 1)[-1]
        if r['status'] == 'ok':
            detail = (f'{r["params"] / 1e6:.1f}M params, {r["size"]} px, '
                      f'{len(r["changed"])} fields changed'
                      + (f', trained {r["trained"]}'
                         if r.get('trained', 'model') != 'model' else ''))
        else:
            detail = r.get('reason', '')
            if r.get('original_step'):
                detail += f' (original on CPU: {r["original_step"]})'
        detail = detail.replace('|', '\\|')
        lines.append(f'| {r["family"]} | {config} | {r["status"]} | {detail} |')
    failures = [r for r in built if r['status'] != 'ok']
    head = [
        f'Swapped (ConvNeXt V2-atto) and checked (CPU build + one loss step, '
        f'batch 2, {size} px, or {" / ".join(map(str, retry))} px where '
        f'{size} is too small for the head): **{len(ok)} / {len(built)} families = '
        f'{100 * rate:.1f}%** of those whose original model builds on CPU '
        f'({len(rows) - len(built)} of {len(rows)} families skipped: their '
        'original does not build here or the folder has no model config).',
        '',
        f'Failures ({len(failures)}):', '']
    head += [f'- {r["family"]}: {r["status"]}: {r.get("reason", "")}'
             + (f' (original on CPU: {r["original_step"]})'
                if r.get('original_step') else '') for r in failures]
    head += ['', 'Skipped:', '']
    head += [f'- {r["family"]}: {r.get("reason", "")}'
             for r in rows if r['status'] == 'skipped']
    return '\n'.join(head + [''] + lines) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='the Markdown table to write')
    parser.add_argument('--json', help='the rows (default: OUT with .json)')
    parser.add_argument('--only', nargs='+', help='families, e.g. mmdet/atss')
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--retry-size', type=int, nargs='+',
                        default=[320, 512, 1024],
                        help='image sides of further tries when the step '
                        'fails at --size (heads that need larger maps)')
    parser.add_argument('--timeout', type=float, default=300)
    parser.add_argument('--resume', action='store_true',
                        help='keep the rows already in the JSON file')
    args = parser.parse_args(argv)
    json_path = args.json or osp.splitext(args.out)[0] + '.json'
    out_dir = osp.join(osp.dirname(osp.abspath(args.out)), 'swap_table_configs')
    os.makedirs(out_dir, exist_ok=True)
    rows: Dict[str, Dict] = {}
    if args.resume and osp.exists(json_path):
        with open(json_path) as f:
            rows = {r['family']: r for r in json.load(f)['rows']}
    torch.set_num_threads(1)
    for family in args.only or families():
        if family in rows:
            continue
        row = run_family(family, out_dir, args.size, args.retry_size,
                         args.timeout)
        rows[family] = row
        print(f'{family}: {row["status"]} {row.get("reason", "")} '
              f'({row["wall_s"]} s)', flush=True)
        with open(json_path, 'w') as f:
            json.dump(dict(size=args.size, rows=list(rows.values())), f,
                      indent=1)
    ordered = [rows[k] for k in sorted(rows)]
    with open(args.out, 'w') as f:
        f.write(markdown(ordered, args.size, args.retry_size))
    print(f'wrote {args.out} and {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
