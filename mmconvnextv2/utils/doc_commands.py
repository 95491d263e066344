"""Check that the commands and configs the documentation shows still exist.

The README and the pages under ``docs/`` show shell commands in fenced
``bash`` / ``shell`` / ``sh`` / ``console`` blocks. Each command is checked
against the repository:

* ``python tools/<...>.py ARGS``: the script exists and every ``--flag`` the
  command shows appears in the script's ``--help`` output;
* ``bash tools/<...>.sh ARGS``: the script exists;
* ``make TARGET ...``: the target is a rule of the Makefile;
* ``mim ...``, ``pip ...`` and other programs: accepted as they are.

Besides, every ``configs/<...>.py`` path and every
``mmconvnextv2::<folder>/<config>.py`` named anywhere in a file (prose,
tables, code) must be a file of ``configs/``, and every ``tools/<...>.py`` /
``.sh`` named anywhere must exist.

``python -m mmconvnextv2.utils.doc_commands [FILES_OR_FOLDERS...]`` prints
one line per problem and exits 1 if there is any (default: ``README.md`` and
``docs/``). Nothing here imports torch or OpenMMLab: the ``--help`` runs are
child processes, cached per script (:class:`HelpCache`).
"""
import argparse
import fnmatch
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set

__all__ = [
    'SHELL_LANGUAGES', 'Command', 'Problem', 'HelpCache', 'fenced_blocks',
    'shell_commands', 'parse_command', 'makefile_targets', 'help_flags',
    'check_command', 'check_paths', 'check_text', 'check_files',
    'markdown_files', 'main', 'REPORTS'
]

#: Files that tools write into docs/ (their paths are other projects').
REPORTS = ('docs/swap_backbone_families.md', 'docs/collapse/*')
#: Info strings of the fenced blocks whose lines are shell commands.
SHELL_LANGUAGES = ('bash', 'shell', 'sh', 'console')

_FENCE = re.compile(r'^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*'
                    r'(?P<info>[^\s`{}]*|\{[^}]*\})?.*$')
_FLAG = re.compile(r'--[A-Za-z0-9][A-Za-z0-9_-]*')
_CONFIG_PATH = re.compile(r'(?<![\w/.:-])configs/[\w./+-]*?\.py\b')
_PREFIXED_CONFIG = re.compile(r'mmconvnextv2::([\w./+-]+?\.py)\b')
_TOOL_PATH = re.compile(r'(?<![\w/.:-])tools/[\w./-]+?\.(?:py|sh)\b')
_PYTHONS = re.compile(r'^(?:\S*/)?python(?:3(?:\.\d+)?)?$')


@dataclass
class Command:
    """One shell command of a fenced block.

    Attributes:
        text: The command as written (continuation lines joined).
        argv: Its words (``shlex`` rules; on a quoting error, split on
            spaces).
        line: 1-based line of the file where the command starts.
    """
    text: str
    argv: List[str]
    line: int


@dataclass
class Problem:
    """Something a documentation file shows that does not exist."""
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f'{self.path}:{self.line}: {self.message}'


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


