"""The FCMAE payoff study: does pre-training pay off on some data, and after
how much?

Pre-trains once (an iteration-based FCMAE config, its schedule stretched to
the largest budget) keeping a checkpoint at every budget; fine-tunes every
downstream config from every budget (0 = random initialisation) with every
seed through ``tools/train.py``; evaluates each run with ``tools/test.py``.
Finished runs are reused and an interrupted one resumes, so a crashed study
continues where it stopped. ``tools/analysis_tools/fcmae_payoff.py`` is its
command line; ``tools/quickstart.py`` runs it too.
"""
import math
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from functools import reduce
from typing import Dict, List, Optional, Sequence

from mmconvnextv2.utils import read_json, write_json

from .results import headline, last_checkpoint, test_metrics
from .progress import ProgressBoard
from .runner import ToolRunner, say
from .schedule import Job, execute, stretch_schedule, threads_per_job
from .summary import markdown, plot_budgets, summarise

__all__ = ['Downstream', 'pretrain', 'finetune', 'plan_study', 'run_study',
           'write_outputs']


@dataclass
class Downstream:
    """One downstream config of a study, with its own ``--cfg-options``:
    ``options`` for every run, ``random_options`` added to the random-init
    runs and ``fcmae_options`` to the FCMAE-init runs (e.g. a learning rate
    chosen for each start); ``metrics``: the keys to report; ``budgets``:
    the study's budgets it runs at (None: all)."""
    name: str
    config: str
    options: List[str] = field(default_factory=list)
    metrics: Optional[List[str]] = None
    random_options: List[str] = field(default_factory=list)
    fcmae_options: List[str] = field(default_factory=list)
    budgets: Optional[Sequence[int]] = None


def _finished_pretraining(record: Dict, positive: List[int],
                          work_dir: str) -> Dict:
    missing = [b for b in positive if str(b) not in record['checkpoints']]
    if missing:
        raise RuntimeError(
            f'{work_dir} holds a finished pre-training without checkpoints '
            f'at {missing} iterations; use another --work-dir, or delete '
            'that folder to pre-train again')
    return dict(record, train_s=0.)


def pretrain(fcmae_config: str, budgets: Sequence[int], work_dir: str,
             options: Sequence[str], seed: int, run: ToolRunner
             ) -> Dict[str, object]:
    """Pre-train once to ``max(budgets)``, keeping a checkpoint at each
    positive budget; return ``{'checkpoints': {budget: path}, 'seconds',
    'train_s'}`` (``train_s`` 0 when an earlier call finished it)."""
    positive = sorted(b for b in budgets if b > 0)
    done = osp.join(work_dir, 'done.json')
    record = read_json(done)
    if record is not None:
        return _finished_pretraining(record, positive, work_dir)
    interval = reduce(math.gcd, positive)
    args = [fcmae_config, '--work-dir', work_dir, '--resume', '--cfg-options',
            *stretch_schedule(fcmae_config, positive[-1]),
            f'default_hooks.checkpoint.interval={interval}',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            f'randomness.seed={seed}', *options]
    seconds = run('tools/train.py', args, osp.join(work_dir, 'tool.log'))
    checkpoints = {b: osp.join(work_dir, f'iter_{b}.pth') for b in positive}
    missing = [p for p in checkpoints.values() if not osp.isfile(p)]
    if missing:
        raise RuntimeError(f'pre-training did not write {missing}')
    record = dict(checkpoints={str(b): p for b, p in checkpoints.items()},
                  seconds=seconds)
    write_json(done, record)
    return dict(record, train_s=seconds)


def _init_options(init: Optional[str]) -> List[str]:
    """Load ``init``'s ``backbone.*`` weights (none: random init)."""
    return [] if init is None else [
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={init}',
        'model.backbone.init_cfg.prefix=backbone.']


def finetune(config: str, work_dir: str, options: Sequence[str], seed: int,
             init: Optional[str], run: ToolRunner,
             show_dir: Optional[str] = None) -> Dict:
    """Fine-tune ``config`` from ``init``'s ``backbone.*`` weights (or random)
    and test the last checkpoint; reuse whatever an earlier call finished.
    Returns ``checkpoint``, ``metrics`` (all of the test's), ``train_s`` and
    ``test_s`` (0 for a reused step)."""
    times = {'train_s': 0., 'test_s': 0.}
    log = osp.join(work_dir, 'tool.log')
    trained = read_json(osp.join(work_dir, 'train_done.json'))
    if trained is None:
        times['train_s'] = run(
            'tools/train.py', [config, '--work-dir', work_dir, '--resume',
                               '--cfg-options', f'randomness.seed={seed}',
                               *_init_options(init), *options], log)
        trained = dict(checkpoint=last_checkpoint(work_dir),
                       seconds=times['train_s'])
        write_json(osp.join(work_dir, 'train_done.json'), trained)
    test_dir = osp.join(work_dir, 'test')
    metrics = test_metrics(test_dir)
    if metrics is None:
        args = [config, trained['checkpoint'], '--work-dir', test_dir] + \
            (['--show-dir', show_dir] if show_dir else [])
        times['test_s'] = run('tools/test.py',
                              args + ['--cfg-options', *options], log)
        metrics = test_metrics(test_dir)
    return dict(checkpoint=trained['checkpoint'], metrics=metrics, **times)


