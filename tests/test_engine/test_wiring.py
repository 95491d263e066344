"""The attachments to mmengine that no public hook point allows
(mmconvnextv2/engine/wiring.py): each check passes on the installed
mmengine and fails in one line when mmengine changes what it relies on, and
each attachment still does its work on mmengine's own loop (a toy Runner in
this process)."""
import os.path as osp

import mmengine
import pytest
import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import BaseModel
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from mmconvnextv2.engine import NonFiniteLossError, NonFiniteLossHook, wiring
from mmconvnextv2.engine.hooks import save_checkpoint_now
from mmconvnextv2.utils import read_pointer
from helpers.toy_runner import checkpoints, toy_runner, weights


@pytest.fixture
def fresh_checks():
    """Checks run afresh in the test, and again after it (the patched
    classes are restored by then)."""
    wiring._checked.clear()
    yield
    wiring._checked.clear()


def test_the_installed_mmengine_passes_every_check(fresh_checks):
    wiring.check_all()
    assert not any(wiring._checked.values()), wiring._checked
    assert set(wiring._checked) == set(wiring.RELIED_ON)


def _changed_signature(self, losses, extra):
    return losses


def _loop_without_iterator(self):
    return None


@pytest.mark.parametrize('name, owner, attr, value, problem', [
    ('BaseModel.parse_losses', BaseModel, 'parse_losses',
     _changed_signature, 'its parameters are (self, losses, extra)'),
    ('IterBasedTrainLoop.dataloader_iterator', IterBasedTrainLoop, 'run',
     _loop_without_iterator,
     'IterBasedTrainLoop.run no longer uses dataloader_iterator'),
    ('CheckpointHook._save_checkpoint', CheckpointHook, '_save_checkpoint',
     None, 'it is gone'),
    ('CheckpointHook.file_backend', CheckpointHook,
     '_save_checkpoint_with_step', None,
     'CheckpointHook._save_checkpoint_with_step is gone'),
])
def test_a_changed_mmengine_fails_in_one_line(fresh_checks, monkeypatch, name,
                                              owner, attr, value, problem):
    if value is None:
        monkeypatch.delattr(owner, attr)
    else:
        monkeypatch.setattr(owner, attr, value)
    with pytest.raises(wiring.MMEngineChangedError) as err:
        wiring.require(name)
    message = str(err.value)
    assert '\n' not in message and f'changed {name} ({problem}' in message
    assert f'mmengine {mmengine.__version__}' in message


def test_a_missing_attribute_fails_in_one_line():
    with pytest.raises(wiring.MMEngineChangedError,
                       match=r'object has no dataloader_iterator'):
        wiring.replace_attribute(object(), 'dataloader_iterator', None,
                                 'IterBasedTrainLoop.dataloader_iterator')


def test_an_untested_version_warns_once(fresh_checks, monkeypatch):
    said = []
    monkeypatch.setattr(wiring, 'print_log', lambda msg, **kw: said.append(
        (msg, kw.get('level'))))
    monkeypatch.setattr(wiring, '_warned', [])
    monkeypatch.setattr(mmengine, '__version__', '0.11.2')
    wiring.require('Runner.save_checkpoint')
    wiring.require('BaseModel.train_step')
    assert len(said) == 1 and said[0][1] == 30
    assert 'not 0.11.2' in said[0][0] and wiring.TESTED[0] in said[0][0]


def test_replace_attribute_puts_the_old_one_back():
    class Owner:
        name = 'class value'
    owner = Owner()
    undo = wiring.replace_attribute(owner, 'name', 'new',
                                    'BaseModel.train_step')
    assert owner.name == 'new'
    undo()
    assert owner.name == 'class value' and 'name' not in vars(owner)


# ------------------------------------------------- on mmengine's own loop
def test_resume_restores_the_random_states_before_the_first_new_batch(
        tmp_path):
    """``dataloader_iterator``: 2 + 2 resumed iterations equal 4 straight;
    without RandomStateHook they do not (the test can fail)."""
    straight = toy_runner(str(tmp_path / 'straight'))
    straight.train()
    work = str(tmp_path / 'resumed')
    toy_runner(work, max_iters=2).train()
    resumed = toy_runner(work, resume=True)
    resumed.train()
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)

    work = str(tmp_path / 'without')
    toy_runner(work, max_iters=2).train()
    without = toy_runner(work, resume=True, drop=['RandomStateHook'])
    without.train()
    c = weights(without)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_nan_loss_stops_before_the_optimizer_step(tmp_path):
    """``parse_losses``: the step of the NaN loss changes no weight."""
    work = str(tmp_path / 'nan')
    runner = toy_runner(work, nan_at=[3])
    with pytest.raises(NonFiniteLossError,
                       match=r'non-finite loss at iteration 3: '
                             r'loss_mse = nan; training stopped'):
        runner.train()
    saved = weights(osp.join(work, 'iter_2.pth'))
    now = weights(runner)
    assert all(torch.equal(saved[k], now[k]) for k in saved)
    assert checkpoints(work) == ['iter_2.pth']


