"""The command-and-config checker (mmconvnextv2.utils.doc_commands) on
hand-made Markdown, then on README.md and docs/ themselves."""

import pytest

from mmconvnextv2.utils.doc_commands import (REPORTS, Command, HelpCache,
                                             check_command, check_files,
                                             check_paths, fenced_blocks,
                                             makefile_targets, parse_command,
                                             shell_commands)

DOC = '''# Title

Inline `python tools/nothing.py --x` is prose, not a command.

```bash
make quickstart   # trailing comment
# a comment line
python tools/train.py configs/a.py \\
    --work-dir w --cfg-options a=1   # continued
A=1 python tools/test.py c k --out=o.pkl && bash tools/dist_train.sh c 8
```

```console
$ python tools/misc/swap_backbone.py x --arch tiny
wrote --not-a-flag output line
```

```python
python tools/not_shell.py --nope
```

````md
```bash
nested fence: not a block of its own
```
````
'''


def test_fenced_blocks_and_commands():
    blocks = fenced_blocks(DOC)
    assert [b['lang'] for b in blocks] == ['bash', 'console', 'python', 'md']
    commands = shell_commands(DOC)
    assert [c.argv[:2] for c in commands] == [
        ['make', 'quickstart'], ['python', 'tools/train.py'],
        ['A=1', 'python'], ['bash', 'tools/dist_train.sh'],
        ['python', 'tools/misc/swap_backbone.py']]
    assert commands[1].line == 8  # where the continued command starts
    assert '--work-dir' in commands[1].argv and 'a=1' in commands[1].argv
    assert commands[1].argv[-1] == 'a=1'  # the comment is not a word


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
    assert parse_command(['mim', 'train', 'mmconvnextv2', 'c']).kind == \
        'other'
    assert parse_command(['pip', 'install', '-e', '.']).kind == 'other'


def test_makefile_targets(tmp_path):
    make = tmp_path / 'Makefile'
    make.write_text('.PHONY: a b\nV := 1\n$(VENV)/.x: y\n\tcmd\n'
                    'a: b\n\techo\nc d: ; true\n')
    targets = makefile_targets(str(make))
    assert {'a', 'b', 'c', 'd'} <= targets and 'V' not in targets


class FakeHelps(HelpCache):

    def __init__(self, flags):
        super().__init__('.')
        self._table = flags

    def flags(self, script):
        if script not in self._table:
            raise RuntimeError(f'{script} --help exited 1: boom')
        return self._table[script]


def _repo(tmp_path):
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'train.py').write_text('')
    (tmp_path / 'tools' / 'broken.py').write_text('')
    (tmp_path / 'tools' / 'dist_train.sh').write_text('')
    (tmp_path / 'configs' / 'fcmae').mkdir(parents=True)
    (tmp_path / 'configs' / 'fcmae' / 'a.py').write_text('')
    (tmp_path / 'Makefile').write_text('.PHONY: test docs\ntest:\n\tx\n')
    return str(tmp_path)


def test_check_command(tmp_path):
    root = _repo(tmp_path)
    helps = FakeHelps({'tools/train.py': {'--work-dir', '--help'}})

    def check(text):
        return check_command(Command(text, text.split(), 1), root, helps)

    assert check('python tools/train.py c --work-dir w') == []
    assert 'does not list --resume' in check(
        'python tools/train.py c --resume')[0]
    assert 'tools/gone.py does not exist' in check('python tools/gone.py')[0]
    assert 'boom' in check('python tools/broken.py --x')[0]
    assert check('bash tools/dist_train.sh c 8 --anything') == []
    assert 'does not exist' in check('bash tools/gone.sh')[0]
    assert check('make test') == []
    assert 'no Makefile target docs2' in check('make docs2')[0]
    assert check('mim train mmconvnextv2 c --whatever') == []


def test_check_paths(tmp_path):
    root = _repo(tmp_path)
    text = ('`configs/fcmae/a.py` and configs/fcmae/b.py\n'
            "_base_ = ['mmconvnextv2::fcmae/a.py', 'mmconvnextv2::x/y.py']\n"
            'tools/train.py, tools/gone.sh, configs/fcmae/<name>.py, '
            '`…-femto_x.py`, mmdet::configs/zz.py is not ours\n')
    problems = check_paths(text, root)
    assert problems == [(1, 'configs/fcmae/b.py does not exist'),
                        (2, 'mmconvnextv2::x/y.py does not exist'),
                        (3, 'tools/gone.sh does not exist')]


def test_check_files_reports_and_cache(tmp_path):
    root = _repo(tmp_path)
    docs = tmp_path / 'docs'
    docs.mkdir()
    (docs / 'a.md').write_text('configs/nope.py\n\n```bash\nmake nope\n```\n')
    (docs / 'report.md').write_text('configs/nope.py\n\n```bash\n'
                                    'make nope\n```\n')
    (docs / '_build').mkdir()
    (docs / '_build' / 'x.md').write_text('configs/nope.py\n')
    helps = FakeHelps({})
    problems = check_files(['docs'], root, helps, reports=['docs/report.md'])
    assert [str(p) for p in problems] == [
        'docs/a.md:1: configs/nope.py does not exist',
        'docs/a.md:4: `make nope`: no Makefile target nope',
        'docs/report.md:4: `make nope`: no Makefile target nope']


def test_help_cache_runs_each_script_once(tmp_path):
    root = str(tmp_path)
    (tmp_path / 'tools').mkdir()
    counter = tmp_path / 'count'
    (tmp_path / 'tools' / 'x.py').write_text(
        'import argparse\n'
        f'open({str(counter)!r}, "a").write("1")\n'
        'p = argparse.ArgumentParser(); p.add_argument("--flag-one")\n'
        'p.parse_args()\n')
    helps = HelpCache(root)
    helps.prefetch(['tools/x.py', 'tools/x.py'])
    assert helps.flags('tools/x.py') == {'--flag-one', '--help'}
    helps.flags('tools/x.py')
    assert counter.read_text() == '1'


@pytest.mark.slow
def test_readme_and_docs_commands_exist(repo_root, help_cache):
    """Every command in README.md and docs/ runs a script that exists with
    flags its --help lists, every make target exists, every config named
    exists."""
    problems = check_files(['README.md', 'docs'], repo_root, help_cache,
                           reports=REPORTS)
    assert not problems, '\n'.join(map(str, problems))
