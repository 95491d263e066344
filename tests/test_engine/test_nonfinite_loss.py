"""A NaN loss stops tools/train.py before the optimizer step with one error
naming the iteration and the loss term, and the newest checkpoint stays the
last finite one; ``max_nonfinite_skips=K`` skips up to K such steps, each
logged (tiny FCMAE run, one process)."""
import glob
import os.path as osp
import re

import torch

from mmconvnextv2.analysis.runner import capture_tool
from mmconvnextv2.runtime import trust_mmengine_checkpoints
from mmconvnextv2.utils import read_pointer
from helpers.training import INJECT, write_tiny_run




def _config(tmp_path, iters) -> str:
    base = write_tiny_run(str(tmp_path))
    (tmp_path / 'nan_inject.py').write_text(INJECT)
    path = tmp_path / 'nan_run.py'
    path.write_text(
        f'_base_ = [{base!r}]\n'
        "custom_imports = dict(imports=['mmconvnextv2', 'nan_inject'],\n"
        '                      allow_failed_imports=False)\n'
        f"custom_hooks = [dict(type='NaNLossAt', iters={list(iters)!r})]\n")
    return str(path)


def _train(tmp_path, iters, *options: str):
    work_dir = tmp_path / 'work'
    args = [_config(tmp_path, iters), '--work-dir', work_dir]
    if options:
        args += ['--cfg-options', *options]
    done = capture_tool('tools/train.py', args, threads=1, timeout=240,
                        env={'PYTHONPATH': str(tmp_path),
                             'PYTHONWARNINGS': 'ignore'})
    return done, str(work_dir)


def _all_finite(path: str) -> bool:
    trust_mmengine_checkpoints()
    state = torch.load(path, map_location='cpu')['state_dict']
    return all(bool(torch.isfinite(v).all()) for v in state.values()
               if v.is_floating_point())


def _checkpoints(work_dir: str):
    return sorted(osp.basename(p)
                  for p in glob.glob(osp.join(work_dir, '*.pth')))


def test_nan_loss_stops_naming_iteration_and_term(tmp_path):
    done, work_dir = _train(tmp_path, [3])
    assert done.returncode == 1, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines()
              if line.startswith('error:')]
    assert len(errors) == 1 and 'Traceback' not in done.stderr, done.stderr
    assert re.search(r'non-finite loss at iteration 3: loss\S* = nan',
                     errors[0]), errors[0]
    assert 'iter_2.pth' in errors[0]
    assert _checkpoints(work_dir) == ['iter_2.pth']
    assert read_pointer(work_dir).endswith('iter_2.pth')
    assert _all_finite(osp.join(work_dir, 'iter_2.pth'))


def test_skip_option_skips_and_logs_each_step(tmp_path):
    done, work_dir = _train(tmp_path, [3, 5], 'max_nonfinite_skips=2')
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    skipped = re.findall(r'non-finite loss at iteration (\d+): .*step '
                         r'skipped \((\d) of at most 2', output)
    assert skipped == [('3', '1'), ('5', '2')], output[-3000:]
    assert 'Iter(train) [6/6]' in output
    assert _checkpoints(work_dir) == ['iter_2.pth', 'iter_4.pth',
                                      'iter_6.pth']
    assert _all_finite(osp.join(work_dir, 'iter_6.pth'))


def test_skips_are_limited(tmp_path):
    done, work_dir = _train(tmp_path, [2, 3], 'max_nonfinite_skips=1')
    assert done.returncode == 1, done.stderr[-3000:]
    error = [line for line in done.stderr.splitlines()
             if line.startswith('error:')]
    assert len(error) == 1 and 'iteration 3' in error[0], done.stderr
    assert 'after skipping 1 such steps (at iterations 2)' in error[0]
    assert _checkpoints(work_dir) == ['iter_2.pth']
    assert _all_finite(osp.join(work_dir, 'iter_2.pth'))
