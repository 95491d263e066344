"""Summarising a study: mean +- sample std per task, metric and budget,
verdicts against random initialisation, Markdown tables and plots."""
import math
from typing import Dict, List, Sequence

__all__ = ['mean_std', 'summarise', 'verdicts', 'markdown', 'plot_budgets',
           'pyplot']


def mean_std(values: Sequence[float]) -> Dict:
    """``{mean, std, n, values}``; ``std`` is the sample standard deviation
    (0 for one value)."""
    values = list(values)
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) \
        if len(values) > 1 else 0.
    return dict(mean=mean, std=math.sqrt(var), n=len(values), values=values)


def _run_order(run: Dict) -> tuple:
    return run['task'], run['budget'], run['seed']


def summarise(runs: List[Dict]) -> Dict[str, Dict[str, Dict[str, Dict]]]:
    """``{task: {metric: {budget: mean_std(...)}}}`` over runs holding
    ``task``, ``budget``, ``seed`` and ``headline`` metrics."""
    grouped: Dict[str, Dict[str, Dict[str, List[float]]]] = {}
    for r in sorted(runs, key=_run_order):
        for metric, value in r['headline'].items():
            grouped.setdefault(r['task'], {}).setdefault(metric, {}) \
                .setdefault(str(r['budget']), []).append(value)
    return {task: {metric: {b: mean_std(v) for b, v in by_budget.items()}
                   for metric, by_budget in metrics.items()}
            for task, metrics in grouped.items()}


def verdicts(summary: Dict) -> List[Dict]:
    """For each task and metric: the largest budget against random init
    (budget 0), and whether the gap exceeds both arms' std (``ahead``)."""
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


def _summary_table(study: Dict) -> List[str]:
    budgets = [str(b) for b in study['budgets']]
    lines = ['| model | metric | ' + ' | '.join(
        'random init' if b == '0' else f'FCMAE {b} it' for b in budgets) + ' |',
        '|---|---|' + '---|' * len(budgets)]
    for task, metrics in study['summary'].items():
        for metric, by_budget in metrics.items():
            cells = ['' if by_budget.get(b) is None else
                     '{mean:.4f} ± {std:.4f} (n={n})'.format(**by_budget[b])
                     for b in budgets]
            lines.append(f'| {task} | {metric} | ' + ' | '.join(cells) + ' |')
    return lines


def _runs_table(runs: List[Dict]) -> List[str]:
    lines = ['| model | budget | seed | ' + 'metrics | train (s) | '
             'test (s) |', '|---|---|---|---|---|---|']
    for r in sorted(runs, key=_run_order):
        shown = ', '.join(f'{k} {v:.4f}' for k, v in r['headline'].items())
        lines.append(f'| {r["task"]} | {r["budget"]} | {r["seed"]} | {shown} '
                     f'| {r["train_s"]:.0f} | {r["test_s"]:.0f} |')
    return lines


def markdown(study: Dict) -> str:
    """A study (``budgets``, ``summary``, ``runs``, ``pretrain``,
    ``wall_s``) as Markdown: summary table, verdicts, every run."""
    lines = _summary_table(study)
    lines += ['', 'Largest budget against random initialisation (ahead = the '
              'gap exceeds the standard deviation of both arms):', '']
    for v in verdicts(study['summary']):
        lines.append(f'- {v["task"]} {v["metric"]}: {v["gap"]:+.4f} at '
                     f'{v["budget"]} iterations, '
                     + ('ahead' if v['ahead'] else 'not ahead'))
    lines += [''] + _runs_table(study['runs'])
    pre = study.get('pretrain') or {}
    lines.append(f'\nPre-training: {pre.get("train_s", 0):.0f} s this call '
                 f'({pre.get("seconds", 0):.0f} s when it ran); study wall '
                 f'time this call: {study["wall_s"]:.0f} s (reused runs count '
                 '0 s).')
    return '\n'.join(lines)


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_budgets(summary: Dict, out: str) -> None:
    """Metric vs pre-training budget, mean with std error bars and each seed
    as a dot; one panel per task and metric; written to ``out``."""
    plt = pyplot()
    panels = [(t, m, b) for t, ms in summary.items() for m, b in ms.items()]
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
