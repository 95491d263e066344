"""Put ConvNeXt V2 into any mmdet or mmseg config with one command.

Writes a short config that inherits CONFIG (``_base_``) and states only what
changes: the backbone, every width and stage index that depends on it (found
by following the backbone's outputs through the model config, see the
``mmconvnextv2.swap`` package), the image normalisation of the ConvNeXt V2
checkpoints, and AdamW with mmdet's / mmseg's layer-wise lr decay. E.g.::

    python tools/misc/swap_backbone.py \\
        mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py --arch tiny \\
        --checkpoint convnextv2_tiny_1k_224_fcmae.pt --check

``--check`` builds the new model on CPU (SyncBN -> BN) and trains one step on
generated inputs. A config that cannot be swapped is refused in one line
naming the field (exit status 2), and nothing is written.
"""
import argparse
import ast
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Union

from mmengine.config import Config

import mmconvnextv2  # noqa: F401  (registers ConvNeXtV2)
from mmconvnextv2.swap import (SwapError, SwapResult, check_config, render,
                               resolve_config, swap_config)
from mmconvnextv2.utils import one_line


def parse_arch(text: str) -> Union[str, dict]:
    """``atto`` ... ``huge``, or a dict as Python or JSON text, e.g.
    ``"dict(depths=[2, 2, 6, 2], channels=[40, 80, 160, 320])"``."""
    text = text.strip()
    if text.isidentifier():
        return text
    node = ast.parse(text, mode='eval').body
    if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'dict' \
            and not node.args:
        return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    return ast.literal_eval(node)


def default_out(config: str, arch: Union[str, dict]) -> str:
    """``work_dirs/swapped/<config name>_convnext-v2-<arch>.py``."""
    name = osp.splitext(osp.basename(config.split('::')[-1]))[0]
    tag = arch if isinstance(arch, str) else 'custom'
    return osp.join('work_dirs', 'swapped', f'{name}_convnext-v2-{tag}.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='an mmdet / mmseg config: a path, or '
                        'mmdet::path/in/its/configs.py / mmseg::...')
    parser.add_argument('--arch', default='tiny', type=parse_arch,
                        help='atto ... huge, or "dict(depths=[...], '
                        'channels=[...])" (default: tiny)')
    parser.add_argument('--checkpoint', help='path or URL of ConvNeXt V2 '
                        'weights in any layout (init_cfg Pretrained)')
    parser.add_argument('--out', help='the config to write (default: '
                        'work_dirs/swapped/<name>_convnext-v2-<arch>.py)')
    parser.add_argument('--lr-decay', type=float, help='decay rate of the '
                        'layer-wise lr (default: 0.95 layer-wise for mmdet, '
                        '0.9 stage-wise for mmseg)')
    parser.add_argument('--drop-path-rate', type=float, default=0.1)
    parser.add_argument('--check', action='store_true', help='build the model '
                        'on CPU and run one loss step on generated inputs')
    parser.add_argument('--check-size', type=int, default=128,
                        help='image side of the --check inputs')
    return parser.parse_args(argv)


def print_result(out: str, result: SwapResult) -> None:
    """What was written and changed, and the notes."""
    print(f'wrote {out}')
    print(f'changed ({len(result.changes)}):')
    for change in result.changes:
        old, new = change.old, change.new
        if change.name.endswith('backbone'):
            old = old.get('type') if isinstance(old, dict) else old
            new = (f'{new["type"]} arch={new["arch"]} '
                   f'out_indices={new["out_indices"]}')
        print(f'  {change.name}: {old} -> {new}')
    for note in result.notes:
        print(f'note: {note}')


def run_check(out: str, size: int) -> int:
    """``--check`` with its one-line report; the exit status."""
    start = time.perf_counter()
    try:
        report = check_config(out, (size, size))
    except Exception as err:  # noqa: BLE001  (reported, exit status 1)
        print(f'check failed: {one_line(err, with_type=True)}', file=sys.stderr)
        return 1
    losses = ', '.join(f'{k}={v:.3f}' for k, v in report['losses'].items())
    print(f'check: built on CPU, {report["params"] / 1e6:.2f}M parameters, '
          f'weights {report["init"]}; one loss step of {report["trained"]} '
          f'({time.perf_counter() - start:.1f} s): {losses}')
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    out = args.out or default_out(args.config, args.arch)
    try:
        path, base = resolve_config(args.config, osp.dirname(osp.abspath(out)))
        result = swap_config(Config.fromfile(path), base, args.arch,
                             args.checkpoint, args.lr_decay, args.drop_path_rate)
    except SwapError as err:
        print(f'cannot swap {args.config}: {err}', file=sys.stderr)
        return 2
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write(render(result))
    print_result(out, result)
    return run_check(out, args.check_size) if args.check else 0


if __name__ == '__main__':
    sys.exit(main())
