"""tools/slurm_train.sh on several nodes (a fake srun records its arguments):
the node count, tasks per node and GPUs per node follow GPUS and
GPUS_PER_NODE, every job gets its own MASTER_PORT, and MAX_RESTARTS reruns
a failed step with --resume."""
import os
import stat
import subprocess
from typing import Dict, List, Sequence, Tuple

from mmconvnextv2.analysis.runner import repo_root


def _fake_srun(folder, statuses: Sequence[int]) -> None:
    """An srun that logs its arguments and MASTER_PORT, one line per call,
    and exits with the next of ``statuses``."""
    (folder / 'statuses').write_text('\n'.join(map(str, statuses)) + '\n')
    path = folder / 'srun'
    path.write_text(
        '#!/bin/sh\n'
        f'echo "MASTER_PORT=$MASTER_PORT $*" >> {folder}/srun.calls\n'
        f'status=$(head -n1 {folder}/statuses)\n'
        f"sed -i '1d' {folder}/statuses\n"
        'exit "$status"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _run(tmp_path, statuses: Sequence[int], **env: str
         ) -> Tuple[int, List[str], str]:
    _fake_srun(tmp_path, statuses)
    clean: Dict[str, str] = {k: v for k, v in os.environ.items()
                             if not k.startswith('SLURM_')
                             and k not in ('MASTER_PORT', 'GPUS',
                                           'GPUS_PER_NODE', 'MAX_RESTARTS')}
    done = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'part', 'job', 'CONFIG', 'WORK'],
        cwd=repo_root(), capture_output=True, text=True,
        env=dict(clean, PATH=f'{tmp_path}:{os.environ["PATH"]}', **env))
    calls = (tmp_path / 'srun.calls').read_text().splitlines()
    return done.returncode, calls, done.stderr


def test_two_nodes_of_eight(tmp_path):
    code, calls, _ = _run(tmp_path, [0], GPUS='16', SLURM_JOB_ID='12345')
    assert code == 0 and len(calls) == 1
    assert calls[0].startswith('MASTER_PORT=32345 ')  # 20000 + 12345
    for arg in ('--nodes=2', '--ntasks=16', '--ntasks-per-node=8',
                '--gres=gpu:8', '--kill-on-bad-exit=1', '--launcher slurm'):
        assert arg in calls[0], calls[0]


def test_fewer_gpus_than_a_node(tmp_path):
    code, calls, _ = _run(tmp_path, [0], GPUS='4', MASTER_PORT='23456')
    assert code == 0
    assert calls[0].startswith('MASTER_PORT=23456 ')
    for arg in ('--nodes=1', '--ntasks=4', '--ntasks-per-node=4',
                '--gres=gpu:4'):
        assert arg in calls[0], calls[0]


def test_failed_step_restarts_with_resume(tmp_path):
    code, calls, err = _run(tmp_path, [1, 0], MAX_RESTARTS='2')
    assert code == 0 and len(calls) == 2, (calls, err)
    assert '--resume' not in calls[0] and '--launcher slurm --resume' in \
        calls[1]
    assert 'restart 1 of 2' in err


def test_restarts_are_limited(tmp_path):
    code, calls, _ = _run(tmp_path, [1, 1, 1, 0], MAX_RESTARTS='2')
    assert code == 1 and len(calls) == 3