def _split(text: str) -> List[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in a placeholder
        return text.split('#', 1)[0].split()


def shell_commands(text: str) -> List[Command]:
    """Every command of the text's shell blocks: prompts (``$ ``) removed,
    comments and blank lines skipped, backslash continuations joined, and
    ``a && b`` / ``a; b`` split into commands. In a ``console`` block, or
    any block with ``$`` prompts, only the prompted lines are commands (the
    others are output)."""
    commands = []
    for block in fenced_blocks(text):
        if block['lang'] not in SHELL_LANGUAGES:
            continue
        prompted = block['lang'] == 'console' or any(
            line.lstrip().startswith('$ ') for line in block['lines'])
        pending, start = '', 0
        for offset, raw in enumerate(block['lines']):
            line = raw.strip()
            if not pending:
                if prompted:
                    if not line.startswith('$ '):
                        continue
                    line = line[2:].strip()
                if not line or line.startswith('#'):
                    continue
                start = block['start'] + offset
            if line.endswith('\\'):
                pending += line[:-1] + ' '
                continue
            full, pending = pending + line, ''
            for part in re.split(r'\s*(?:&&|\|\||;)\s*', full):
                argv = _split(part)
                if argv:
                    commands.append(Command(part.strip(), argv, start))
    return commands


@dataclass
class ParsedCommand:
    """What a command runs: ``kind`` (``python-tool``, ``bash-tool``,
    ``make``, ``other``), the ``script`` or make ``targets`` and the
    ``flags`` it shows."""
    kind: str
    script: Optional[str] = None
    targets: List[str] = field(default_factory=list)
    flags: List[str] = field(default_factory=list)


def _strip_env(argv: List[str]) -> List[str]:
    """Drop leading ``VAR=value`` assignments and ``env``."""
    i = 0
    while i < len(argv) and (re.match(r'^[A-Za-z_]\w*=', argv[i]) or
                             argv[i] == 'env'):
        i += 1
    return argv[i:]


def parse_command(argv: Sequence[str]) -> ParsedCommand:
    """Classify one command's words (see :class:`ParsedCommand`). Flags
    are the words that start with ``--`` (``--x=1`` gives ``--x``; brackets
    of optional placeholders such as ``[--out DIR]`` are ignored)."""
    argv = _strip_env(list(argv))
    if not argv:
        return ParsedCommand('other')
    flags = []
    for word in argv[1:]:
        word = word.lstrip('[(')
        match = _FLAG.match(word)
        if match:
            flags.append(match[0])
    prog = argv[0]
    if _PYTHONS.match(prog) and len(argv) > 1 and argv[1].endswith('.py') \
            and argv[1].startswith('tools/'):
        script = argv[1]
        return ParsedCommand('python-tool', script=script, flags=[
            f for f in flags if f not in argv[:2]])
    if prog in ('bash', 'sh') and len(argv) > 1 and \
            argv[1].startswith('tools/'):
        return ParsedCommand('bash-tool', script=argv[1])
    if prog.startswith('tools/') and prog.endswith('.sh'):
        return ParsedCommand('bash-tool', script=prog)
    if prog == 'make':
        targets = [w for w in argv[1:]
                   if not w.startswith('-') and '=' not in w]
        return ParsedCommand('make', targets=targets or ['<default>'])
    return ParsedCommand('other', flags=flags)


def makefile_targets(path: str) -> Set[str]:
    """The explicit rule names of a Makefile (``name: ...`` lines, also the
    names of ``.PHONY``)."""
    targets = set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            match = re.match(r'^([A-Za-z0-9_./$()-][^:=\s]*(?:\s+[^:=\s]+)*)'
                             r'\s*:(?!=)', line)
            if match:
                targets.update(match[1].split())
            if line.startswith('.PHONY:'):
                targets.update(line.split(':', 1)[1].split())
    return targets


def help_flags(script: str, root: str, python: Optional[str] = None,
               timeout: float = 300) -> Set[str]:
    """The ``--flags`` that ``python SCRIPT --help`` prints (run in
    ``root``). Raises RuntimeError when ``--help`` fails."""
    proc = subprocess.run([python or sys.executable, script, '--help'],
                          cwd=root, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()
        raise RuntimeError(f'{script} --help exited {proc.returncode}: '
                           f'{last[-1] if last else "no output"}')
    return set(_FLAG.findall(proc.stdout)) | {'--help'}


class HelpCache:
    """``--help`` flags per script, each script run once (a test session
    or a checker run keeps one instance)."""

    def __init__(self, root: str, python: Optional[str] = None) -> None:
        self.root = root
        self.python = python
        self._flags: Dict[str, object] = {}

    def prefetch(self, scripts: Iterable[str], jobs: int = 2) -> None:
        """Run the ``--help`` of every script not yet cached, ``jobs`` at a
        time."""
        todo = sorted({s for s in scripts if s not in self._flags and
                       osp.isfile(osp.join(self.root, s))})
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for script, flags in zip(todo, pool.map(self._run, todo)):
                self._flags[script] = flags

    def _run(self, script: str) -> object:
        try:
            return help_flags(script, self.root, self.python)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            return e

    def flags(self, script: str) -> Set[str]:
        """The script's flags; raises what its ``--help`` raised."""
        if script not in self._flags:
            self._flags[script] = self._run(script)
        value = self._flags[script]
        if isinstance(value, BaseException):
            raise RuntimeError(str(value))
        return value  # type: ignore[return-value]


def check_command(command: Command, root: str, helps: HelpCache,
                  targets: Optional[Set[str]] = None) -> List[str]:
    """What is wrong with one command (empty: nothing)."""
    parsed = parse_command(command.argv)
    if parsed.kind in ('python-tool', 'bash-tool'):
        if not osp.isfile(osp.join(root, parsed.script)):
            return [f'`{command.text}`: {parsed.script} does not exist']
        if parsed.kind == 'bash-tool':
            return []
        try:
            known = helps.flags(parsed.script)
        except RuntimeError as e:
            return [f'`{command.text}`: {e}']
        unknown = [f for f in parsed.flags if f not in known]
        return [f'`{command.text}`: {parsed.script} --help does not list '
                f'{", ".join(unknown)}'] if unknown else []
    if parsed.kind == 'make':
        if targets is None:
            targets = makefile_targets(osp.join(root, 'Makefile'))
        missing = [t for t in parsed.targets if t not in targets]
        return [f'`{command.text}`: no Makefile target '
                f'{", ".join(missing)}'] if missing else []
    return []


def check_paths(text: str, root: str) -> List[tuple]:
    """``(line, message)`` for every ``configs/...py``,
    ``mmconvnextv2::...py`` and ``tools/...py|sh`` the text names that is
    not a file of the repository. Paths with placeholders (``<``, ``*``,
    ``...``, ``…``) are not checked."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        found = [(m[0], m[0]) for m in _CONFIG_PATH.finditer(line)]
        found += [(m[0], 'configs/' + m[1])
                  for m in _PREFIXED_CONFIG.finditer(line)]
        found += [(m[0], m[0]) for m in _TOOL_PATH.finditer(line)]
        for shown, path in found:
            if any(c in path for c in '<>*…') or '...' in path or \
                    '{' in path:
                continue
            if not osp.isfile(osp.join(root, path)):
                problems.append((number, f'{shown} does not exist'))
    return problems


def check_text(text: str, path: str, root: str, helps: HelpCache,
               targets: Optional[Set[str]] = None) -> List[Problem]:
    """Every problem of one Markdown text (``path`` only names it)."""
    problems = [Problem(path, line, message)
                for line, message in check_paths(text, root)]
    for command in shell_commands(text):
        problems += [Problem(path, command.line, message) for message in
                     check_command(command, root, helps, targets)]
    return sorted(problems, key=lambda p: p.line)


def markdown_files(paths: Iterable[str], root: str) -> List[str]:
    """The ``.md`` files of ``paths`` (files, or folders searched
    recursively, ``_build`` folders skipped), relative to ``root``."""
    files = []
    for path in paths:
        full = osp.join(root, path)
        if osp.isfile(full):
            files.append(path)
            continue
        for folder, dirs, names in os.walk(full):
            dirs[:] = sorted(d for d in dirs if d != '_build' and
                             not d.startswith('.'))
            files += [osp.relpath(osp.join(folder, n), root)
                      for n in sorted(names) if n.endswith('.md')]
    return files


def check_files(paths: Iterable[str], root: str,
                helps: Optional[HelpCache] = None, jobs: int = 2,
                reports: Sequence[str] = ()) -> List[Problem]:
    """Every problem of the Markdown files under ``paths``; the scripts'
    ``--help`` runs ``jobs`` at a time, once each. ``reports``: glob
    patterns of files that tools write (tables of other projects' configs,
    whose error messages quote those projects' paths): their commands are
    checked, the paths they name are not."""
    helps = helps or HelpCache(root)
    texts = {}
    for path in markdown_files(paths, root):
        with open(osp.join(root, path), encoding='utf-8') as f:
            texts[path] = f.read()
    scripts = [parse_command(c.argv).script for text in texts.values()
               for c in shell_commands(text)]
    helps.prefetch([s for s in scripts if s and s.endswith('.py')], jobs)
    targets = makefile_targets(osp.join(root, 'Makefile'))
    problems = []
    for path, text in texts.items():
        found = check_text(text, path, root, helps, targets)
        if any(fnmatch.fnmatch(path, pattern) for pattern in reports):
            commands = {c.line for c in shell_commands(text)}
            found = [p for p in found if p.line in commands]
        problems += found
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line: one line per problem; exit status 1 if any."""
    parser = argparse.ArgumentParser(
        description='check the commands and config paths that Markdown '
        'files show against the repository')
    parser.add_argument('paths', nargs='*', default=['README.md', 'docs'],
                        help='Markdown files or folders (default: README.md '
                        'docs)')
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
