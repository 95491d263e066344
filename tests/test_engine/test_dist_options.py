"""The options of issue 20 without processes: the collective timeout (config
key, environment variable, default), the non-finite skip count, the hooks
every Runner gets, the resume of a restarted worker group and the record of
an error a restart cannot mend."""
import pytest
import torch
from mmengine.config import Config

from mmconvnextv2.engine import (DEFAULT_DIST_TIMEOUT, NonFiniteLossError,
                                 make_reliable, set_dist_timeout)
from mmconvnextv2.engine.distributed import (FAILED_MARK,
                                             RepeatedFailureError,
                                             check_previous_failure,
                                             remember_fatal_error)
from mmconvnextv2.engine.hooks.dist_watchdog_hook import \
    explain_collective_error
from mmconvnextv2.engine.hooks.nonfinite_loss_hook import nonfinite_skips


def _cfg(work_dir, **extra) -> Config:
    return Config(dict(work_dir=str(work_dir), train_cfg=dict(max_iters=2),
                       **extra))


def test_timeout_default_config_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv('MMCNV2_DIST_TIMEOUT', raising=False)
    cfg = _cfg(tmp_path)
    assert set_dist_timeout(cfg) == DEFAULT_DIST_TIMEOUT == 600
    assert cfg.env_cfg.dist_cfg.timeout == 600
    cfg = _cfg(tmp_path, env_cfg=dict(dist_cfg=dict(backend='gloo',
                                                    timeout=120)))
    assert set_dist_timeout(cfg) == 120
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    monkeypatch.setenv('MMCNV2_DIST_TIMEOUT', '30')
    assert set_dist_timeout(cfg) == 30  # the environment wins
    monkeypatch.setenv('MMCNV2_DIST_TIMEOUT', 'soon')
    with pytest.raises(ValueError, match='MMCNV2_DIST_TIMEOUT'):
        set_dist_timeout(cfg)


def test_skip_count(monkeypatch):
    monkeypatch.delenv('MMCNV2_MAX_NONFINITE_SKIPS', raising=False)
    assert nonfinite_skips(Config(dict())) == 0
    assert nonfinite_skips(Config(dict(max_nonfinite_skips=3))) == 3
    monkeypatch.setenv('MMCNV2_MAX_NONFINITE_SKIPS', '5')
    assert nonfinite_skips(Config(dict(max_nonfinite_skips=3))) == 5
    monkeypatch.setenv('MMCNV2_MAX_NONFINITE_SKIPS', '-1')
    with pytest.raises(ValueError):
        nonfinite_skips(Config(dict()))


def test_every_runner_gets_the_hooks(tmp_path, monkeypatch):
    monkeypatch.delenv('MMCNV2_MAX_NONFINITE_SKIPS', raising=False)
    monkeypatch.delenv('TORCHELASTIC_RESTART_COUNT', raising=False)
    cfg = _cfg(tmp_path, max_nonfinite_skips=2)
    make_reliable(cfg)
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert {'PreemptionHook', 'RandomStateHook', 'DistWatchdogHook',
            'NonFiniteLossHook'} <= set(hooks)
    assert hooks['NonFiniteLossHook']['max_skips'] == 2
    assert cfg.env_cfg.dist_cfg.timeout == 600


def test_restarted_group_resumes_from_the_work_dir(tmp_path, monkeypatch):
    torch.save({'state_dict': {}}, tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    cfg = _cfg(tmp_path, load_from='pretrained.pth')
    make_reliable(cfg)  # first start: fine-tunes from load_from
    assert not cfg.get('resume') and cfg.load_from == 'pretrained.pth'
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    cfg = _cfg(tmp_path, load_from='pretrained.pth')
    make_reliable(cfg)
    assert cfg.resume and cfg.load_from == str(tmp_path / 'iter_4.pth')


def test_restart_without_checkpoint_starts_again(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '2')
    cfg = _cfg(tmp_path)
    make_reliable(cfg)
    assert not cfg.get('resume') and not cfg.get('load_from')


def test_error_a_restart_cannot_mend_is_not_repeated(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    monkeypatch.setenv('RANK', '0')
    with pytest.raises(NonFiniteLossError):
        with remember_fatal_error(str(tmp_path)):
            raise NonFiniteLossError('non-finite loss at iteration 3')
    assert (tmp_path / FAILED_MARK).read_text() == \
        'non-finite loss at iteration 3'
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    with pytest.raises(RepeatedFailureError,
                       match='before restart 1 stopped with "non-finite'):
        check_previous_failure(str(tmp_path))
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')  # a new launch
    check_previous_failure(str(tmp_path))
    assert not (tmp_path / FAILED_MARK).exists()


def test_collective_errors_need_a_watched_run():
    # one process: nothing to explain, the error goes on as it is
    assert explain_collective_error(RuntimeError('timed out')) is None
    assert explain_collective_error(ValueError('timed out')) is None