def test_a_nan_step_is_skipped(tmp_path):
    """``train_step``: a skipped step returns no log and training goes on."""
    runner = toy_runner(str(tmp_path / 'skip'), nan_at=[3], max_skips=1)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, NonFiniteLossHook))
    assert hook.skipped == [3] and runner.iter == 4
    assert all(bool(torch.isfinite(v).all())
               for v in weights(runner).values())
    # the wrappers are gone after training
    assert 'parse_losses' not in vars(runner.model)
    assert 'train_step' not in vars(runner.model)


@HOOKS.register_module()
class _SpoilWeightsAt(Hook):
    """Makes the weights NaN after the given iteration (before the
    checkpoint hook saves)."""
    priority = 'NORMAL'

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at:
            with torch.no_grad():
                runner.model.linear.weight.fill_(float('nan'))


def test_non_finite_weights_are_not_saved(tmp_path):
    """``Runner.save_checkpoint``: the check runs before the save."""
    work = str(tmp_path / 'spoilt')
    runner = toy_runner(work, custom_hooks=[dict(type='_SpoilWeightsAt',
                                                 at=4)])
    with pytest.raises(NonFiniteLossError,
                       match=r'the weights at iteration 4 are not finite '
                             r'\(linear.weight\); not saved'):
        runner.train()
    assert checkpoints(work) == ['iter_2.pth']
    assert read_pointer(work).endswith('iter_2.pth')


def test_retired_checkpoint_deleted_only_after_the_new_one(tmp_path,
                                                           monkeypatch):
    """``file_backend``: with max_keep_ckpts=1 a failed save keeps the
    previous checkpoint (mmengine alone deletes it first)."""
    work = str(tmp_path / 'keep1')
    runner = toy_runner(work, checkpoint=dict(max_keep_ckpts=1))
    runner.train()
    assert checkpoints(work) == ['iter_4.pth']
    assert read_pointer(work) == osp.join(work, 'iter_4.pth')

    from mmconvnextv2.engine import file_backend
    write = file_backend.write_atomically

    def full_disk(path, data, *args):
        if str(path).endswith('iter_4.pth'):
            raise OSError(28, 'No space left on device')
        return write(path, data, *args)
    monkeypatch.setattr(file_backend, 'write_atomically', full_disk)
    work = str(tmp_path / 'full')
    with pytest.raises(OSError, match='No space left'):
        toy_runner(work, checkpoint=dict(max_keep_ckpts=1)).train()
    assert checkpoints(work) == ['iter_2.pth']
    assert read_pointer(work) == osp.join(work, 'iter_2.pth')


@HOOKS.register_module()
class _SaveNowAt(Hook):
    """Calls ``save_checkpoint_now`` after the given iterations (as the
    preemption hook does) and records what it returned."""
    priority = 'LOWEST'

    def __init__(self, at) -> None:
        self.at, self.saved = set(at), []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 in self.at:
            self.saved.append(save_checkpoint_now(runner))


def test_save_now_is_the_hooks_own_save(tmp_path):
    """``CheckpointHook._save_checkpoint``: the checkpoint of iteration 3
    is named and retired as the hook's own; at iteration 2 the hook's
    checkpoint is not saved twice."""
    work = str(tmp_path / 'now')
    runner = toy_runner(work, checkpoint=dict(max_keep_ckpts=2),
                        custom_hooks=[dict(type='_SaveNowAt', at=[2, 3])])
    saves = []
    runner.call_hook('before_run')  # installs the wrapper, as train() does
    wiring.before_every_save(runner, 'count', lambda: saves.append(
        runner.iter + 1))
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, _SaveNowAt))
    assert hook.saved == [osp.join(work, 'iter_2.pth'),
                          osp.join(work, 'iter_3.pth')]
    assert saves == [2, 3, 4]  # nothing saved twice
    assert checkpoints(work) == ['iter_3.pth', 'iter_4.pth']
    assert read_pointer(work).endswith('iter_4.pth')
