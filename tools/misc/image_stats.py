"""Mean and std per channel of a folder of images, for a config's
``data_preprocessor`` (as the importer writes them into ``dataset.json``).

    python tools/misc/image_stats.py DIR [--out stats.json]

Every TIFF, PNG, JPEG, ``.npy`` ... file under DIR is read at its stored
depth and band count (as ``LoadAnyImageFromFile`` reads it). Printed (and
written to ``--out``): the image count, ``channels``, ``dtype``, ``mean``
and ``std`` per channel (grey and colour in RGB order, other bands in their
stored order) and the image sizes, as JSON. Exit status 1 with one line for
a file that does not decode or band counts that do not mix.
"""
import argparse
import json
import sys
from typing import List, Optional

from mmconvnextv2.datasets.importers.statistics import folder_figures
from mmconvnextv2.utils import one_line, write_json


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folder', help='the folder of images (recursive)')
    parser.add_argument('--out', help='also write the figures to this JSON')
    args = parser.parse_args(argv)
    try:
        figures = folder_figures(args.folder)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {one_line(err)}')
    print(json.dumps(figures, indent=2))
    if args.out:
        write_json(args.out, figures)


if __name__ == '__main__':
    main()
