"""Nothing lost: atomic checkpoints under SIGKILL, resume past damaged
checkpoints, preemption (SIGTERM -> checkpoint -> exact resume) and a full
disk (RLIMIT_FSIZE), all through tools/train.py in real processes."""
import os
import os.path as osp
import random
import resource
import signal
import subprocess
import time

import pytest
import torch

from mmconvnextv2.engine import (PREEMPTED_EXIT_CODE, ResumeError,
                                 checkpoint_problem, find_resume_checkpoint)
from mmconvnextv2.runtime import trust_mmengine_checkpoints
from mmconvnextv2.utils import read_pointer
from helpers.training import start_train, train, write_tiny_run
from helpers.tools import load_script

# every test trains through tools/train.py (about 10 s a run on 2 cores)
pytestmark = [pytest.mark.skipif(not hasattr(signal, 'SIGKILL'),
                                 reason='POSIX signals needed'),
              pytest.mark.slow]


def pointer(work_dir: str) -> str:
    return read_pointer(work_dir)


def params(path: str) -> dict:
    trust_mmengine_checkpoints()
    return torch.load(path, map_location='cpu')['state_dict']


def wait_for(proc: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """Read ``proc``'s output until a line contains ``text``."""
    seen = []
    end = time.time() + timeout
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return ''.join(seen)
        assert time.time() < end, f'no {text!r} in:\n' + ''.join(seen)[-3000:]
    raise AssertionError(f'process ended without {text!r}:\n' +
                         ''.join(seen)[-3000:])


def kill_during_save(config: str, work_dir: str, seed: int) -> None:
    """SIGKILL the run at a random moment while it writes iter_4.pth."""
    proc = start_train(config, work_dir, '--cfg-options',
                       'train_cfg.max_iters=4', slow='iter_4.pth')
    try:
        wait_for(proc, 'SLOW-SAVE')
        time.sleep(random.Random(seed).uniform(0.0, 3.0))
        proc.kill()
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()


def test_kill_during_save_then_damaged_newest_falls_back(tmp_path):
    config = write_tiny_run(str(tmp_path))
    work = str(tmp_path / 'work')
    # 1. SIGKILL while iter_4.pth is being written
    kill_during_save(config, work, seed=0)
    # the previous checkpoint and the pointer are intact, no iter_4.pth
    assert pointer(work).endswith('iter_2.pth')
    assert checkpoint_problem(osp.join(work, 'iter_2.pth')) is None
    assert not osp.exists(osp.join(work, 'iter_4.pth'))
    done = train(config, work, '--resume', '--cfg-options',
                 'train_cfg.max_iters=4')
    log = done.stdout + done.stderr
    assert 'resumed epoch: 0, iter: 2' in log and 'Iter(train) [4/4]' in log
    assert pointer(work).endswith('iter_4.pth')
    # the interrupted write's temporary file was cleaned up
    assert not [n for n in os.listdir(work) if n.endswith('.tmp-atomic')]

    # 2. the newest checkpoint damaged (as a crash outside our writer leaves it)
    newest = osp.join(work, 'iter_4.pth')
    with open(newest, 'r+b') as f:
        f.truncate(os.path.getsize(newest) // 2)
    # --resume PATH with the damaged file: one line naming it
    done = train(config, work, '--resume', newest, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        f'error: cannot resume from {newest}: truncated or damaged')
    assert 'Traceback' not in done.stderr
    # --resume: one warning naming the file and why, resume from iter_2
    done = train(config, work, '--resume', '--cfg-options',
                 'train_cfg.max_iters=4')
    log = done.stdout + done.stderr
    warnings = [line for line in log.splitlines()
                if 'cannot resume from' in line]
    assert len(warnings) == 1 and newest in warnings[0] and \
        'truncated or damaged' in warnings[0] and 'iter_2.pth' in warnings[0]
    assert 'resumed epoch: 0, iter: 2' in log
    assert checkpoint_problem(newest) is None  # written again

    # 3. nothing readable: one error listing every file tried
    for name in ('iter_2.pth', 'iter_4.pth'):
        with open(osp.join(work, name), 'wb') as f:
            f.write(b'PK\x03\x04garbage')
    with pytest.raises(ResumeError) as err:
        find_resume_checkpoint(work)
    message = str(err.value)
    assert message.startswith('no readable checkpoint to resume from')
    assert 'iter_2.pth' in message and 'iter_4.pth' in message
    assert '\n' not in message


def preempt(config: str, work: str, options: list, sig: int) -> int:
    """Send ``sig`` to a run after its iteration 2; check that it saved a
    checkpoint and exited with the preemption code; return the saved step."""
    proc = start_train(config, work, *options)
    try:
        wait_for(proc, 'Iter(train) [2/6]')
        proc.send_signal(sig)
        rest = proc.stdout.read()
    finally:
        proc.wait(timeout=120)
        proc.stdout.close()
    assert proc.returncode == PREEMPTED_EXIT_CODE, rest[-3000:]
    saved = pointer(work)
    step = int(saved.rsplit('_', 1)[1].split('.')[0])
    assert 2 <= step < 6 and f'checkpoint saved to {saved}' in rest
    assert f'exiting with code {PREEMPTED_EXIT_CODE}' in rest
    assert checkpoint_problem(saved) is None
    return step


def test_sigusr1_saves_and_exits_75(tmp_path):
    """Slurm's early warning (--signal=USR1@120) preempts like SIGTERM."""
    config = write_tiny_run(str(tmp_path))
    preempt(config, str(tmp_path / 'usr1'),
            ['--cfg-options', 'default_hooks.checkpoint.interval=100'],
            signal.SIGUSR1)


@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    """The tiny run trained without interruption (6 iterations, the
    config's seed 0): its config and its final weights, for the runs
    that are interrupted and resumed to equal."""
    root = tmp_path_factory.mktemp('straight')
    config = write_tiny_run(str(root))
    train(config, str(root / 'work'), '--cfg-options',
          'default_hooks.checkpoint.interval=100')
    return config, params(str(root / 'work' / 'iter_6.pth'))


def test_sigterm_saves_and_resume_equals_uninterrupted(tmp_path, straight):
    config, a = straight
    options = ['--cfg-options', 'default_hooks.checkpoint.interval=100']
    work = str(tmp_path / 'preempted')
    step = preempt(config, work, options, signal.SIGTERM)

    done = train(config, work, '--resume', *options)
    assert f'resumed epoch: 0, iter: {step}' in done.stdout + done.stderr
    b = params(osp.join(work, 'iter_6.pth'))
    assert a.keys() == b.keys()
    diff = max((a[k].double() - b[k].double()).abs().max().item() for k in a)
    print(f'resume after SIGTERM at iteration {step}: max |diff| = {diff:.3g}')
    assert diff <= 1e-6


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_keeps_previous_checkpoint(tmp_path):
    config = write_tiny_run(str(tmp_path))
    work = str(tmp_path / 'work')
    train(config, work, '--cfg-options', 'train_cfg.max_iters=2')
    previous = osp.join(work, 'iter_2.pth')
    before = open(previous, 'rb').read()
    # files may not grow beyond half a checkpoint in the resumed run
    done = train(config, work, '--resume', '--cfg-options',
                 'train_cfg.max_iters=4', check=False,
                 preexec_fn=_limit_file_size(len(before) // 2))
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1, done.stderr[-3000:]
    assert last.startswith('error: ') and 'Traceback' not in done.stderr
    assert osp.join(work, 'iter_4.pth') in last and 'File too large' in last
    assert open(previous, 'rb').read() == before
    assert pointer(work).endswith('iter_2.pth')
    assert sorted(n for n in os.listdir(work) if 'pth' in n) == ['iter_2.pth']


def test_kill_resume_check_tool(tmp_path, capsys):
    """tools/analysis_tools/kill_resume_check.py: two SIGKILLs at random
    moments, two resumes, the final weights equal the uninterrupted run's."""
    tool = load_script('tools/analysis_tools/kill_resume_check.py')
    config = write_tiny_run(str(tmp_path))
    work = str(tmp_path / 'check')
    code = tool.main([config, '--kills', '2', '--seed', '1',
                      '--max-delay', '0.5', '--work-dir', work])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith('kills survived: 2/2; final run exit 0'), out
    assert '0 unreadable; 0 temporary file(s) left' in summary
    diff = float(summary.rsplit('=', 1)[1])
    assert diff <= 1e-6, summary


def test_resume_without_a_seed_keeps_the_checkpoints_seed(tmp_path,
                                                        straight):
    """A config without randomness.seed: the resumed run takes the seed of
    its checkpoint (the config's 0 when it was written) before the
    dataloader is built, so its data order (the InfiniteSampler's shuffle)
    and weights equal the uninterrupted run's."""
    config, a = straight
    work = str(tmp_path / 'resumed')
    train(config, work, '--cfg-options', 'train_cfg.max_iters=2')
    done = train(config, work, '--resume', '--cfg-options',
                 'randomness.seed=None')
    log = done.stdout + done.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'resuming with the seed of' in log and \
        ' 0 (the config sets none)' in log, log[-3000:]
    b = params(osp.join(work, 'iter_6.pth'))
    diff = max((a[k].double() - b[k].double()).abs().max().item() for k in a)
    assert diff <= 1e-6, diff
