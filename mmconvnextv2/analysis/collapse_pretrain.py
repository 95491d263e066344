"""The run plan of the collapse study (:mod:`.collapse_study`): FCMAE
pre-trainings of ConvNeXt V1-atto and V2-atto through ``tools/train.py`` in
child processes of the shared runner, each keeping a checkpoint every
quarter; a finished run (or an earlier one, the quickstart's) is reused.
"""
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

from .runner import run_tool, say

__all__ = ['V1_CONFIG', 'run_train', 'trend_budgets', 'pretrain_options',
           'find_checkpoint', 'pretrain']

#: The V1 twin of the quickstart's FCMAE config.
V1_CONFIG = ('configs/fcmae/'
             'fcmae_convnext-v1-atto_1xb16-coslr-1000i_synthetic-128px.py')


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


def pretrain_options(budget: int, seed: int,
                     data_options: Sequence[str] = ()) -> List[str]:
    """``--cfg-options`` of one pre-training: its length, seed and data, and
    a checkpoint kept every quarter (:func:`trend_budgets`). The config's LR
    schedule is kept (the study's budget is the config's; a shorter one, as
    in the smoke run, cuts the schedule short)."""
    return [f'train_cfg.max_iters={budget}', f'randomness.seed={seed}',
            f'default_hooks.checkpoint.interval={max(1, budget // 4)}',
            'default_hooks.checkpoint.max_keep_ckpts=-1', *data_options]


def find_checkpoint(work_dir: str, budget: int) -> Optional[str]:
    """``work_dir/iter_<budget>.pth`` if it exists (checkpoints are written
    atomically, so an existing one is complete)."""
    path = osp.join(work_dir, f'iter_{budget}.pth')
    return path if osp.isfile(path) else None


def pretrain(runs: Dict[str, Dict], budget: int, seed: int,
             data_options: Sequence[str], jobs: int = 2,
             threads: int = 1) -> Dict[str, Dict]:
    """Pre-train every run ``{name: {"config", "work_dir", "reuse"}}`` whose
    final checkpoint is missing (``reuse``: other work dirs to take it from
    first), ``jobs`` at a time; return ``{name: {"checkpoint", "train_s",
    "reused"}}``."""
    todo, done = {}, {}
    for name, run in runs.items():
        for where in list(run.get('reuse') or []) + [run['work_dir']]:
            found = find_checkpoint(where, budget)
            if found:
                done[name] = dict(checkpoint=found, train_s=0., reused=True)
                say(f'[collapse] {name}: reusing {found}')
                break
        else:
            todo[name] = run
    options = pretrain_options(budget, seed, data_options)

    def train(name: str) -> Dict:
        run = todo[name]
        seconds = run_train(run['config'], run['work_dir'], options, threads)
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
