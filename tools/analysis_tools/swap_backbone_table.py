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

The sweep itself is :mod:`mmconvnextv2.analysis.swap_sweep`, its table
:mod:`mmconvnextv2.analysis.swap_sweep_report`.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import mmconvnextv2  # noqa: F401  (registers ConvNeXtV2)
from mmconvnextv2.analysis.swap_sweep import families, sweep
from mmconvnextv2.analysis.swap_sweep_report import markdown


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def print_row(row: Dict) -> None:
    print(f'{row["family"]}: {row["status"]} {row.get("reason", "")} '
          f'({row["wall_s"]} s)', flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    json_path = args.json or osp.splitext(args.out)[0] + '.json'
    out_dir = osp.join(osp.dirname(osp.abspath(args.out)), 'swap_table_configs')
    rows = sweep(args.only or families(), json_path, out_dir, args.size,
                 args.retry_size, args.timeout, args.resume, on_row=print_row)
    with open(args.out, 'w') as f:
        f.write(markdown(rows, args.size, args.retry_size))
    print(f'wrote {args.out} and {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
