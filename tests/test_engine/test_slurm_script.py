"""tools/slurm_train.sh asks Slurm for the early signal, requeues a
preempted job (exit 75) and resumes a requeued one (fake srun/scontrol)."""
import os
import os.path as osp
import stat
import subprocess

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def fake(folder, name: str, status: int) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "$@" >> {folder}/{name}.args\n'
                    f'exit {status}\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run(tmp_path, srun_status: int, **env):
    fake(tmp_path, 'srun', srun_status)
    fake(tmp_path, 'scontrol', 0)
    done = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'part', 'job', 'CONFIG', 'WORK',
         '--amp'], cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}', **env))
    srun = (tmp_path / 'srun.args').read_text()
    requeue = tmp_path / 'scontrol.args'
    return done, srun, requeue.read_text() if requeue.exists() else None


def test_preempted_batch_job_is_requeued_and_resumes(tmp_path):
    done, srun, requeue = run(tmp_path, 75, SLURM_JOB_ID='42',
                              SLURM_RESTART_COUNT='1')
    assert done.returncode == 0 and requeue.strip() == 'requeue 42'
    assert '--signal=USR1@120' in srun and '--resume' in srun
    assert srun.rstrip().endswith('--launcher slurm --resume --amp')


def test_first_run_and_other_failures_are_not_requeued(tmp_path):
    done, srun, requeue = run(tmp_path, 1, SLURM_JOB_ID='42')
    assert done.returncode == 1 and requeue is None
    assert '--resume' not in srun
    done, srun, requeue = run(tmp_path, 75)  # no job to requeue
    assert done.returncode == 75 and requeue is None
