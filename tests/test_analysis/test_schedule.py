"""mmconvnextv2.analysis.schedule: jobs with dependencies on worker threads,
progress lines, threads per job, schedule stretching."""
import threading

import pytest

from mmconvnextv2.analysis.schedule import (Job, execute, format_time,
                                            stretch_schedule, threads_per_job)

FCMAE = 'configs/fcmae/fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py'


def test_stretch_schedule_scales_every_iteration_count():
    options = stretch_schedule(FCMAE, 500)  # the config: 1000, 50 warm-up
    assert options[0] == 'train_cfg.max_iters=500'
    assert 'param_scheduler.0.end=25' in options
    assert 'param_scheduler.1.begin=25' in options
    assert 'param_scheduler.1.end=500' in options
    assert 'param_scheduler.1.T_max=475' in options


def test_stretch_schedule_refuses_epoch_based_configs():
    with pytest.raises(ValueError, match='does not train by iterations'):
        stretch_schedule(
            'configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py',
            100)


def test_execute_respects_dependencies_and_reports(capsys):
    order, lock = [], threading.Lock()

    def job(key, seconds=1.):
        def fn():
            with lock:
                order.append(key)
            return dict(train_s=seconds, test_s=0.)
        return fn

    jobs = [Job('a', job('a'), weight=3.), Job('b', job('b'), deps=['a']),
            Job('c', job('c', 0.))]
    seen = []
    results = execute(jobs, 2, lambda j, r: seen.append(j.key), label='t')
    assert set(results) == {'a', 'b', 'c'} and sorted(seen) == ['a', 'b', 'c']
    assert order.index('a') < order.index('b')
    out = capsys.readouterr().out
    assert '[t] 3/3 done' in out and '(reused)' in out  # c took no time


def test_execute_raises_the_first_failure_and_starts_nothing_after():
    ran = []

    def boom():
        raise RuntimeError('boom')

    jobs = [Job('bad', boom), Job('after', lambda: ran.append(1) or {},
                                  deps=['bad'])]
    with pytest.raises(RuntimeError, match='boom'):
        execute(jobs, 1)
    assert not ran


def test_format_time_and_threads():
    assert format_time(187.4) == '3m07s'
    assert threads_per_job(1) is None
    assert threads_per_job(2) >= 1
