"""Import your images and annotations into the layout our configs read.

    python tools/dataset_converters/import_dataset.py FORMAT SRC \\
        --images DIR --out OUT [--val SRC2 [--val-images DIR2] |
        --val-fraction F] [--split-seed S] [--classes a,b] \\
        [--group-by-prefix] [--class-attribute NAME] [--strict]

FORMAT: coco (a COCO file), via (a VIA 1.x/2.x JSON file), labelme (a
folder of labelme JSON files), voc (a folder of Pascal VOC XML files),
masks (a folder of label-map PNGs; --images holds the images, --classes
names the classes in index order), folders (one folder per class).
OUT gets the images (linked or copied), the annotations, dataset.json and
import_report.json. Bad records are skipped and named; exit status 0, or 2
with --strict when there is any (then nothing is written), 2 for an
annotation file that cannot be read at all, 1 for other errors (and when no
image is left for train).
"""
import argparse
import sys
from typing import List, Optional

from mmconvnextv2.datasets.importers import (DEFAULT_VAL_FRACTION, FORMATS,
                                             AnnotationFileError,
                                             format_summary, import_dataset)
from mmconvnextv2.utils.errors import exit_on_reported_errors, one_line

#: Exit status for bad records under --strict and unreadable annotation files.
EXIT_BAD_DATA = 2


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('format', choices=list(FORMATS))
    parser.add_argument('src', help='annotation file or folder')
    parser.add_argument('--images', help='image folder the annotation paths '
                        'are relative to (labelme, folders: SRC)')
    parser.add_argument('--out', required=True, help='folder to write')
    split = parser.add_mutually_exclusive_group()
    split.add_argument('--val', help='annotations of the val split')
    split.add_argument('--val-fraction', type=float,
                       help=f'share of SRC drawn into val (default '
                       f'{DEFAULT_VAL_FRACTION} without --val)')
    parser.add_argument('--val-images', help='image folder of --val '
                        '(default: --images; labelme, folders: --val)')
    parser.add_argument('--split-seed', type=int, default=0)
    parser.add_argument('--classes', help='comma-separated class names, in '
                        'this order; objects of other classes are skipped')
    parser.add_argument('--group-by-prefix', action='store_true',
                        help='keep frames whose names differ only in the '
                        'trailing number on one side of the split')
    parser.add_argument('--class-attribute',
                        help='via: the region attribute holding the class')
    parser.add_argument('--strict', action='store_true',
                        help='exit with 2 and write nothing if any record '
                        'is bad')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    classes = ([c.strip() for c in args.classes.split(',') if c.strip()]
               if args.classes else None)
    with exit_on_reported_errors():
        try:
            result = import_dataset(
                args.format, args.src, args.out, args.images, val=args.val,
                val_images=args.val_images, val_fraction=args.val_fraction,
                split_seed=args.split_seed, classes=classes,
                group_by_prefix=args.group_by_prefix,
                class_attribute=args.class_attribute, strict=args.strict)
        except AnnotationFileError as err:
            print(f'error: {one_line(err)}', file=sys.stderr)
            sys.exit(EXIT_BAD_DATA)
    print(format_summary(result))
    if result.problem:
        sys.exit(f'error: {result.problem}')
    if args.strict and len(result.bad):
        sys.exit(EXIT_BAD_DATA)


if __name__ == '__main__':
    main()
