"""The checks of one shown command and of the paths a text names, shared by
the documentation's checker (:mod:`.doc_commands`) for Markdown pages and for
the tools' docstrings and ``--help`` texts.

A command is checked against the repository:

* ``python tools/<...>.py ARGS``: the script exists and every ``--flag`` the
  command shows appears in the script's ``--help`` output;
* ``bash tools/<...>.sh ARGS``: the script exists;
* ``python -m mmconvnextv2.<module>``: the module is a file of the package;
* ``make TARGET ...``: the target is a rule of the Makefile;
* ``mim ...``, ``pip ...``, ``python -m <other>`` and other programs: accepted
  as they are.

Nothing here imports torch or OpenMMLab: the ``--help`` runs are child
processes (several scripts to one, :mod:`.help_texts`), cached per script
(:class:`HelpCache`).
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

__all__ = [
    'Command', 'Problem', 'ParsedCommand', 'split_words', 'block_commands',
    'parse_command', 'makefile_targets', 'help_text', 'help_flags',
    'HelpCache', 'check_command', 'check_paths'
]

FLAG = re.compile(r'--[A-Za-z0-9][A-Za-z0-9_-]*')
_CONFIG_PATH = re.compile(r'(?<![\w/.:-])configs/[\w./+-]*?\.py\b')
_PREFIXED_CONFIG = re.compile(r'mmconvnextv2::([\w./+-]+?\.py)\b')
_TOOL_PATH = re.compile(r'(?<![\w/.:-])tools/[\w./-]+?\.(?:py|sh)\b')
_PYTHONS = re.compile(r'^(?:\S*/)?python(?:3(?:\.\d+)?)?$')
#: ``--help`` output as one line per paragraph: argparse wraps its text to
#: the terminal's width (``COLUMNS``), which would split a long path.
_HELP_COLUMNS = '100000'
#: Seconds one script's ``--help`` may take.
_HELP_TIMEOUT = 300
_HELP_TEXTS = osp.join(osp.dirname(osp.abspath(__file__)), 'help_texts.py')


@dataclass
class Command:
    """One shell command a text shows.

    Attributes:
        text: The command as written (continuation lines joined).
        argv: Its words (``shlex`` rules; on a quoting error, split on
            spaces).
        line: 1-based line of the text where the command starts.
    """
    text: str
    argv: List[str]
    line: int


@dataclass
class Problem:
    """Something a documentation file (or a tool's text) shows that does
    not exist."""
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f'{self.path}:{self.line}: {self.message}'


def split_words(text: str) -> List[str]:
    """The words of one command (``shlex`` rules, comments dropped)."""
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in a placeholder
        return text.split('#', 1)[0].split()


def block_commands(lines: Sequence[str], start: int,
                   prompted: bool) -> List[Command]:
    """The commands of a block of shell lines whose first line is line
    ``start`` of its text: comments and blank lines skipped, backslash
    continuations joined, ``a && b`` / ``a; b`` split; with ``prompted``,
    only the lines that start with a ``$`` prompt are commands (the others
    are output)."""
    commands = []
    pending, first = '', 0
    for offset, raw in enumerate(lines):
        line = raw.strip()
        if not pending:
            if prompted:
                if not line.startswith('$ '):
                    continue
                line = line[2:].strip()
            if not line or line.startswith('#'):
                continue
            first = start + offset
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        full, pending = pending + line, ''
        for part in re.split(r'\s*(?:&&|\|\||;)\s*', full):
            argv = split_words(part)
            if argv:
                commands.append(Command(part.strip(), argv, first))
    return commands


@dataclass
class ParsedCommand:
    """What a command runs: ``kind`` (``python-tool``, ``bash-tool``,
    ``python-module``, ``make``, ``other``), the ``script`` (a module's
    dotted name for ``python-module``) or make ``targets`` and the
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
        match = FLAG.match(word.lstrip('[('))
        if match:
            flags.append(match[0])
    prog = argv[0]
    if _PYTHONS.match(prog) and len(argv) > 1 and argv[1].endswith('.py') \
            and argv[1].startswith('tools/'):
        return ParsedCommand('python-tool', script=argv[1], flags=[
            f for f in flags if f not in argv[:2]])
    if _PYTHONS.match(prog) and len(argv) > 2 and argv[1] == '-m' and \
            argv[2].split('.')[0] == 'mmconvnextv2':
        return ParsedCommand('python-module', script=argv[2], flags=flags)
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


def _help_result(script: str, code: int, stdout: str, stderr: str
                 ) -> object:
    """A ``--help`` run's text, or the RuntimeError naming its failure."""
    if code != 0:
        last = (stderr or stdout).strip().splitlines()
        return RuntimeError(f'{script} --help exited {code}: '
                            f'{last[-1] if last else "no output"}')
    return stdout


def help_text(script: str, root: str, python: Optional[str] = None,
              timeout: float = _HELP_TIMEOUT) -> str:
    """What ``python SCRIPT --help`` prints (run in ``root``, its text not
    wrapped). Raises RuntimeError when ``--help`` fails."""
    proc = subprocess.run([python or sys.executable, script, '--help'],
                          cwd=root, capture_output=True, text=True,
                          timeout=timeout,
                          env=dict(os.environ, COLUMNS=_HELP_COLUMNS))
    result = _help_result(script, proc.returncode, proc.stdout, proc.stderr)
    if isinstance(result, RuntimeError):
        raise result
    return result


def help_flags(script: str, root: str, python: Optional[str] = None,
               timeout: float = _HELP_TIMEOUT) -> Set[str]:
    """The ``--flags`` that ``python SCRIPT --help`` prints (run in
    ``root``). Raises RuntimeError when ``--help`` fails."""
    return set(FLAG.findall(help_text(script, root, python, timeout))) | \
        {'--help'}


class HelpCache:
    """``--help`` texts per script, each script run once (a test session
    or a checker run keeps one instance)."""

    def __init__(self, root: str, python: Optional[str] = None) -> None:
        self.root = root
        self.python = python
        self._texts: Dict[str, object] = {}

    def prefetch(self, scripts: Iterable[str], jobs: int = 2) -> None:
        """Run the ``--help`` of every script not yet cached: ``jobs``
        child processes, each running its share of the scripts in turn
        (:mod:`.help_texts`: the imports they share are paid once per
        child)."""
        todo = sorted({s for s in scripts if s not in self._texts and
                       osp.isfile(osp.join(self.root, s))})
        shares = [todo[i::max(1, jobs)] for i in range(max(1, jobs))]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for texts in pool.map(self._run_share, [s for s in shares if s]):
                self._texts.update(texts)

    def _run_share(self, scripts: List[str]) -> Dict[str, object]:
        """The ``--help`` texts (or the errors) of ``scripts``, from one
        child process (one each when that one fails as a whole)."""
        with tempfile.TemporaryDirectory() as tmp:
            out = osp.join(tmp, 'helps.json')
            try:
                subprocess.run(
                    [self.python or sys.executable, _HELP_TEXTS, self.root,
                     out, *scripts], cwd=self.root, capture_output=True,
                    timeout=_HELP_TIMEOUT * len(scripts),
                    env=dict(os.environ, COLUMNS=_HELP_COLUMNS))
                with open(out, encoding='utf-8') as f:
                    runs = json.load(f)
            except (subprocess.TimeoutExpired, OSError, ValueError):
                # the shared process died: each script in a process of its
                # own, so that the failure is named by its script
                return {script: self._run(script) for script in scripts}
        return {script: _help_result(script, *runs[script])
                for script in scripts}

    def _run(self, script: str) -> object:
        try:
            return help_text(script, self.root, self.python)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            return e

    def text(self, script: str) -> str:
        """The script's ``--help`` output; raises RuntimeError with what
        its ``--help`` raised."""
        if script not in self._texts:
            self._texts[script] = self._run(script)
        value = self._texts[script]
        if isinstance(value, BaseException):
            raise RuntimeError(str(value))
        return value  # type: ignore[return-value]

    def flags(self, script: str) -> Set[str]:
        """The script's flags; raises what its ``--help`` raised."""
        return set(FLAG.findall(self.text(script))) | {'--help'}


def _module_exists(name: str, root: str) -> bool:
    """Whether ``python -m name`` finds a module of the package in
    ``root``."""
    path = osp.join(root, *name.split('.'))
    return osp.isfile(path + '.py') or \
        osp.isfile(osp.join(path, '__main__.py'))


def check_command(command: Command, root: str, helps: HelpCache,
                  targets: Optional[Set[str]] = None) -> List[str]:
    """What is wrong with one command (empty: nothing). A tool's
    ``--help`` runs only when the command shows flags."""
    parsed = parse_command(command.argv)
    if parsed.kind == 'python-module':
        return [] if _module_exists(parsed.script, root) else [
            f'`{command.text}`: no module {parsed.script}']
    if parsed.kind in ('python-tool', 'bash-tool'):
        if not osp.isfile(osp.join(root, parsed.script)):
            return [f'`{command.text}`: {parsed.script} does not exist']
        if parsed.kind == 'bash-tool' or not parsed.flags:
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


def check_paths(text: str, root: str) -> List[Tuple[int, str]]:
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
