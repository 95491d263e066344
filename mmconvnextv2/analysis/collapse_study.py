"""Does GRN prevent feature collapse? ConvNeXt V1 vs V2 under FCMAE, at this
machine's scale.

FCMAE pre-trains ConvNeXt V1-atto and V2-atto with the same config (the V1
twin differs only in ``block_type``), data (a folder of images and its
crops, :mod:`.collapse_frames`), budget (the config's schedule stretched to
it) and seed, through ``tools/train.py`` in child processes (two at a time,
one thread each; :mod:`.collapse_pretrain`). A finished V2 run of the
quickstart is reused when given. Then :mod:`.feature_collapse` measures four
backbones (V1 and V2, each random and FCMAE) on a folder of images (the
quickstart's validation images, or the pre-training frames), for each
requested tap, and the study writes ``study.json`` / ``study.md``
(per-stage mean distance and dead fraction, wall times;
:mod:`.collapse_study_report`) beside one analysis folder per tap
(``collapse.json``, ``collapse.png``, ``activations.png``), and, for the
first tap, the same measure at every quarter of the pre-training
(``trend/``, ``trend.png``).
"""
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

from .collapse_backbones import CheckpointSpec, quiet_logs
from .collapse_metric import overall_means, stage_means
from .collapse_pretrain import V1_CONFIG, find_checkpoint, pretrain, \
    trend_budgets
from .collapse_study_report import plot_trend, write_study
from .feature_collapse import feature_collapse, feature_collapse_taps
from .runner import say

__all__ = ['LABELS', 'ARMS', 'budget_trend', 'collapse_study']

#: The four backbones, in the order of the tables and plots.
LABELS = ('V1-random', 'V1-FCMAE', 'V2-random', 'V2-FCMAE')
#: The two pre-trainings.
ARMS = ('V1', 'V2')


def _means(records: Dict[str, Dict]) -> Dict[str, Dict]:
    """Per arm: its per-stage and overall means."""
    return {arm: dict(stages=stage_means(r['blocks']),
                      all=overall_means(r['blocks']))
            for arm, r in records.items()}


def _intermediate(trained: Dict[str, Dict], b: int, image_dir: str,
                  work_dir: str, tap: str, num_images: int, size: int,
                  seed: int, progress: bool) -> Dict[str, Dict]:
    """The analysis of the arms' checkpoints at ``b`` iterations (those
    kept) into ``work_dir/trend/iter_<b>/``; empty when none is kept."""
    specs = []
    for arm in ARMS:
        path = find_checkpoint(osp.dirname(trained[arm]['checkpoint']), b)
        if path:
            specs.append(CheckpointSpec(arm, path, arm.lower()))
    if not specs:
        return {}
    say(f'[collapse] trend: iteration {b}')
    return feature_collapse(
        'atto', specs, image_dir, osp.join(work_dir, 'trend', f'iter_{b}'),
        num_images=num_images, size=size, tap=tap, seed=seed,
        progress=progress)


def budget_trend(trained: Dict[str, Dict], budget: int, image_dir: str,
                 work_dir: str, tap: str, num_images: int, size: int,
                 seed: int, final: Dict[str, Dict],
                 progress: bool = True) -> Dict[str, Dict]:
    """Per-stage means of V1 and V2 at every kept checkpoint of the
    pre-trainings (0 = the random networks, ``budget`` = ``final``'s), for
    ``tap``; analyses the intermediate ones into ``work_dir/trend/``.
    Returns ``{str(iterations): {"V1": {"stages", "all"}, "V2": ...}}``."""
    trend = {}
    for b in [0] + trend_budgets(budget):
        if b in (0, budget):
            start = 'random' if b == 0 else 'FCMAE'
            records = {arm: final[f'{arm}-{start}'] for arm in ARMS}
        else:
            records = _intermediate(trained, b, image_dir, work_dir, tap,
                                    num_images, size, seed, progress)
            if not records:
                continue
        trend[str(b)] = _means(records)
    return trend


def _final_specs(trained: Dict[str, Dict]) -> List[CheckpointSpec]:
    """The four backbones of :data:`LABELS`."""
    return [CheckpointSpec('V1-random', 'random', 'v1'),
            CheckpointSpec('V1-FCMAE', trained['V1']['checkpoint'], 'v1'),
            CheckpointSpec('V2-random', 'random', 'v2'),
            CheckpointSpec('V2-FCMAE', trained['V2']['checkpoint'], 'v2')]


