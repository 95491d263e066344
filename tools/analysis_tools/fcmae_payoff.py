"""Does FCMAE pre-training pay off on this data, and after how much?

Pre-trains once (an iteration-based FCMAE config, its schedule stretched to
the largest budget) and keeps a checkpoint at every budget; then fine-tunes
every downstream config from every budget (0 = random initialisation) with
every seed, through the real ``tools/train.py``, and evaluates each run with
``tools/test.py``. Writes ``payoff.json``, ``payoff.md`` (mean +- std per
budget and metric, then every single run) and ``payoff.png`` (metric vs
budget with error bars, one panel per metric) into the work dir::

    python tools/analysis_tools/fcmae_payoff.py \\
        configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1200i_synthetic-128px.py \\
        configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py \\
        configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py \\
        --budgets 0 400 1200 --seeds 0 1 2 --jobs 2 --work-dir work_dirs/payoff

Seeds are fine-tuning seeds (``randomness.seed``); the pre-training runs once
(``--pretrain-seed``). Finished runs are reused, an interrupted one resumes
from its last checkpoint, so a crashed study continues where it stopped.
``--jobs N`` runs N tools at once with ``cpu_count / N`` threads each (every
run under the same conditions; on a small CPU two single-threaded runs get
more done than one two-threaded run). Point the configs at your own data with
``--pretrain-options`` / ``--finetune-options`` (mmengine ``--cfg-options``
syntax) or with small configs of your own that inherit ours.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import reduce
from typing import Callable, Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The metrics a table reports, where a test writes them (first found win).
HEADLINE_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'mIoU',
                    'accuracy/top1')
_PRINT_LOCK = threading.Lock()


def say(message: str) -> None:
    with _PRINT_LOCK:
        print(message, flush=True)


def _format_time(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 60}m{seconds % 60:02d}s'


def _write_json(path: str, data: dict) -> None:
    """Write ``data`` atomically (a marker is complete or absent)."""
    tmp = f'{path}.tmp-{os.getpid()}-{threading.get_ident()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------ tools
@dataclass
class ToolRunner:
    """Runs ``tools/*.py`` in child processes of this Python, each with
    ``threads`` torch/OpenMP threads; the output goes to a log file (and to
    the console unless ``quiet``)."""
    threads: int = 0  # 0: the child's default
    quiet: bool = False

    def __call__(self, cmd: List[str], log: str) -> float:
        env = dict(os.environ)
        if self.threads:
            for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
                env[var] = str(self.threads)
        os.makedirs(osp.dirname(log), exist_ok=True)
        say('$ ' + ' '.join(cmd) + (f'   (log: {log})' if self.quiet else ''))
        start = time.time()
        with open(log, 'a') as out:
            out.write('$ ' + ' '.join(cmd) + '\n')
            out.flush()
            if self.quiet:
                code = subprocess.run([sys.executable] + cmd, cwd=ROOT, env=env,
                                      stdout=out, stderr=subprocess.STDOUT
                                      ).returncode
            else:  # both the console and the log
                proc = subprocess.Popen([sys.executable] + cmd, cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
                for line in proc.stdout:
                    out.write(line)
                    with _PRINT_LOCK:
                        sys.stdout.write(line)
                code = proc.wait()
        if code:
            raise RuntimeError(f'`{" ".join(cmd)}` failed (exit {code}); its '
                               f'output is in {log}')
        return time.time() - start


def _pointer_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``last_checkpoint`` pointer names, if any."""
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            path = f.read().strip()
    except OSError:
        return None
    return path if osp.isfile(path) else None


def test_metrics(test_dir: str) -> Optional[Dict[str, float]]:
    """Metrics written by tools/test.py (mmengine's ``<stamp>/<stamp>.json``)."""
    files = sorted(glob.glob(osp.join(test_dir, '2*', '2*.json')))
    return _read_json(files[-1]) if files else None


def headline(metrics: Dict[str, float],
             keys: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """The metrics to report: ``keys`` if given, else those of
    :data:`HEADLINE_METRICS` present, else every number."""
    wanted = keys or [k for k in HEADLINE_METRICS if k in metrics]
    if not wanted:
        wanted = [k for k, v in metrics.items() if isinstance(v, (int, float))]
    missing = [k for k in wanted if k not in metrics]
    if missing:
        raise KeyError(f'metrics {missing} not in the test results '
                       f'({sorted(metrics)})')
    return {k: float(metrics[k]) for k in wanted}


# --------------------------------------------------------- pre-training
def stretch_schedule(config: str, max_iters: int) -> List[str]:
    """``--cfg-options`` that set an iteration-based config's length to
    ``max_iters`` and stretch its LR schedule (begin/end/T_max/milestones of
    every iteration-based scheduler) by the same factor."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config) if not osp.isabs(config)
                          else config)
    loop = cfg.get('train_cfg', {})
    if loop.get('type') != 'IterBasedTrainLoop' or 'max_iters' not in loop:
        raise ValueError(f'{config} does not train by iterations '
                         f'(train_cfg={dict(loop)}); the study counts '
                         'pre-training budgets in iterations')
    old = loop['max_iters']
    options = [f'train_cfg.max_iters={max_iters}']
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    prefix = 'param_scheduler' + ('' if isinstance(cfg.param_scheduler, dict)
                                  else '.{}')

    def scale(value: int) -> int:
        return max(1, round(value * max_iters / old)) if value else 0

    for i, sched in enumerate(schedulers):
        if sched.get('by_epoch', True):
            raise ValueError(f'{config}: param_scheduler {i} counts epochs; '
                             'the study needs by_epoch=False schedulers')
        where = prefix.format(i)
        for key in ('begin', 'end', 'T_max'):
            if isinstance(sched.get(key), int) and sched[key] <= old:
                options.append(f'{where}.{key}={scale(sched[key])}')
        if sched.get('milestones'):
            stones = ','.join(str(scale(m)) for m in sched['milestones'])
            options.append(f'{where}.milestones=[{stones}]')
    return options


def pretrain(fcmae_config: str, budgets: Sequence[int], work_dir: str,
             options: Sequence[str], seed: int, run: ToolRunner
             ) -> Dict[str, object]:
    """Pre-train once to ``max(budgets)``, keeping a checkpoint at each
    positive budget; return ``{'checkpoints': {budget: path}, 'train_s'}``."""
    positive = sorted(b for b in budgets if b > 0)
    done = osp.join(work_dir, 'done.json')
    record = _read_json(done)
    if record is not None:
        missing = [b for b in positive if str(b) not in record['checkpoints']]
        if missing:
            raise RuntimeError(
                f'{work_dir} holds a finished pre-training without checkpoints '
                f'at {missing} iterations; use another --work-dir, or delete '
                'that folder to pre-train again')
        return dict(record, train_s=0.)
    interval = reduce(math.gcd, positive)
    cmd = ['tools/train.py', fcmae_config, '--work-dir', work_dir, '--resume',
           '--cfg-options'] + stretch_schedule(fcmae_config, positive[-1]) + [
               f'default_hooks.checkpoint.interval={interval}',
               'default_hooks.checkpoint.max_keep_ckpts=-1',
               f'randomness.seed={seed}'] + list(options)
    seconds = run(cmd, osp.join(work_dir, 'tool.log'))
    checkpoints = {b: osp.join(work_dir, f'iter_{b}.pth') for b in positive}
    missing = [p for p in checkpoints.values() if not osp.isfile(p)]
    if missing:
        raise RuntimeError(f'pre-training did not write {missing}')
    record = dict(checkpoints={str(b): p for b, p in checkpoints.items()},
                  seconds=seconds)
    _write_json(done, record)
    return dict(record, train_s=seconds)


# ----------------------------------------------------------- fine-tuning
def finetune(config: str, work_dir: str, options: Sequence[str], seed: int,
             init: Optional[str], run: ToolRunner,
             show_dir: Optional[str] = None) -> Dict:
    """Fine-tune ``config`` from ``init``'s ``backbone.*`` weights (or random)
    and test the last checkpoint; reuse whatever an earlier call finished.
    Returns ``checkpoint``, ``metrics`` (all of the test's), ``train_s`` and
    ``test_s`` (0 for a reused step)."""
    times = {'train_s': 0., 'test_s': 0.}
    trained = _read_json(osp.join(work_dir, 'train_done.json'))
    if trained is None:
        init_options = [] if init is None else [
            'model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={init}',
            'model.backbone.init_cfg.prefix=backbone.']
        times['train_s'] = run(
            ['tools/train.py', config, '--work-dir', work_dir, '--resume',
             '--cfg-options', f'randomness.seed={seed}'] + init_options
            + list(options), osp.join(work_dir, 'tool.log'))
        trained = dict(checkpoint=_pointer_checkpoint(work_dir),
                       seconds=times['train_s'])
        _write_json(osp.join(work_dir, 'train_done.json'), trained)
    test_dir = osp.join(work_dir, 'test')
    metrics = test_metrics(test_dir)
    if metrics is None:
        cmd = ['tools/test.py', config, trained['checkpoint'], '--work-dir',
               test_dir] + (['--show-dir', show_dir] if show_dir else [])
        times['test_s'] = run(cmd + ['--cfg-options'] + list(options),
                              osp.join(work_dir, 'tool.log'))
        metrics = test_metrics(test_dir)
    return dict(checkpoint=trained['checkpoint'], metrics=metrics, **times)


# ------------------------------------------------------------ scheduling
@dataclass
class Job:
    key: str
    fn: Callable[[], Dict]
    deps: List[str] = field(default_factory=list)
    weight: float = 1.  # for the time estimate


def execute(jobs: List[Job], workers: int,
            on_done: Optional[Callable[[Job, Dict], None]] = None
            ) -> Dict[str, Dict]:
    """Run ``jobs`` (in list order once their ``deps`` are done) on
    ``workers`` threads; report progress; return each job's result. After a
    failure no new job starts, the running ones finish, the error is raised."""
    pending, running, results = list(jobs), {}, {}
    # the estimate counts only jobs that ran (reused ones take no time)
    left_weight = sum(j.weight for j in jobs)
    ran_weight, start, failure = 0., time.time(), None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while (pending and failure is None) or running:
            for job in list(pending):
                if failure is None and len(running) < workers and \
                        all(d in results for d in job.deps):
                    pending.remove(job)
                    running[pool.submit(job.fn)] = job
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    results[job.key] = future.result()
                except Exception as exc:  # noqa: BLE001 (re-raised below)
                    failure = failure or exc
                    say(f'[payoff] {job.key} failed: {exc}')
                    continue
                left_weight -= job.weight
                reused = all(results[job.key].get(k, 0) == 0
                             for k in ('train_s', 'test_s'))
                ran_weight += 0 if reused else job.weight
                elapsed = time.time() - start
                left = elapsed * left_weight / ran_weight if ran_weight \
                    else float('nan')
                say(f'[payoff] {len(results)}/{len(jobs)} done: {job.key}'
                    + (' (reused)' if reused else '') + f'; elapsed '
                    f'{_format_time(elapsed)}, about '
                    + (f'{_format_time(left)} left' if ran_weight
                       else '? left'))
                if on_done:
                    on_done(job, results[job.key])
    if failure is not None:
        raise failure
    if pending:
        raise RuntimeError(f'jobs never ready: {[j.key for j in pending]}')
    return results


# -------------------------------------------------------------- the study
@dataclass
class Downstream:
    """One downstream config of a study, with its own ``--cfg-options``:
    ``options`` for every run, ``random_options`` added to the random-init
    runs and ``fcmae_options`` to the FCMAE-init runs (e.g. a learning rate
    chosen for each start)."""
    name: str
    config: str
    options: List[str] = field(default_factory=list)
    metrics: Optional[List[str]] = None
    random_options: List[str] = field(default_factory=list)
    fcmae_options: List[str] = field(default_factory=list)


def run_study(fcmae_config: str, tasks: Sequence[Downstream],
              budgets: Sequence[int], seeds: Sequence[int], work_dir: str,
              pretrain_options: Sequence[str] = (), pretrain_seed: int = 0,
              jobs: int = 1, quiet: bool = False,
              show_dir: Optional[str] = None,
              keep_budgets: Sequence[int] = ()) -> Dict:
    """Pre-train once, fine-tune every (task, budget, seed), summarise.

    ``keep_budgets``: further pre-training checkpoints to keep (for a later
    study in the same work dir); they must not exceed ``max(budgets)``.

    Returns a dict with ``runs`` (one entry per fine-tuning run), ``summary``
    (mean/std per task, metric and budget), ``pretrain`` and the settings.
    """
    budgets = sorted(set(int(b) for b in budgets))
    if not budgets or budgets[0] < 0:
        raise ValueError(f'budgets must be >= 0, got {budgets}')
    threads = max(1, (os.cpu_count() or 1) // jobs)
    run = ToolRunner(threads=threads if jobs > 1 else 0,
                     quiet=quiet or jobs > 1)
    os.makedirs(work_dir, exist_ok=True)
    state: Dict[str, Dict] = {}

    def pretrain_job() -> Dict:
        kept = [b for b in keep_budgets if 0 < b < budgets[-1]]
        return pretrain(fcmae_config, list(budgets) + kept,
                        osp.join(work_dir, 'pretrain'),
                        pretrain_options, pretrain_seed, run)

    def finetune_job(task: Downstream, budget: int, seed: int):
        def fn() -> Dict:
            init = None if budget == 0 else \
                state['pretrain']['checkpoints'][str(budget)]
            result = finetune(task.config,
                              osp.join(work_dir, task.name, f'b{budget}_s{seed}'),
                              task.options + (task.fcmae_options if budget
                                              else task.random_options),
                              seed, init, run, show_dir)
            return dict(result, task=task.name, budget=budget, seed=seed,
                        headline=headline(result['metrics'], task.metrics))
        return fn

    plan: List[Job] = []
    if budgets[-1] > 0:
        plan.append(Job('pretrain', pretrain_job, weight=3.))  # ~3 runs
    # random-init runs first: they need no pre-training and run beside it
    for budget in budgets:
        for seed in seeds:
            for task in tasks:
                plan.append(Job(f'{task.name} budget={budget} seed={seed}',
                                finetune_job(task, budget, seed),
                                deps=['pretrain'] if budget else []))

    def remember(job: Job, result: Dict) -> None:
        state[job.key] = result
        if 'headline' in result:
            shown = ', '.join(f'{k} {v:.4f}' for k, v in
                              result['headline'].items())
            say(f'[payoff]    {shown}')

    start = time.time()
    results = execute(plan, jobs, remember)
    runs = sorted((r for k, r in results.items() if k != 'pretrain'),
                  key=lambda r: (r['task'], r['budget'], r['seed']))
    return dict(
        fcmae_config=fcmae_config, budgets=budgets, seeds=list(seeds),
        tasks=[dict(name=t.name, config=t.config, options=t.options,
                    random_options=t.random_options,
                    fcmae_options=t.fcmae_options) for t in tasks],
        pretrain=results.get('pretrain'), runs=runs,
        summary=summarise(runs), wall_s=time.time() - start)


def _mean_std(values: List[float]) -> Dict[str, float]:
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) \
        if len(values) > 1 else 0.
    return dict(mean=mean, std=math.sqrt(var), n=len(values),
                values=list(values))


def summarise(runs: List[Dict]) -> Dict[str, Dict[str, Dict[str, Dict]]]:
    """``{task: {metric: {budget: {mean, std, n, values}}}}`` (sample std)."""
    grouped: Dict[str, Dict[str, Dict[str, List[float]]]] = {}
    for r in sorted(runs, key=lambda r: (r['task'], r['budget'], r['seed'])):
        for metric, value in r['headline'].items():
            grouped.setdefault(r['task'], {}).setdefault(metric, {}) \
                .setdefault(str(r['budget']), []).append(value)
    return {task: {metric: {b: _mean_std(v) for b, v in by_budget.items()}
                   for metric, by_budget in metrics.items()}
            for task, metrics in grouped.items()}


def verdicts(summary: Dict) -> List[Dict]:
    """For each task and metric: the largest budget against random init
    (budget 0), and whether the gap exceeds both arms' std."""
    out = []
    for task, metrics in summary.items():
        for metric, by_budget in metrics.items():
            if '0' not in by_budget or len(by_budget) < 2:
                continue
            top = max(by_budget, key=int)
            base, best = by_budget['0'], by_budget[top]
            gap = best['mean'] - base['mean']
            out.append(dict(task=task, metric=metric, budget=int(top),
                            gap=gap, ahead=gap > max(base['std'], best['std'])
                            and gap > 0))
    return out


def markdown(study: Dict) -> str:
    """The study as Markdown: summary table, verdicts, every run."""
    budgets = [str(b) for b in study['budgets']]
    lines = ['| model | metric | ' + ' | '.join(
        'random init' if b == '0' else f'FCMAE {b} it' for b in budgets) + ' |',
        '|---|---|' + '---|' * len(budgets)]
    for task, metrics in study['summary'].items():
        for metric, by_budget in metrics.items():
            cells = []
            for b in budgets:
                s = by_budget.get(b)
                cells.append('' if s is None else
                             f'{s["mean"]:.4f} ± {s["std"]:.4f} (n={s["n"]})')
            lines.append(f'| {task} | {metric} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Largest budget against random initialisation (ahead = the '
              'gap exceeds the standard deviation of both arms):', '']
    for v in verdicts(study['summary']):
        lines.append(f'- {v["task"]} {v["metric"]}: {v["gap"]:+.4f} at '
                     f'{v["budget"]} iterations, '
                     + ('ahead' if v['ahead'] else 'not ahead'))
    lines += ['', '| model | budget | seed | ' + 'metrics | train (s) | '
              'test (s) |', '|---|---|---|---|---|---|']
    for r in sorted(study['runs'],
                    key=lambda r: (r['task'], r['budget'], r['seed'])):
        shown = ', '.join(f'{k} {v:.4f}' for k, v in r['headline'].items())
        lines.append(f'| {r["task"]} | {r["budget"]} | {r["seed"]} | {shown} '
                     f'| {r["train_s"]:.0f} | {r["test_s"]:.0f} |')
    pre = study.get('pretrain') or {}
    lines.append(f'\nPre-training: {pre.get("train_s", 0):.0f} s this call '
                 f'({pre.get("seconds", 0):.0f} s when it ran); study wall '
                 f'time this call: {study["wall_s"]:.0f} s (reused runs count '
                 '0 s).')
    return '\n'.join(lines)


def plot(study: Dict, out: str) -> None:
    """Metric vs pre-training budget, mean with std error bars and each seed
    as a dot; one panel per task and metric."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [(t, m, b) for t, ms in study['summary'].items()
              for m, b in ms.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6),
                             squeeze=False)
    for ax, (task, metric, by_budget) in zip(axes[0], panels):
        xs = sorted(by_budget, key=int)
        ax.errorbar([int(x) for x in xs], [by_budget[x]['mean'] for x in xs],
                    yerr=[by_budget[x]['std'] for x in xs], marker='o',
                    capsize=4, color='tab:blue', label='mean ± std')
        for x in xs:
            ax.scatter([int(x)] * by_budget[x]['n'], by_budget[x]['values'],
                       color='tab:gray', s=10, alpha=0.6, zorder=3)
        ax.set_title(f'{task}\n{metric}', fontsize=9)
        ax.set_xlabel('FCMAE pre-training (iterations; 0 = random init)')
        ax.set_ylabel(metric)
    axes[0][0].legend(loc='best')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def write_outputs(study: Dict, work_dir: str) -> str:
    """payoff.json, payoff.md and payoff.png in ``work_dir``; returns the
    Markdown."""
    _write_json(osp.join(work_dir, 'payoff.json'), study)
    text = markdown(study)
    with open(osp.join(work_dir, 'payoff.md'), 'w') as f:
        f.write('# FCMAE payoff study\n\n' + text + '\n')
    plot(study, osp.join(work_dir, 'payoff.png'))
    return text


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    parser.add_argument('fcmae_config', help='iteration-based FCMAE config')
    parser.add_argument('configs', nargs='+',
                        help='downstream configs (detection, segmentation, '
                        'classification)')
    parser.add_argument('--budgets', type=int, nargs='+', required=True,
                        help='pre-training iterations; 0 = random init')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='fine-tuning seeds')
    parser.add_argument('--pretrain-seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/fcmae_payoff')
    parser.add_argument('--pretrain-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='--cfg-options of the '
                        'pre-training run (e.g. its data root)')
    parser.add_argument('--finetune-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='--cfg-options of every fine-tuning run')
    parser.add_argument('--random-init-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='added for the random-init '
                        'runs (e.g. the learning rate chosen for that start)')
    parser.add_argument('--fcmae-init-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='added for the FCMAE-init runs')
    parser.add_argument('--metrics', nargs='+',
                        help='metric keys to report (default: bbox/segm mAP, '
                        'mIoU or top-1, whichever the test writes)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='tools run at once (threads split between them)')
    parser.add_argument('--quiet', action='store_true',
                        help="only progress lines (the tools' output goes to "
                        'tool.log in each run dir)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.jobs < 1:
        raise SystemExit(f'--jobs must be >= 1, got {args.jobs}')
    names = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    if len(set(names)) != len(names):
        raise SystemExit(f'two downstream configs share a name: {names}')
    for path in [args.fcmae_config] + args.configs:
        if not osp.isfile(path):
            raise SystemExit(f'config not found: {path}')
    tasks = [Downstream(n, osp.abspath(c), list(args.finetune_options),
                        args.metrics, list(args.random_init_options),
                        list(args.fcmae_init_options))
             for n, c in zip(names, args.configs)]
    study = run_study(osp.abspath(args.fcmae_config), tasks, args.budgets, args.seeds,
                      osp.abspath(args.work_dir), args.pretrain_options,
                      args.pretrain_seed, args.jobs, args.quiet)
    print('\n' + write_outputs(study, osp.abspath(args.work_dir)))
    print(f'\nwrote {args.work_dir}/payoff.md, payoff.json and payoff.png')
    return study


if __name__ == '__main__':
    main()
