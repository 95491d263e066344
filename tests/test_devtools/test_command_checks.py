"""mmconvnextv2.devtools.command_checks: one shown command and the paths a
text names, against a small hand-made repository."""
import pytest

from mmconvnextv2.devtools.command_checks import (Command, HelpCache,
                                                  block_commands,
                                                  check_command, check_paths,
                                                  makefile_targets,
                                                  parse_command)


def test_parse_command():
    p = parse_command(['python', 'tools/train.py', 'c.py', '--work-dir', 'w',
                       '[--resume', 'CKPT]', '--amp=1'])
    assert (p.kind, p.script) == ('python-tool', 'tools/train.py')
    assert p.flags == ['--work-dir', '--resume', '--amp']
    p = parse_command(['A=1', '.venv/bin/python', 'tools/test.py', 'x'])
    assert (p.kind, p.script) == ('python-tool', 'tools/test.py')
    assert parse_command(['bash', 'tools/dist_train.sh', 'c', '8']).kind == \
        'bash-tool'
    p = parse_command(['make', 'test', 'PYTEST_ARGS=-k fcmae'])
    assert (p.kind, p.targets) == ('make', ['test'])
    p = parse_command(['python', '-m', 'mmconvnextv2.devtools.ops_check',
                       '--device', 'cpu'])
    assert (p.kind, p.script) == ('python-module',
                                  'mmconvnextv2.devtools.ops_check')
    assert parse_command(['python', '-m', 'build']).kind == 'other'
    assert parse_command(['mim', 'train', 'mmconvnextv2', 'c']).kind == \
        'other'
    assert parse_command(['pip', 'install', '-e', '.']).kind == 'other'


def test_block_commands():
    lines = ['make quickstart   # trailing comment', '# a comment line',
             'python tools/train.py configs/a.py \\',
             '    --work-dir w --cfg-options a=1   # continued', '',
             'A=1 python tools/test.py c k && bash tools/dist_train.sh c 8']
    commands = block_commands(lines, 10, prompted=False)
    assert [c.argv[:2] for c in commands] == [
        ['make', 'quickstart'], ['python', 'tools/train.py'],
        ['A=1', 'python'], ['bash', 'tools/dist_train.sh']]
    assert [c.line for c in commands] == [10, 12, 15, 15]
    assert commands[1].argv[-1] == 'a=1'  # the comment is not a word
    prompted = block_commands(['$ make docs', 'make not-a-command'], 1, True)
    assert [c.argv for c in prompted] == [['make', 'docs']]


def test_makefile_targets(tmp_path):
    make = tmp_path / 'Makefile'
    make.write_text('.PHONY: a b\nV := 1\n$(VENV)/.x: y\n\tcmd\n'
                    'a: b\n\techo\nc d: ; true\n')
    targets = makefile_targets(str(make))
    assert {'a', 'b', 'c', 'd'} <= targets and 'V' not in targets


@pytest.fixture
def repo(tmp_path):
    """A repository of a few tools, one config, one package module and a
    Makefile."""
    (tmp_path / 'tools').mkdir()
    for name in ('train.py', 'broken.py', 'dist_train.sh'):
        (tmp_path / 'tools' / name).write_text('')
    (tmp_path / 'configs' / 'fcmae').mkdir(parents=True)
    (tmp_path / 'configs' / 'fcmae' / 'a.py').write_text('')
    (tmp_path / 'mmconvnextv2' / 'devtools').mkdir(parents=True)
    (tmp_path / 'mmconvnextv2' / 'devtools' / 'ops_check.py').write_text('')
    (tmp_path / 'Makefile').write_text('.PHONY: test docs\ntest:\n\tx\n')
    return str(tmp_path)


def test_check_command(repo, fake_helps):
    helps = fake_helps({'tools/train.py': 'usage: [--work-dir W]'})

    def check(text):
        return check_command(Command(text, text.split(), 1), repo, helps)

    assert check('python tools/train.py c --work-dir w') == []
    assert 'does not list --resume' in check(
        'python tools/train.py c --resume')[0]
    assert 'tools/gone.py does not exist' in check('python tools/gone.py')[0]
    assert 'boom' in check('python tools/broken.py --x')[0]
    assert check('python tools/broken.py CONFIG') == []  # no flag: no --help
    assert check('bash tools/dist_train.sh c 8 --anything') == []
    assert 'does not exist' in check('bash tools/gone.sh')[0]
    assert check('make test') == []
    assert 'no Makefile target docs2' in check('make docs2')[0]
    assert check('mim train mmconvnextv2 c --whatever') == []
    assert check('python -m mmconvnextv2.devtools.ops_check --device c') == []
    assert check('python -m mmconvnextv2.utils.ops_check') == [
        '`python -m mmconvnextv2.utils.ops_check`: no module '
        'mmconvnextv2.utils.ops_check']


def test_check_paths(repo):
    text = ('`configs/fcmae/a.py` and configs/fcmae/b.py\n'
            "_base_ = ['mmconvnextv2::fcmae/a.py', 'mmconvnextv2::x/y.py']\n"
            'tools/train.py, tools/gone.sh, configs/fcmae/<name>.py, '
            '`…-femto_x.py`, mmdet::configs/zz.py is not ours\n')
    problems = check_paths(text, repo)
    assert problems == [(1, 'configs/fcmae/b.py does not exist'),
                        (2, 'mmconvnextv2::x/y.py does not exist'),
                        (3, 'tools/gone.sh does not exist')]


def test_help_cache_runs_each_script_once_and_unwrapped(tmp_path):
    root = str(tmp_path)
    (tmp_path / 'tools').mkdir()
    counter = tmp_path / 'count'
    long_path = 'configs/' + '-'.join(['part'] * 40) + '.py'
    (tmp_path / 'tools' / 'x.py').write_text(
        'import argparse\n'
        f'open({str(counter)!r}, "a").write("1")\n'
        'p = argparse.ArgumentParser(); p.add_argument("--flag-one", '
        f'help="long words " * 20 + {long_path!r})\n'
        'p.parse_args()\n')
    helps = HelpCache(root)
    helps.prefetch(['tools/x.py', 'tools/x.py'])
    assert helps.flags('tools/x.py') == {'--flag-one', '--help'}
    assert long_path in helps.text('tools/x.py')  # not split over lines
    helps.flags('tools/x.py')
    assert counter.read_text() == '1'
