"""mmengine's CheckpointHook with atomic saves and an atomic pointer.

Differences from the upstream hook, all about never losing a checkpoint:

* local checkpoints are written through :class:`AtomicLocalBackend`
  (temporary file, fsync, rename) unless the config chose a backend;
* the ``last_checkpoint`` pointer is written after the checkpoint is in
  place, itself atomically;
* with ``max_keep_ckpts``, the oldest checkpoint is deleted only after the
  new one and the pointer are written (upstream deletes it first, so a
  failed save could leave no checkpoint at all).
"""
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ...utils.fileio import POINTER, write_atomically
from ...utils.paths import is_remote

__all__ = ['AtomicCheckpointHook', 'save_checkpoint_now', 'POINTER']

ATOMIC_BACKEND = {'backend': 'atomic_local'}


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose saves are atomic."""

    def before_train(self, runner) -> None:
        if (self.backend_args is None and self.file_client_args is None
                and not is_remote(self.out_dir)):
            self.backend_args = dict(ATOMIC_BACKEND)
        super().before_train(runner)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict,
                                   filename: Optional[str] = None) -> str:
        """Save ``filename`` (default: the hook's template at ``step``),
        then point ``last_checkpoint`` at it, then drop the checkpoint that
        ``max_keep_ckpts`` retires. Return the checkpoint's path."""
        filename = filename or self.filename_tmpl.format(step)
        stale: List[int] = []
        if self.max_keep_ckpts > 0 and filename == self.filename_tmpl.format(
                step) and (not self.keep_ckpt_ids
                           or self.keep_ckpt_ids[-1] != step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)
        self._last_saved = (self.last_ckpt, step)
        if not is_main_process():
            return self.last_ckpt
        write_atomically(osp.join(runner.work_dir, POINTER), self.last_ckpt)
        for old in stale:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)
        return self.last_ckpt

    def save_now(self, runner) -> str:
        """Save a checkpoint after the current training iteration (e.g. on
        preemption); return its path. Iteration-based runs get the usual
        ``iter_<n>.pth``; epoch-based runs ``iter_<n>.pth`` too, which
        resumes at the start of the unfinished epoch."""
        step = runner.iter + 1
        meta = dict(epoch=runner.epoch, iter=step)
        saved = getattr(self, '_last_saved', None)
        if not self.by_epoch and saved and saved[1] == step:
            return saved[0]  # this iteration's checkpoint is already saved
        if self.by_epoch:  # outside the epoch files and their bookkeeping
            return self._save_checkpoint_with_step(
                runner, step, meta, filename=f'iter_{step}.pth')
        return self._save_checkpoint_with_step(runner, step, meta)


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


