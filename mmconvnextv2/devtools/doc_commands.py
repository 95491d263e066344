"""Check that the commands and configs the documentation shows still exist.

Two kinds of text are read:

* Markdown (the README and the pages under ``docs/``): the commands of its
  fenced ``bash`` / ``shell`` / ``sh`` / ``console`` blocks;
* the tools (``tools/**/*.py``): each script's module docstring and, for a
  script that builds an ``argparse.ArgumentParser``, what its ``--help``
  prints. Their commands are the lines of literal blocks (the indented lines
  after a paragraph that ends in ``::``) and inline literals, between double
  backquotes, that run a tool or make (``python tools/x.py --flag``,
  ``make target``).

Each command is checked as :mod:`.command_checks` says (the script exists,
its ``--help`` lists the flags shown, the make target, the module). Besides,
every ``configs/<...>.py`` path and every ``mmconvnextv2::<folder>/<config>.py``
named anywhere in a text (prose, tables, code) must be a file of
``configs/``, and every ``tools/<...>.py`` / ``.sh`` named anywhere must
exist.

``python -m mmconvnextv2.devtools.doc_commands [FILES_OR_FOLDERS...]``
prints one line per problem and exits 1 if there is any (default:
``README.md``, ``docs/`` and ``tools/``). Nothing here imports torch or
OpenMMLab: the ``--help`` runs are child processes, cached per script
(:class:`~.command_checks.HelpCache`).
"""
import argparse
import ast
import fnmatch
import os
import os.path as osp
import re
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .command_checks import (Command, HelpCache, Problem, block_commands,
                             check_command, check_paths, makefile_targets,
                             parse_command, split_words)

__all__ = [
    'REPORTS', 'SHELL_LANGUAGES', 'DEFAULT_PATHS', 'fenced_blocks',
    'shell_commands', 'literal_commands', 'check_text', 'markdown_files',
    'tool_scripts', 'tool_docstring', 'check_tool', 'check_files', 'main'
]

#: Files that tools write into docs/ (their paths are other projects').
REPORTS = ('docs/swap_backbone_families.md', 'docs/collapse/*')
#: Info strings of the fenced blocks whose lines are shell commands.
SHELL_LANGUAGES = ('bash', 'shell', 'sh', 'console')
#: What the command line checks by default.
DEFAULT_PATHS = ('README.md', 'docs', 'tools')

_FENCE = re.compile(r'^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*'
                    r'(?P<info>[^\s`{}]*|\{[^}]*\})?.*$')
_INLINE = re.compile(r'``([^`]+)``')


# ------------------------------------------------------------------ Markdown
def fenced_blocks(text: str) -> List[Dict]:
    """The fenced code blocks of a Markdown text, in order: dicts with
    ``lang`` (the info string's first word, lower case; MyST's
    ``{directive}`` as it is), ``start`` (1-based line of the first line
    inside the fence) and ``lines``."""
    blocks, current = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if current is None:
            match = _FENCE.match(line)
            if match:
                current = dict(fence=match['fence'],
                               lang=(match['info'] or '').lower(),
                               start=number + 1, lines=[])
            continue
        stripped = line.strip()
        if stripped.startswith(current['fence'][0] * len(current['fence'])) \
                and set(stripped) == {current['fence'][0]}:
            blocks.append(dict(lang=current['lang'], start=current['start'],
                               lines=current['lines']))
            current = None
        else:
            current['lines'].append(line)
    return blocks


def shell_commands(text: str) -> List[Command]:
    """Every command of a Markdown text's shell blocks (see
    :func:`~.command_checks.block_commands`). In a ``console`` block, or
    any block with ``$`` prompts, only the prompted lines are commands."""
    commands = []
    for block in fenced_blocks(text):
        if block['lang'] not in SHELL_LANGUAGES:
            continue
        prompted = block['lang'] == 'console' or any(
            line.lstrip().startswith('$ ') for line in block['lines'])
        commands += block_commands(block['lines'], block['start'], prompted)
    return commands


def markdown_files(paths: Iterable[str], root: str) -> List[str]:
    """The ``.md`` files of ``paths`` (files, or folders searched
    recursively, ``_build`` folders skipped), relative to ``root``."""
    return _files(paths, root, '.md')


def _files(paths: Iterable[str], root: str, ext: str) -> List[str]:
    files = []
    for path in paths:
        full = osp.join(root, path)
        if osp.isfile(full):
            files += [path] if path.endswith(ext) else []
            continue
        for folder, dirs, names in os.walk(full):
            dirs[:] = sorted(d for d in dirs if d not in ('_build',
                                                          '__pycache__') and
                             not d.startswith('.'))
            files += [osp.relpath(osp.join(folder, n), root)
                      for n in sorted(names) if n.endswith(ext)]
    return files


# --------------------------------------------------------- the tools' texts
def literal_commands(text: str) -> List[Command]:
    """The commands a docstring or ``--help`` text shows: every line of its
    literal blocks (after a line ending in ``::``, the lines indented
    deeper than it, up to the next line that is not), and every inline
    literal (between double backquotes) that runs a tool, a package module
    or make."""
    lines = text.splitlines()
    commands: List[Command] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        for match in _INLINE.finditer(line):
            argv = split_words(match[1])
            if parse_command(argv).kind != 'other':
                commands.append(Command(match[1].strip(), argv, number + 1))
        number += 1
        if not line.rstrip().endswith('::'):
            continue
        indent = len(line) - len(line.lstrip())
        block_start = number
        while number < len(lines) and (
                not lines[number].strip() or
                len(lines[number]) - len(lines[number].lstrip()) > indent):
            number += 1
        block = lines[block_start:number]
        commands += block_commands(block, block_start + 1, prompted=any(
            b.lstrip().startswith('$ ') for b in block))
    return commands


