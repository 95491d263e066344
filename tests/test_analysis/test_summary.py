"""mmconvnextv2.analysis.summary: mean +- sample std, verdicts, Markdown and
the budget plot."""
import math
import statistics

from mmconvnextv2.analysis.summary import (markdown, mean_std, plot_budgets,
                                           summarise, verdicts)


def runs(values):
    return [dict(task='seg', budget=b, seed=s, headline={'mIoU': v},
                 train_s=1., test_s=1.) for b, s, v in values]


RUNS = [(0, 0, 30.), (0, 1, 34.), (0, 2, 32.),
        (100, 0, 40.), (100, 1, 37.), (100, 2, 43.)]


def test_mean_std_is_the_sample_std():
    cell = mean_std([40., 37., 43.])
    assert cell['n'] == 3 and cell['values'] == [40., 37., 43.]
    assert math.isclose(cell['mean'], statistics.mean([40., 37., 43.]))
    assert math.isclose(cell['std'], statistics.stdev([40., 37., 43.]))
    assert mean_std([5.])['std'] == 0.


def test_summary_and_verdicts():
    study = runs(RUNS)
    summary = summarise(study)
    assert summary['seg']['mIoU']['100']['values'] == [40., 37., 43.]
    (verdict, ) = verdicts(summary)
    assert verdict['ahead'] and math.isclose(verdict['gap'], 8.)
    # a gap within the spread of either arm is not "ahead"
    study[3]['headline']['mIoU'] = 20.
    (verdict, ) = verdicts(summarise(study))
    assert not verdict['ahead']


def test_markdown_and_plot(tmp_path):
    study = dict(budgets=[0, 100], runs=runs(RUNS), wall_s=3.,
                 summary=summarise(runs(RUNS)), pretrain=None)
    text = markdown(study)
    assert '| model | metric | random init | FCMAE 100 it |' in text
    assert '| seg | mIoU | 32.0000 ± 2.0000 (n=3) |' in text
    assert '- seg mIoU: +8.0000 at 100 iterations, ahead' in text
    assert text.count('| seg | ') == 7
    plot_budgets(study['summary'], str(tmp_path / 'p.png'))
    assert (tmp_path / 'p.png').stat().st_size > 1000
