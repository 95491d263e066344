"""ConvNeXt V1 vs V2 under FCMAE: does GRN prevent feature collapse here?

``make collapse`` runs this: FCMAE pre-training of V1-atto and V2-atto on the
quickstart's unlabelled pool, with the quickstart's FCMAE config (V1: its
twin) for the config's own length (1000 iterations) and the quickstart's seed
(a finished V2 run of that length in the quickstart's folder is reused), then the
feature-collapse analysis of V1/V2 x random/FCMAE on the quickstart's
validation images. Writes ``work_dirs/collapse/study.md`` / ``study.json``
and, per tap, ``<tap>/collapse.png`` (Figure 4 style) and
``<tap>/activations.png`` (Figure 3 style). ``--images DIR`` pre-trains both
on a folder of your frames instead and measures on the same frames;
``--pretrain-iters`` sets the budget (the schedule stretched to it)::

    python tools/analysis_tools/collapse_study.py            # the study (make collapse)
    python tools/analysis_tools/collapse_study.py --images frames/ --pretrain-iters 2500
    python tools/analysis_tools/collapse_study.py --smoke    # tiny budget (tests)
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

from mmconvnextv2.analysis import quickstart  # its config, data, budget
from mmconvnextv2.analysis.collapse_frames import (frame_options,
                                                   image_folder, parse_ratio)
from mmconvnextv2.analysis.collapse_study import collapse_study
from mmconvnextv2.analysis.collapse_study_report import study_markdown
from mmconvnextv2.analysis.collapse_taps import TAPS
from mmconvnextv2.analysis.runner import data_options, repo_root

ROOT = repo_root()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seed', type=int, default=0,
                        help="the quickstart's seed: data, pre-training and "
                        'random networks')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/collapse, with _<folder of '
                        '--images> and _<N>i for a --pretrain-iters other '
                        "than the config's, and -seed<N>")
    parser.add_argument('--data-root', default=None,
                        help="default: the quickstart's for --seed (its "
                        'synthetic data; unused with --images)')
    parser.add_argument('--images', default=None, metavar='DIR',
                        help='pre-train both on every image under DIR '
                        '(unlabelled frames) and measure on them; default: '
                        "the quickstart's synthetic unlabelled pool, "
                        'measured on its validation images')
    parser.add_argument('--measure-images', default=None, metavar='DIR',
                        help='measure on the images of DIR instead (default: '
                        "--images, else the quickstart's validation images)")
    parser.add_argument('--pretrain-iters', type=int, default=None,
                        metavar='N', help='pre-training iterations of both, '
                        "the config's schedule stretched to them (default: "
                        "the config's 1000; 2 with --smoke)")
    parser.add_argument('--crop-size', type=int, default=None, metavar='S',
                        help="pre-training crop side in px (default: the "
                        "config's 128; with --images of frames larger than "
                        "that, the config writer's FCMAE rule for the "
                        'median frame)')
    parser.add_argument('--crop-ratio', type=str, default=None,
                        metavar='A,B', help="pre-training crops' share of an "
                        "image's area (default as --crop-size)")
    parser.add_argument('--num-images', type=int, default=32,
                        help='images analysed (the first N by name)')
    parser.add_argument('--size', type=int, default=None,
                        help='analysis resize/crop; default 224 (the 128 px '
                        'images are magnified 1.75x, within the '
                        "pre-training crops' range of 1x-2.2x), with "
                        '--images the pre-training crop size')
    parser.add_argument('--taps', nargs='+', choices=TAPS, default=list(TAPS),
                        help='analyses to run (the first is the headline)')
    parser.add_argument('--jobs', type=int, default=2,
                        help='pre-trainings at once')
    parser.add_argument('--threads', type=int, default=1,
                        help='threads of each pre-training')
    parser.add_argument('--no-reuse', action='store_true',
                        help="pre-train V2 here even if the quickstart's run "
                        'is finished')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny data and budget: checks the pipeline, '
                        'not the numbers')
    return parser.parse_args(argv)


def _work_dir(args: argparse.Namespace, budget: int, suffix: str) -> str:
    """``--work-dir``, or one named for the frames and the budget."""
    if args.work_dir:
        return osp.join(ROOT, args.work_dir)
    name = 'work_dirs/collapse'
    if args.images:
        name += '_' + osp.basename(osp.abspath(args.images))
    if budget != quickstart.config_length(args.smoke):
        name += f'_{budget}i'
    return osp.join(ROOT, name + suffix)


def _data(args: argparse.Namespace, suffix: str) -> Tuple[str, List[str],
                                                          str]:
    """(pre-training folder, the ``--cfg-options`` of the quickstart's data
    or none, folder measured): ``--images`` (its options come with its
    crops), else the quickstart's synthetic data, made here."""
    if args.images:
        images = image_folder(args.images)
        return images, [], images
    data_root = osp.join(ROOT, args.data_root or 'data/synthetic' + suffix)
    from mmconvnextv2.datasets import make_synthetic_data
    make_synthetic_data(data_root, seed=args.seed, **(
        quickstart.SMOKE_DATA if args.smoke else quickstart.DATA))
    return (osp.join(data_root, 'unlabelled'),
            data_options('fcmae', data_root),
            osp.join(data_root, 'coco', 'val'))


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    # the quickstart's folders for this seed (as tools/quickstart.py names them)
    suffix = f'-seed{args.seed}' if args.seed else ''
    budget = args.pretrain_iters or quickstart.config_length(args.smoke)
    crop_given = args.crop_size is not None or args.crop_ratio is not None
    # the quickstart's V2 pre-training is this one when the data and crops
    # are its own (a checkpoint of this budget is looked for)
    reuse = [] if (args.no_reuse or args.smoke or args.data_root
                   or args.images or crop_given) else [
        osp.join(ROOT, 'work_dirs/quickstart' + suffix, 'pretrain')]
    try:
        if budget < 1:
            raise ValueError(f'--pretrain-iters {budget}: at least 1')
        pretrain_dir, options, measured = _data(args, suffix)
        measured = image_folder(args.measure_images or measured,
                                recursive=False)  # the analysis's listing
        frames, crops = frame_options(
            quickstart.FCMAE_CFG, pretrain_dir if args.images else None,
            args.crop_size,
            parse_ratio(args.crop_ratio) if args.crop_ratio else None)
        work = _work_dir(args, budget, suffix)
        study = collapse_study(
            quickstart.FCMAE_CFG, work, measured, budget, seed=args.seed,
            data_options=options + frames, reuse_v2=reuse, taps=args.taps,
            num_images=args.num_images,
            size=args.size or (crops.size if args.images else 224),
            jobs=args.jobs, threads=args.threads,
            data_s=time.time() - start, pretrain_images=pretrain_dir,
            crops=crops.as_dict())
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    print('\n' + study_markdown(study))
    print(f'\nwrote {work}/study.md, study.json and per tap collapse.png, '
          'activations.png')
    return study


if __name__ == '__main__':
    main()