def tool_scripts(paths: Iterable[str], root: str) -> List[str]:
    """The ``tools/**/*.py`` scripts among ``paths`` (files or folders),
    relative to ``root``."""
    return [p for p in _files(paths, root, '.py')
            if p.replace(os.sep, '/').startswith('tools/')]


def tool_docstring(script: str, root: str) -> Tuple[str, int]:
    """The script's module docstring (empty: none) and the file line where
    it starts; the script is parsed, not run."""
    with open(osp.join(root, script), encoding='utf-8') as f:
        tree = ast.parse(f.read(), script)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first.value.value, first.lineno
    return '', 1


def _uses_argparse(script: str, root: str) -> bool:
    with open(osp.join(root, script), encoding='utf-8') as f:
        return 'ArgumentParser(' in f.read()


def _text_problems(text: str, where: str, first_line: int, root: str,
                   helps: HelpCache, targets: Set[str]) -> List[Problem]:
    """The paths and commands of a tool's text; its line 1 is file line
    ``first_line``."""
    problems = [Problem(where, first_line + line - 1, message)
                for line, message in check_paths(text, root)]
    for command in literal_commands(text):
        problems += [Problem(where, first_line + command.line - 1, message)
                     for message in check_command(command, root, helps,
                                                  targets)]
    return problems


def check_tool(script: str, root: str, helps: HelpCache,
               targets: Optional[Set[str]] = None) -> List[Problem]:
    """Every problem of one tool's docstring (``tools/x.py:LINE``) and, when
    it builds an argument parser, of its ``--help`` output (``tools/x.py
    --help:LINE``; what its docstring already showed is not said twice)."""
    if targets is None:
        targets = makefile_targets(osp.join(root, 'Makefile'))
    doc, line = tool_docstring(script, root)
    problems = _text_problems(doc, script, line, root, helps, targets)
    if not _uses_argparse(script, root):
        return problems
    try:
        shown = helps.text(script)
    except RuntimeError as e:
        return problems + [Problem(f'{script} --help', 1, str(e))]
    said = {p.message for p in problems}
    return problems + [
        p for p in _text_problems(shown, f'{script} --help', 1, root, helps,
                                  targets) if p.message not in said]


# ------------------------------------------------------------------ the run
def check_text(text: str, path: str, root: str, helps: HelpCache,
               targets: Optional[Set[str]] = None) -> List[Problem]:
    """Every problem of one Markdown text (``path`` only names it)."""
    problems = [Problem(path, line, message)
                for line, message in check_paths(text, root)]
    for command in shell_commands(text):
        problems += [Problem(path, command.line, message) for message in
                     check_command(command, root, helps, targets)]
    return sorted(problems, key=lambda p: p.line)


def check_files(paths: Iterable[str], root: str,
                helps: Optional[HelpCache] = None, jobs: int = 2,
                reports: Sequence[str] = ()) -> List[Problem]:
    """Every problem of the Markdown files and the tools under ``paths``;
    the scripts' ``--help`` runs ``jobs`` at a time, once each.
    ``reports``: glob patterns of files that tools write (tables of other
    projects' configs, whose error messages quote those projects' paths):
    their commands are checked, the paths they name are not."""
    paths = list(paths)
    helps = helps or HelpCache(root)
    texts = {}
    for path in markdown_files(paths, root):
        with open(osp.join(root, path), encoding='utf-8') as f:
            texts[path] = f.read()
    tools = tool_scripts(paths, root)
    scripts = [parse_command(c.argv).script for text in texts.values()
               for c in shell_commands(text)]
    helps.prefetch([s for s in scripts if s and s.endswith('.py')] +
                   [s for s in tools if _uses_argparse(s, root)], jobs)
    targets = makefile_targets(osp.join(root, 'Makefile'))
    problems = []
    for path, text in texts.items():
        found = check_text(text, path, root, helps, targets)
        if any(fnmatch.fnmatch(path, pattern) for pattern in reports):
            commands = {c.line for c in shell_commands(text)}
            found = [p for p in found if p.line in commands]
        problems += found
    for script in tools:
        problems += check_tool(script, root, helps, targets)
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line: one line per problem; exit status 1 if any."""
    parser = argparse.ArgumentParser(
        description='check the commands and config paths that Markdown '
        "files and the tools' docstrings and --help texts show against the "
        'repository')
    parser.add_argument('paths', nargs='*', default=list(DEFAULT_PATHS),
                        help='Markdown files, tools or folders (default: '
                        f'{" ".join(DEFAULT_PATHS)})')
    parser.add_argument('--root', default='.', help='the repository root')
    parser.add_argument('--jobs', type=int, default=2,
                        help='--help runs at a time')
    parser.add_argument('--reports', nargs='*', default=list(REPORTS),
                        help='glob patterns of tool-written files whose '
                        'paths are not checked (default: %(default)s)')
    args = parser.parse_args(argv)
    problems = check_files(args.paths, args.root, jobs=args.jobs,
                           reports=args.reports)
    for problem in problems:
        print(problem)
    print(f'{len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
