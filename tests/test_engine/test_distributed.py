"""Distributed runs that survive faults, through tools/dist_train.sh (torchrun,
c10d rendezvous, gloo on CPU), on a tiny UperNet (atto, 64 px crops, BN in
the heads, 8 iterations, a checkpoint every 2):

* one worker SIGKILLed -> torchrun restarts the group, which resumes by
  itself and ends with the weights of the uninterrupted 2-process run;
* two "nodes" of one process each on localhost == one node of two;
* one rank SIGSTOPped -> one error line naming it within the (short)
  collective timeout, then the restarted group resumes and finishes;
* a NaN loss on one rank: skipped on every rank (no backward pass, DDP
  stays in step), then a second one stops the run with one error naming the
  rank, and the restarted group stops at once instead of training into it.
"""
import os
import os.path as osp
import re
import signal
import socket
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import pytest
import torch

from mmconvnextv2.analysis.runner import repo_root, start_tool
from mmconvnextv2.datasets import make_synthetic_data
from mmconvnextv2.runtime import trust_mmengine_checkpoints
from helpers.training import INJECT

SEG = osp.join(repo_root(),
               'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py')
ITERS = 8
CONFIG = f'''_base_ = [{SEG!r}]
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(256, 64), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2, dataset=dict(
    data_root={{data!r}}, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root={{data!r}}))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={ITERS}, val_interval=1000)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False,
                        begin=0, end={ITERS})]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
'''

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not hasattr(signal, 'SIGSTOP'), reason='POSIX signals needed')]


@pytest.fixture(scope='module')
def config(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('dist')
    make_synthetic_data(str(root / 'data'), seed=0, num_train=8, num_val=2,
                        size=64, which=('ade',))
    path = root / 'tiny_upernet.py'
    path.write_text(CONFIG.format(data=str(root / 'data' / 'ade')))
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Launch:
    """``tools/dist_train.sh`` running in the background: its output lines
    (with their times) collected by a thread, ``on_line`` called on each."""

    def __init__(self, config: str, work_dir: str, nproc: int, port: int,
                 on_line: Optional[Callable[[str], None]] = None,
                 **env: str) -> None:
        self.proc = start_tool(
            'dist_train.sh', [config, nproc, '--work-dir', work_dir],
            threads=1, new_session=True,
            env=dict(PYTHON=sys.executable, PORT=str(port),
                     PYTHONWARNINGS='ignore', **env))
        self.log = osp.join(work_dir + f'.node{env.get("NODE_RANK", 0)}.log')
        self.lines: List[Tuple[float, str]] = []
        self._on_line = on_line
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.time(), line))
            if self._on_line:
                self._on_line(line)

    def wait(self, timeout: float = 300) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:  # its own session: all of it
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._reader.join(10)
        with open(self.log, 'w') as f:
            f.write(self.output)
        return code

    @property
    def output(self) -> str:
        return ''.join(line for _, line in self.lines)


