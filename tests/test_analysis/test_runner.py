"""mmconvnextv2.analysis.runner: one way to start the tools."""
import os
import sys

import pytest

from mmconvnextv2.analysis.runner import (ToolError, ToolRunner, capture_tool,
                                          child_env, data_options, repo_root,
                                          run_tool, tool_command)

SCRIPT = '''import os, sys
print('threads', os.environ.get('OMP_NUM_THREADS'), *sys.argv[1:])
print('to stderr', file=sys.stderr)
sys.exit(int(os.environ.get('EXIT', '0')))
'''


@pytest.fixture
def tool(tmp_path):
    path = tmp_path / 'tool.py'
    path.write_text(SCRIPT)
    return str(path)


def test_command_and_environment():
    cmd = tool_command('train.py', ['a', 1])
    assert cmd == [sys.executable, os.path.join(repo_root(), 'tools',
                                                'train.py'), 'a', '1']
    assert tool_command('tools/test.py')[1].endswith('tools/test.py')
    env = child_env(1, {'X': 'y'})
    assert env['OMP_NUM_THREADS'] == env['MKL_NUM_THREADS'] == '1'
    assert env['X'] == 'y' and env['PYTHONUNBUFFERED'] == '1'


def test_run_tool_logs_and_raises(tool, tmp_path):
    log = str(tmp_path / 'logs' / 'tool.log')
    lines = []
    done = run_tool(tool, ['x'], log=log, threads=1, on_line=lines.append)
    assert done.returncode == 0 and 'threads 1 x' in done.stdout
    assert 'to stderr' in done.stdout and lines
    text = open(log).read()
    assert text.startswith('$ ') and 'threads 1 x' in text
    with pytest.raises(ToolError, match='exit 3') as err:
        run_tool(tool, [], log=log, env={'EXIT': '3'})
    assert err.value.code == 3 and err.value.log == log
    assert run_tool(tool, [], env={'EXIT': '3'}, check=False).returncode == 3


def test_capture_tool_keeps_stderr_apart(tool):
    done = capture_tool(tool, ['y'], threads=2, env={'EXIT': '1'})
    assert done.returncode == 1 and done.stdout.strip() == 'threads 2 y'
    assert done.stderr.strip() == 'to stderr'


def test_tool_runner_announces_and_times(tool, tmp_path, capsys,
                                         monkeypatch):
    seconds = ToolRunner(threads=1, quiet=True)(tool, ['z'],
                                                str(tmp_path / 'a.log'))
    out = capsys.readouterr().out
    assert seconds > 0 and out.startswith(f'$ {tool} z   (log: ')
    assert 'threads' not in out  # quiet: the output went to the log only
    # without ``threads`` the runner sets no OMP_NUM_THREADS of its own (the
    # suite's workers set one for themselves: not inherited here)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    ToolRunner()(tool, ['w'], str(tmp_path / 'b.log'))
    assert 'threads None w' in capsys.readouterr().out


def test_data_options():
    assert data_options('fcmae', '/d') == \
        ['train_dataloader.dataset.data_root=/d/']
    det = data_options('det', '/d/')
    assert det[0] == 'train_dataloader.dataset.data_root=/d/coco/'
    assert det[-1] == \
        'test_evaluator.ann_file=/d/coco/annotations/instances_val.json'
    assert data_options('seg', '/d', ['train']) == \
        ['train_dataloader.dataset.data_root=/d/ade']
    assert data_options('root', '/d')[2] == \
        'test_dataloader.dataset.data_root=/d'


def test_shell_launchers_run_under_bash():
    from mmconvnextv2.analysis.runner import tool_command
    cmd = tool_command('dist_train.sh', ['cfg.py', 2])
    assert cmd[0] == 'bash' and cmd[1].endswith('tools/dist_train.sh')
    assert cmd[2:] == ['cfg.py', '2']


def _fail() -> None:
    raise ValueError('bad family')


def _sleep() -> None:
    import time
    time.sleep(30)


def test_call_with_timeout_outcomes():
    import os

    from mmconvnextv2.analysis.runner import call_with_timeout
    assert call_with_timeout(sum, ([1, 2], ), 30) == ('ok', 3)
    kind, err = call_with_timeout(_fail, (), 30)
    assert kind == 'error' and str(err) == 'bad family'
    # a child that dies is reported at once, not after the timeout
    assert call_with_timeout(os._exit, (3, ), 30) == ('died', 3)
    assert call_with_timeout(_sleep, (), 0.5) == ('timeout', None)
