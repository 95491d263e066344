"""The run plan of the collapse study (:mod:`.collapse_study`): FCMAE
pre-trainings of ConvNeXt V1-atto and V2-atto through ``tools/train.py`` in
child processes of the shared runner, each with its config's schedule
stretched to the budget and a checkpoint kept every quarter; a finished run
(or an earlier one, the quickstart's) is reused. Each run's settings are
kept in its work dir (:data:`SETTINGS_FILE`), and a work dir trained with
other settings is refused rather than resumed or reused.
"""
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

from mmconvnextv2.utils import read_json, write_json

from .runner import run_tool, say
from .schedule import stretch_schedule

__all__ = ['V1_CONFIG', 'SETTINGS_FILE', 'run_train', 'trend_budgets',
           'pretrain_options', 'find_checkpoint', 'check_settings',
           'pretrain']

#: The V1 twin of the quickstart's FCMAE config.
V1_CONFIG = ('configs/fcmae/'
             'fcmae_convnext-v1-atto_1xb16-coslr-1000i_synthetic-128px.py')
#: A run's settings (its config and ``--cfg-options``), in its work dir.
SETTINGS_FILE = 'collapse_settings.json'


def run_train(config: str, work_dir: str, options: Sequence[str],
              threads: int = 1) -> float:
    """Train ``config`` with ``tools/train.py`` in a child process of the
    shared runner (resuming from the work dir's last checkpoint), output to
    ``work_dir/tool.log``; return the wall time. The study's only
    child-process call.

    Raises:
        ToolError: The training failed (the message names its log).
    """
    log = osp.join(work_dir, 'tool.log')
    args = [config, '--work-dir', work_dir, '--resume', '--cfg-options',
            *options]
    say(f'$ tools/train.py {" ".join(args)}   (log: {log})')
    return run_tool('tools/train.py', args, log=log, threads=threads).seconds


def trend_budgets(budget: int) -> List[int]:
    """The checkpoints kept along a pre-training of ``budget`` iterations:
    every quarter (the quickstart's keeps 250, 500, 750 and 1000 of 1000)."""
    step = max(1, budget // 4)
    return sorted({b for b in range(step, budget + 1, step)} | {budget})


def pretrain_options(config: str, budget: int, seed: int,
                     data_options: Sequence[str] = ()) -> List[str]:
    """``--cfg-options`` of one pre-training: its length (the config's LR
    schedule stretched to ``budget`` as the quickstart's,
    :func:`.schedule.stretch_schedule`), seed and data (folder, crops), and
    a checkpoint kept every quarter (:func:`trend_budgets`)."""
    return [*stretch_schedule(config, budget), f'randomness.seed={seed}',
            f'default_hooks.checkpoint.interval={max(1, budget // 4)}',
            'default_hooks.checkpoint.max_keep_ckpts=-1', *data_options]


def find_checkpoint(work_dir: str, budget: int) -> Optional[str]:
    """``work_dir/iter_<budget>.pth`` if it exists (checkpoints are written
    atomically, so an existing one is complete)."""
    path = osp.join(work_dir, f'iter_{budget}.pth')
    return path if osp.isfile(path) else None


def check_settings(work_dir: str, settings: Dict) -> None:
    """Refuse ``work_dir`` when its :data:`SETTINGS_FILE` records other
    settings than ``settings`` (a folder without one passes: an earlier
    run's, or a new one).

    Raises:
        ValueError: The settings differ (the message names the first).
    """
    recorded = read_json(osp.join(work_dir, SETTINGS_FILE))
    if recorded is None or recorded == settings:
        return
    old, new = recorded.get('options', []), settings['options']
    changed = [o for o in new if o not in old] + [o for o in old
                                                  if o not in new]
    what = changed[0] if changed else f'config {recorded.get("config")}'
    raise ValueError(f'{work_dir} was pre-trained with other settings '
                     f'({what}); give another --work-dir')


def _settings(run: Dict, budget: int, seed: int,
              data_options: Sequence[str]) -> Dict:
    """What a run's weights follow from: its config and options."""
    return dict(config=run['config'], options=pretrain_options(
        run['config'], budget, seed, data_options))


def pretrain(runs: Dict[str, Dict], budget: int, seed: int,
             data_options: Sequence[str], jobs: int = 2,
             threads: int = 1) -> Dict[str, Dict]:
    """Pre-train every run ``{name: {"config", "work_dir", "reuse"}}`` whose
    final checkpoint is missing (``reuse``: other work dirs to take it from
    first), ``jobs`` at a time, each with :func:`pretrain_options`; return
    ``{name: {"checkpoint", "train_s", "reused"}}``.

    Raises:
        ValueError: A work dir holds a run of other settings
            (:func:`check_settings`).
    """
    todo, done = {}, {}
    for name, run in runs.items():
        settings = None  # computed when needed (it reads the config)
        if osp.isfile(osp.join(run['work_dir'], SETTINGS_FILE)):
            settings = _settings(run, budget, seed, data_options)
            check_settings(run['work_dir'], settings)
        for where in list(run.get('reuse') or []) + [run['work_dir']]:
            found = find_checkpoint(where, budget)
            if found:
                done[name] = dict(checkpoint=found, train_s=0., reused=True)
                say(f'[collapse] {name}: reusing {found}')
                break
        else:
            todo[name] = dict(run, settings=settings or _settings(
                run, budget, seed, data_options))

    def train(name: str) -> Dict:
        run = todo[name]
        write_json(osp.join(run['work_dir'], SETTINGS_FILE), run['settings'])
        seconds = run_train(run['config'], run['work_dir'],
                            run['settings']['options'], threads)
        found = find_checkpoint(run['work_dir'], budget)
        if found is None:
            raise RuntimeError(f'{name}: training wrote no iter_{budget}.pth '
                               f'in {run["work_dir"]}')
        say(f'[collapse] {name}: {budget} iterations in {seconds:.0f} s')
        return dict(checkpoint=found, train_s=seconds, reused=False)

    if todo:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {name: pool.submit(train, name) for name in todo}
            for name, future in futures.items():
                done[name] = future.result()
    return {name: done[name] for name in runs}