def worker_pid(work_dir: str, rank: int) -> Optional[int]:
    """The pid of the training worker of ``rank`` writing to ``work_dir``."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmd = f.read().split(b'\0')
            if b'--launcher' not in cmd or work_dir.encode() not in cmd:
                continue
            with open(f'/proc/{entry}/environ', 'rb') as f:
                environ = dict(item.split(b'=', 1) for item in
                               f.read().split(b'\0') if b'=' in item)
        except OSError:
            continue
        if environ.get(b'RANK') == str(rank).encode():
            return int(entry)
    return None


def final_checkpoint(work_dir: str) -> dict:
    trust_mmengine_checkpoints()
    path = osp.join(work_dir, f'iter_{ITERS}.pth')
    return torch.load(path, map_location='cpu')


def final_state(work_dir: str) -> Dict[str, torch.Tensor]:
    return final_checkpoint(work_dir)['state_dict']


def same_rank_states(a: dict, b: dict) -> bool:
    """Whether two checkpoints hold the same random states and buffers of
    every rank."""
    if len(a['random_states']) != len(b['random_states']):
        return False
    for x, y in zip(a['random_states'], b['random_states']):
        if not torch.equal(x['torch'], y['torch']) or \
                x['python'] != y['python'] or \
                not torch.equal(x['numpy'][1], y['numpy'][1]):
            return False
    for x, y in zip(a['rank_buffers'], b['rank_buffers']):
        if (x is None) != (y is None) or (x and (
                x.keys() != y.keys()
                or any(not torch.equal(x[k], y[k]) for k in x))):
            return False
    return True


def compare(a: Dict[str, torch.Tensor],
            b: Dict[str, torch.Tensor]) -> Tuple[float, int]:
    """(max abs difference, number of differing tensors)."""
    assert a.keys() == b.keys()
    diffs = [(a[k].double() - b[k].double()).abs().max().item()
             if a[k].numel() else 0.0 for k in a]
    return max(diffs), sum(d > 0 for d in diffs)


def trained(output: str) -> List[int]:
    return [int(n) for n in re.findall(rf'Iter\(train\) \[\s*(\d+)/{ITERS}\]',
                                       output)]


@pytest.fixture(scope='module')
def reference(config, tmp_path_factory) -> dict:
    """The final checkpoint of the uninterrupted 2-process run."""
    work_dir = str(tmp_path_factory.mktemp('reference'))
    run = Launch(config, work_dir, 2, free_port())
    assert run.wait() == 0, run.output[-4000:]
    assert trained(run.output) == list(range(1, ITERS + 1))
    return final_checkpoint(work_dir)


def test_sigkill_workers_restart_and_resume_exactly(
        config, reference, tmp_path):
    """Rank 1 killed after iteration 3, then rank 0 (which hosts the
    group's store) after iteration 6 of the restarted group, perhaps while
    it writes iter_6.pth."""
    work_dir = str(tmp_path / 'killed')
    kills = [(3, 1), (6, 0)]  # (after iteration, rank)
    killed: List[float] = []

    def kill(line: str) -> None:
        if len(killed) < len(kills):
            after, rank = kills[len(killed)]
            if f'Iter(train) [{after}/{ITERS}]' in line and (
                    not killed or 'restart 1' in run_text()):
                pid = worker_pid(work_dir, rank)
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                killed.append(time.time())

    def run_text() -> str:
        return ''.join(line for _, line in run.lines)

    run = Launch(config, work_dir, 2, free_port(), kill, MAX_RESTARTS='3')
    code = run.wait()
    output = run.output
    assert code == 0 and len(killed) == 2, output[-4000:]
    for restart in (1, 2):
        assert f'worker group restart {restart}: resuming from' in output, \
            output[-4000:]
    assert trained(output)[-1] == ITERS
    restarted = [next(t for t, line in run.lines
                      if f'worker group restart {n}' in line)
                 for n in (1, 2)]
    print('kill -> resumed group logging: ' + ', '.join(
        f'{b - a:.1f} s' for a, b in zip(killed, restarted)))
    final = final_checkpoint(work_dir)
    diff, differing = compare(reference['state_dict'], final['state_dict'])
    print(f'resumed vs uninterrupted: max abs diff {diff:.3g}, '
          f'{differing} of {len(final["state_dict"])} tensors differ')
    assert diff <= 1e-5, (diff, differing)
    # rank 1's random states and BN statistics came back too
    assert same_rank_states(reference, final)
    assert not list(tmp_path.glob('killed/.*'))  # no temporary file left


def test_two_nodes_on_localhost_equal_one_node(config, reference, tmp_path):
    work_dir = str(tmp_path / 'nodes')
    port = free_port()
    nodes = [Launch(config, work_dir, 1, port, NNODES='2', NODE_RANK='0')]
    time.sleep(1)
    nodes.append(Launch(config, work_dir, 1, port, NNODES='2',
                        NODE_RANK='1'))
    codes = [node.wait() for node in nodes]
    output = nodes[0].output + nodes[1].output
    assert codes == [0, 0], output[-4000:]
    assert re.search(r'GPU number: 2\b', output), output[-4000:]
    diff, differing = compare(reference['state_dict'],
                              final_state(work_dir))
    print(f'2 nodes vs 2 processes: max abs diff {diff:.3g}, '
          f'{differing} of {len(reference["state_dict"])} tensors differ')
    assert diff <= 1e-5, (diff, differing)


def test_sigstop_one_rank_fails_within_timeout_then_resumes(
        config, tmp_path):
    work_dir = str(tmp_path / 'stopped')
    timeout = 15
    stopped: List[float] = []

    def stop_after_iteration_3(line: str) -> None:
        if not stopped and f'Iter(train) [3/{ITERS}]' in line:
            pid = worker_pid(work_dir, 1)
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            stopped.append(time.time())

    run = Launch(config, work_dir, 2, free_port(), stop_after_iteration_3,
                 MAX_RESTARTS='1', MMCNV2_DIST_TIMEOUT=str(timeout))
    code = run.wait()
    output = run.output
    errors = [(t, line) for t, line in run.lines
              if line.startswith('error:')]
    assert stopped and len(errors) == 1, output[-4000:]
    when, error = errors[0]
    assert 'rank 1 stopped answering' in error and f'{timeout} s' in error
    hang_to_error = when - stopped[0]
    print(f'hang -> error: {hang_to_error:.1f} s (timeout {timeout} s); '
          f'{error.strip()}')
    assert hang_to_error < timeout + 15
    assert code == 0, output[-4000:]
    assert 'worker group restart 1: resuming from' in output
    assert trained(output)[-1] == ITERS
    resumed = next(t for t, line in run.lines
                   if 'worker group restart 1' in line)
    print(f'error -> restarted group resuming: {resumed - when:.1f} s')


def test_nan_loss_on_one_rank_skips_then_stops_once(config, tmp_path):
    (tmp_path / 'nan_inject.py').write_text(INJECT)
    nan_config = tmp_path / 'nan_run.py'
    nan_config.write_text(
        f'_base_ = [{config!r}]\n'
        "custom_imports = dict(imports=['mmconvnextv2', 'nan_inject'],\n"
        '                      allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='NaNLossAt', iters=[3, 5], ranks=[1])]\n"
        'max_nonfinite_skips = 1\n')
    work_dir = str(tmp_path / 'nan')
    run = Launch(str(nan_config), work_dir, 2, free_port(), MAX_RESTARTS='1',
                 PYTHONPATH=str(tmp_path))
    code = run.wait()
    output = run.output
    assert code != 0, output[-4000:]
    assert re.search(r'non-finite loss at iteration 3: decode\.loss_ce = nan '
                     r'\(rank 1\); step skipped \(1 of at most 1', output), \
        output[-4000:]
    errors = [line.strip() for _, line in run.lines
              if line.startswith('error:')]
    assert len(errors) == 2, errors  # the first group's, the restarted one's
    assert re.match(r'error: non-finite loss at iteration 5: decode\.loss_ce '
                    r'= nan \(rank 1\); training stopped before the '
                    r'optimizer step after skipping 1', errors[0]), errors[0]
    assert 'iter_4.pth' in errors[0]
    assert 'before restart 1 stopped with' in errors[1], errors[1]
    assert trained(output) == [1, 2, 3, 4]  # once: no second training
    trust_mmengine_checkpoints()
    last = torch.load(osp.join(work_dir, 'iter_4.pth'), map_location='cpu')
    assert all(bool(torch.isfinite(v).all())
               for v in last['state_dict'].values() if v.is_floating_point())
    print('NaN run: ' + ' | '.join(errors))