def _analyse(trained: Dict[str, Dict], budget: int, image_dir: str,
             work_dir: str, taps: Sequence[str], num_images: int, size: int,
             seed: int, progress: bool) -> Tuple[Dict, Dict]:
    """Every tap's analysis of the four backbones (``work_dir/<tap>/``), and
    the first tap's trend along the pre-training (``trend.png``)."""
    quiet_logs()
    say(f'[collapse] analysing taps {", ".join(taps)} on {num_images} '
        f'images of {image_dir}')
    collapse = feature_collapse_taps(
        'atto', _final_specs(trained), image_dir,
        {tap: osp.join(work_dir, tap) for tap in taps},
        num_images=num_images, size=size, seed=seed, progress=progress)
    trend = budget_trend(trained, budget, image_dir, work_dir, taps[0],
                         num_images, size, seed, collapse[taps[0]], progress)
    plot_trend(trend, taps[0], osp.join(work_dir, 'trend.png'))
    return collapse, trend


def collapse_study(v2_config: str, work_dir: str, image_dir: str,
                   budget: int, seed: int = 0,
                   data_options: Sequence[str] = (),
                   v1_config: str = V1_CONFIG,
                   reuse_v2: Sequence[str] = (),
                   taps: Sequence[str] = ('mlp', 'grn', 'block'),
                   num_images: int = 32, size: int = 224, jobs: int = 2,
                   threads: int = 1, data_s: float = 0.,
                   progress: bool = True, pretrain_images: str = '',
                   crops: Optional[Dict] = None) -> Dict:
    """Pre-train V1 and V2 with FCMAE (or reuse), analyse the four backbones.

    Args:
        v2_config: The V2 FCMAE config (the quickstart's).
        work_dir: Output folder: ``fcmae_v1/``, ``fcmae_v2/`` (pre-training
            runs), ``<tap>/`` (each analysis), ``study.json``, ``study.md``.
        image_dir: Folder of the images analysed.
        budget: Pre-training iterations of both runs (each config's schedule
            stretched to it).
        seed: Seed of both pre-trainings and of the random networks.
        data_options: ``--cfg-options`` pointing the configs at the data
            (folder and crops), the same for both runs.
        v1_config: The V1 twin of ``v2_config``.
        reuse_v2: Work dirs of earlier V2 runs of the same config, budget,
            seed and data (the quickstart's) to take ``iter_<budget>.pth``
            from.
        taps: The analyses to run; the first is the headline.
        num_images, size: The analysis's first N images and crop size.
        jobs, threads: Pre-trainings at once, threads of each.
        data_s: Seconds the caller spent making the data (for the times).
        progress: Progress bars in the analyses.
        pretrain_images: The folder both runs pre-train on (for the record).
        crops: Their crops (:meth:`.collapse_frames.Crops.as_dict`, for the
            record).
    """
    if not taps:
        raise ValueError('no taps to analyse')
    start = time.time()
    os.makedirs(work_dir, exist_ok=True)
    runs = {'V1': dict(config=v1_config, work_dir=osp.join(work_dir, 'fcmae_v1')),
            'V2': dict(config=v2_config, work_dir=osp.join(work_dir, 'fcmae_v2'),
                       reuse=list(reuse_v2))}
    trained = pretrain(runs, budget, seed, data_options, jobs, threads)
    pretrain_s = time.time() - start
    analysis_start = time.time()
    collapse, trend = _analyse(trained, budget, image_dir, work_dir, taps,
                               num_images, size, seed, progress)
    analysis_s = time.time() - analysis_start
    study = dict(
        budget=budget, seed=seed, v1_config=v1_config, v2_config=v2_config,
        pretrain_images=pretrain_images, crops=crops, image_dir=image_dir,
        num_images=collapse[taps[0]][LABELS[0]]['num_images'],
        size=size, jobs=jobs, threads=threads, pretrain=trained,
        stage_means={tap: {label: stage_means(rec['blocks'])
                           for label, rec in c.items()}
                     for tap, c in collapse.items()},
        collapse=collapse, trend=trend,
        times=dict(data_s=data_s, pretrain_s=pretrain_s,
                   analysis_s=analysis_s,
                   total_s=data_s + time.time() - start))
    write_study(work_dir, study)
    return study