def plan_study(fcmae_config: str, tasks: Sequence[Downstream],
               budgets: List[int], seeds: Sequence[int], work_dir: str,
               run: ToolRunner, pretrain_options: Sequence[str] = (),
               pretrain_seed: int = 0, show_dir: Optional[str] = None,
               keep_budgets: Sequence[int] = ()) -> List[Job]:
    """The study's jobs: the pre-training (if any budget is positive), then
    the random-init runs (they need no pre-training and run beside it),
    then every budget's runs; seeds outer, tasks inner."""
    state: Dict[str, Dict] = {}

    def pretrain_job() -> Dict:
        kept = [b for b in keep_budgets if 0 < b < budgets[-1]]
        state['pretrain'] = pretrain(
            fcmae_config, list(budgets) + kept, osp.join(work_dir, 'pretrain'),
            pretrain_options, pretrain_seed, run)
        return state['pretrain']

    def finetune_job(task: Downstream, budget: int, seed: int):
        def fn() -> Dict:
            init = state['pretrain']['checkpoints'][str(budget)] \
                if budget else None
            options = task.options + (task.fcmae_options if budget
                                      else task.random_options)
            result = finetune(task.config, osp.join(
                work_dir, task.name, f'b{budget}_s{seed}'), options, seed,
                init, run, show_dir)
            return dict(result, task=task.name, budget=budget, seed=seed,
                        headline=headline(result['metrics'], task.metrics))
        return fn

    plan = [Job('pretrain', pretrain_job, weight=3.)] \
        if budgets[-1] > 0 else []  # weight: about three runs
    plan += [Job(f'{task.name} budget={budget} seed={seed}',
                 finetune_job(task, budget, seed),
                 deps=['pretrain'] if budget else [])
             for budget in budgets for seed in seeds for task in tasks
             if task.budgets is None or budget in task.budgets]
    return plan


def _show_headline(job: Job, result: Dict) -> None:
    if 'headline' in result:
        shown = ', '.join(f'{k} {v:.4f}' for k, v in
                          result['headline'].items())
        say(f'[payoff]    {shown}')


def run_study(fcmae_config: str, tasks: Sequence[Downstream],
              budgets: Sequence[int], seeds: Sequence[int], work_dir: str,
              pretrain_options: Sequence[str] = (), pretrain_seed: int = 0,
              jobs: int = 1, quiet: bool = False,
              show_dir: Optional[str] = None,
              keep_budgets: Sequence[int] = ()) -> Dict:
    """Pre-train once, fine-tune every (task, budget, seed), summarise.

    ``jobs`` tools run at once with ``cpu_count / jobs`` threads each (their
    output only in each run's ``tool.log`` then). ``keep_budgets``: further
    pre-training checkpoints to keep (for a later study in the same work
    dir); they must not exceed ``max(budgets)``.

    Returns a dict with ``runs`` (one entry per fine-tuning run), ``summary``
    (mean/std per task, metric and budget), ``pretrain`` and the settings.
    """
    budgets = sorted(set(int(b) for b in budgets))
    if not budgets or budgets[0] < 0:
        raise ValueError(f'budgets must be >= 0, got {budgets}')
    quiet = quiet or jobs > 1
    board = ProgressBoard() if quiet else None  # tools' output: their logs
    run = ToolRunner(threads=threads_per_job(jobs), quiet=quiet, board=board,
                     root=work_dir)
    os.makedirs(work_dir, exist_ok=True)
    plan = plan_study(fcmae_config, tasks, budgets, seeds, work_dir, run,
                      pretrain_options, pretrain_seed, show_dir, keep_budgets)
    start = time.time()
    try:
        results = execute(plan, jobs, _show_headline)
    finally:
        if board is not None:
            board.close()
    runs = sorted((r for k, r in results.items() if k != 'pretrain'),
                  key=lambda r: (r['task'], r['budget'], r['seed']))
    return dict(
        fcmae_config=fcmae_config, budgets=budgets, seeds=list(seeds),
        tasks=[dict(name=t.name, config=t.config, options=t.options,
                    random_options=t.random_options,
                    fcmae_options=t.fcmae_options) for t in tasks],
        pretrain=results.get('pretrain'), runs=runs,
        summary=summarise(runs), wall_s=time.time() - start)


def write_outputs(study: Dict, work_dir: str) -> str:
    """``payoff.json``, ``payoff.md`` and ``payoff.png`` in ``work_dir``;
    returns the Markdown."""
    write_json(osp.join(work_dir, 'payoff.json'), study)
    text = markdown(study)
    with open(osp.join(work_dir, 'payoff.md'), 'w') as f:
        f.write('# FCMAE payoff study\n\n' + text + '\n')
    plot_budgets(study['summary'], osp.join(work_dir, 'payoff.png'))
    return text
