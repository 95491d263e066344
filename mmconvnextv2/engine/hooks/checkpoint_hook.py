"""mmengine's CheckpointHook with atomic saves, and a checkpoint on demand.

:class:`AtomicCheckpointHook` takes the arguments of mmengine's hook, which
keeps its schedule, names and bookkeeping and does the saving. Ours adds,
about never losing a checkpoint:

* local checkpoints are written through :class:`AtomicLocalBackend`
  (temporary file, fsync, rename) unless the config chose a backend;
* the checkpoint that ``max_keep_ckpts`` retires (and a replaced best one)
  is deleted only after the new checkpoint and the ``last_checkpoint``
  pointer are written: upstream deletes it first, so a failed save could
  leave no checkpoint at all. mmengine writes the pointer after the
  checkpoint is in place; a pointer left empty by a crash reads as none,
  and ``--resume`` then takes the newest readable checkpoint
  (:mod:`mmconvnextv2.engine.resume`);
* :meth:`AtomicCheckpointHook.save_now`: a checkpoint after the current
  iteration (the preemption save).

The deletions are held back through the hook's ``file_backend`` and the
save on demand uses the hook's own save:
:mod:`mmconvnextv2.engine.wiring` attaches both.
"""
import os.path as osp
from typing import Any, Callable, List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ...utils.fileio import POINTER, write_atomically
from ...utils.paths import is_remote
from ..wiring import replace_attribute, save_on_schedule

__all__ = ['AtomicCheckpointHook', 'save_checkpoint_now', 'POINTER']

ATOMIC_BACKEND = {'backend': 'atomic_local'}


class _HeldDeletions:
    """A checkpoint hook's file backend whose ``remove`` and ``rmtree``
    wait for :meth:`release`; everything else goes to ``backend``."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.held: List[Tuple[Callable[[str], None], str]] = []

    def remove(self, filepath: str) -> None:
        self.held.append((self.backend.remove, filepath))

    def rmtree(self, dir_path: str) -> None:
        self.held.append((self.backend.rmtree, dir_path))

    def release(self, keep: Optional[str] = None) -> None:
        """Delete what was held back, except ``keep``."""
        held, self.held = self.held, []
        for delete, path in held:
            if path == keep:
                continue
            try:
                delete(path)
            except FileNotFoundError:
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose saves are atomic."""

    def before_train(self, runner) -> None:
        if (self.backend_args is None and self.file_client_args is None
                and not is_remote(self.out_dir)):
            self.backend_args = dict(ATOMIC_BACKEND)
        super().before_train(runner)
        replace_attribute(self, 'file_backend',
                          _HeldDeletions(self.file_backend),
                          'CheckpointHook.file_backend')

    def _release(self) -> None:
        """Delete the checkpoints retired by the saves just made."""
        backend = getattr(self, 'file_backend', None)
        if isinstance(backend, _HeldDeletions):
            backend.release(keep=self.last_ckpt)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self._release()

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self._release()

    def after_val_epoch(self, runner, metrics) -> None:
        super().after_val_epoch(runner, metrics)
        self._release()

    def save_now(self, runner) -> str:
        """Save a checkpoint after the current training iteration (e.g. on
        preemption); return its path. Iteration-based runs get the usual
        ``iter_<n>.pth``; epoch-based runs ``iter_<n>.pth`` too, which
        resumes at the start of the unfinished epoch."""
        step = runner.iter + 1
        if not self.by_epoch:
            scheduled = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(step))
            if self.last_ckpt != scheduled:  # not saved at this iteration
                save_on_schedule(self, runner)
                self._release()
            return self.last_ckpt
        # outside the epoch files and their bookkeeping
        filename = f'iter_{step}.pth'
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=dict(epoch=runner.epoch, iter=step), by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if is_main_process():
            write_atomically(osp.join(runner.work_dir, POINTER),
                             self.last_ckpt)
        return self.last_ckpt


def save_checkpoint_now(runner) -> str:
    """Save a checkpoint now through the runner's AtomicCheckpointHook, or
    atomically into the work dir when the config has no checkpoint hook."""
    for hook in runner.hooks:
        if isinstance(hook, AtomicCheckpointHook):
            return hook.save_now(runner)
    step = runner.iter + 1
    filename = f'iter_{step}.pth'
    runner.save_checkpoint(runner.work_dir, filename, by_epoch=False,
                           meta=dict(epoch=runner.epoch, iter=step),
                           backend_args=dict(ATOMIC_BACKEND))
    path = osp.join(runner.work_dir, filename)
    if is_main_process():
        write_atomically(osp.join(runner.work_dir, POINTER), path)
    return path
