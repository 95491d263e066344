"""The documentation's checker (mmconvnextv2.devtools.doc_commands) on
hand-made Markdown and tools, then on README.md, docs/ and tools/
themselves."""
import os.path as osp

import pytest

from mmconvnextv2.devtools.command_checks import HelpCache, check_paths
from mmconvnextv2.devtools.doc_commands import (DEFAULT_PATHS, REPORTS,
                                                check_files, check_tool,
                                                fenced_blocks,
                                                literal_commands,
                                                shell_commands, tool_docstring,
                                                tool_scripts)

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


TOOL_DOC = '''Do a thing; ``make collapse`` runs it, ``tools/x.py`` is a path.

Example::

    python tools/x.py \\
        configs/gone.py --flag-one 1
    python tools/x.py --smoke    # tiny

Not a block: ``some literal`` and the paragraph after it.
    python tools/not_in_a_block.py --z
'''


def test_literal_commands():
    commands = literal_commands(TOOL_DOC)
    assert [(c.argv, c.line) for c in commands] == [
        (['make', 'collapse'], 1),
        (['python', 'tools/x.py', 'configs/gone.py', '--flag-one', '1'], 5),
        (['python', 'tools/x.py', '--smoke'], 7)]


def _tool(tmp_path, doc, help_text):
    """A tool with ``doc`` as its docstring and its epilog (as
    tools/analysis_tools/fcmae_payoff.py), a flag whose help is
    ``help_text``."""
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'here.py').write_text('')
    (tmp_path / 'Makefile').write_text('collapse:\n\ttrue\n')
    (tmp_path / 'tools' / 'x.py').write_text(
        '"""' + doc.replace('\\', '\\\\') + '"""\nimport argparse\n'
        'p = argparse.ArgumentParser(\n'
        '    formatter_class=argparse.RawDescriptionHelpFormatter,\n'
        "    epilog=__doc__.split('\\n\\n', 1)[1])\n"
        'p.add_argument("--flag-one")\n'
        f'p.add_argument("--smoke", help={help_text!r})\n'
        'p.parse_args()\n')
    return str(tmp_path)


def test_a_tool_naming_a_missing_config_is_caught(tmp_path):
    """The docstring's command names a config that does not exist, and so
    does its --help (the epilog, said once) and a flag's help."""
    root = _tool(tmp_path, TOOL_DOC, 'as configs/here.py, not configs/gone2.py')
    assert tool_docstring('tools/x.py', root) == (TOOL_DOC, 1)
    problems = [str(p) for p in check_tool('tools/x.py', root,
                                           HelpCache(root))]
    assert problems == [
        'tools/x.py:6: configs/gone.py does not exist',
        'tools/x.py:10: tools/not_in_a_block.py does not exist',
        'tools/x.py --help:6: configs/gone2.py does not exist']


def test_a_tool_whose_help_fails_or_lacks_a_flag(tmp_path, fake_helps):
    root = _tool(tmp_path, 'One line.\n\n``python tools/x.py --gone``\n', '')
    problems = check_tool('tools/x.py', root,
                          fake_helps({'tools/x.py': 'usage: x [--flag-one]'}))
    assert [p.message for p in problems] == [
        '`python tools/x.py --gone`: tools/x.py --help does not list --gone']
    problems = check_tool('tools/x.py', root, fake_helps({}))
    assert [str(p) for p in problems][-1] == \
        'tools/x.py --help:1: tools/x.py --help exited 1: boom'


def test_check_files_reports_and_tools(tmp_path, fake_helps):
    root = _tool(tmp_path, 'One line.\n\nReads configs/nope.py.\n', '')
    docs = tmp_path / 'docs'
    docs.mkdir()
    (docs / 'a.md').write_text('configs/nope.py\n\n```bash\nmake nope\n```\n')
    (docs / 'report.md').write_text('configs/nope.py\n\n```bash\n'
                                    'make nope\n```\n')
    (docs / '_build').mkdir()
    (docs / '_build' / 'x.md').write_text('configs/nope.py\n')
    assert tool_scripts(['docs', 'tools'], root) == ['tools/x.py']
    helps = fake_helps({'tools/x.py': 'usage: x'})
    problems = check_files(['docs', 'tools'], root, helps,
                           reports=['docs/report.md'])
    assert [str(p) for p in problems] == [
        'docs/a.md:1: configs/nope.py does not exist',
        'docs/a.md:4: `make nope`: no Makefile target nope',
        'docs/report.md:4: `make nope`: no Makefile target nope',
        'tools/x.py:3: configs/nope.py does not exist']


def test_the_tools_docstrings_name_existing_paths(repo_root):
    """Read, not run: every path a tool's docstring names (the --help texts
    are checked in the slow test below)."""
    scripts = tool_scripts(['tools'], repo_root)
    assert 'tools/analysis_tools/fcmae_payoff.py' in scripts
    problems = [f'{script}:{line + first - 1}: {message}'
                for script in scripts
                for doc, first in [tool_docstring(script, repo_root)]
                for line, message in check_paths(doc, repo_root)]
    assert not problems, '\n'.join(problems)


@pytest.mark.slow
def test_readme_docs_and_tools_name_what_exists(repo_root, help_cache):
    """Every command in README.md, docs/ and the tools' docstrings and
    --help texts runs a script that exists with flags its --help lists,
    every make target and module exists, every config named exists."""
    assert osp.isdir(osp.join(repo_root, 'tools'))
    problems = check_files(DEFAULT_PATHS, repo_root, help_cache,
                           reports=REPORTS)
    assert not problems, '\n'.join(map(str, problems))
