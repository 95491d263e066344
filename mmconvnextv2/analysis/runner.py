"""One way to run the project's tools (``tools/train.py``, ``tools/test.py``
...) as child processes: the same interpreter, one set of environment rules,
output to a log file (and optionally the console), and the ``--cfg-options``
that point a synthetic config at a data folder.

Every study (payoff, quickstart, collapse, kill checks) and every test that
starts a tool goes through here.
"""
import multiprocessing
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, IO, List, Optional, Sequence

__all__ = ['repo_root', 'tool_path', 'child_env', 'tool_command', 'start_tool',
           'run_tool', 'capture_tool', 'ToolError', 'ToolRunner',
           'data_options', 'call_with_timeout', 'PRINT_LOCK', 'say']

#: Serialises console lines of tools that run at the same time.
PRINT_LOCK = threading.Lock()
_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def say(message: str) -> None:
    """Print one line now, never interleaved with another tool's lines."""
    with PRINT_LOCK:
        print(message, flush=True)


def repo_root() -> str:
    """The folder that holds ``tools/`` and ``configs/``: the clone, or the
    package's ``.mim`` folder in an installed wheel."""
    clone = osp.dirname(_PACKAGE)
    if osp.isfile(osp.join(clone, 'tools', 'train.py')):
        return clone
    return osp.join(_PACKAGE, '.mim')


def tool_path(tool: str) -> str:
    """Absolute path of ``tool`` (``'tools/train.py'`` or ``'train.py'``)."""
    if osp.isabs(tool):
        return tool
    if not tool.startswith('tools' + os.sep) and not tool.startswith('tools/'):
        tool = osp.join('tools', tool)
    return osp.join(repo_root(), tool)


def child_env(threads: Optional[int] = None,
              extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a child tool: this one, with ``threads``
    OpenMP/MKL threads when given, unbuffered output, and ``extra``."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.update(extra or {})
    return env


def tool_command(tool: str, args: Sequence[Any] = ()) -> List[str]:
    """``[python, tools/<tool>, *args]`` with this interpreter; a shell
    launcher (``dist_train.sh`` ...) runs under ``bash``."""
    path = tool_path(tool)
    runner = 'bash' if path.endswith('.sh') else sys.executable
    return [runner, path, *map(str, args)]


class ToolError(RuntimeError):
    """A child tool exited with a non-zero status."""

    def __init__(self, cmd: Sequence[str], code: int,
                 log: Optional[str]) -> None:
        self.cmd, self.code, self.log = list(cmd), code, log
        where = f'; its output is in {log}' if log else ''
        super().__init__(f'`{" ".join(self.cmd)}` failed (exit {code}){where}')


def start_tool(tool: str, args: Sequence[Any] = (),
               threads: Optional[int] = None,
               env: Optional[Dict[str, str]] = None,
               cwd: Optional[str] = None,
               new_session: bool = False) -> subprocess.Popen:
    """Start a tool with its output (stdout and stderr) on a text pipe;
    ``new_session``: in a process group of its own (a launcher and its
    workers can then be signalled together)."""
    return subprocess.Popen(tool_command(tool, args), cwd=cwd or repo_root(),
                            env=child_env(threads, env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=new_session)


def run_tool(tool: str, args: Sequence[Any] = (), log: Optional[str] = None,
             threads: Optional[int] = None, env: Optional[Dict[str, str]] = None,
             echo: bool = False, on_line: Optional[Callable[[str], None]] = None,
             check: bool = True, cwd: Optional[str] = None
             ) -> 'subprocess.CompletedProcess[str]':
    """Run a tool to its end.

    Its output is appended to ``log`` (after a ``$ command`` line), printed
    when ``echo``, passed line by line to ``on_line``, and returned in
    ``.stdout``; ``.seconds`` is the wall time.

    Raises:
        ToolError: the tool failed and ``check`` is set.
    """
    cmd = tool_command(tool, args)
    out: Optional[IO[str]] = None
    if log:
        os.makedirs(osp.dirname(osp.abspath(log)), exist_ok=True)
        out = open(log, 'a')
        out.write('$ ' + ' '.join(cmd) + '\n')
        out.flush()
    start = time.time()
    lines: List[str] = []
    try:
        proc = start_tool(tool, args, threads, env, cwd)
        for line in proc.stdout:
            lines.append(line)
            if out:  # flushed: the log of a running tool stays current
                out.write(line)
                out.flush()
            if echo:
                with PRINT_LOCK:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            if on_line:
                on_line(line)
        code = proc.wait()
    finally:
        if out:
            out.close()
    done = subprocess.CompletedProcess(cmd, code, ''.join(lines), None)
    done.seconds = time.time() - start  # type: ignore[attr-defined]
    if check and code:
        raise ToolError(cmd, code, log)
    return done


def capture_tool(tool: str, args: Sequence[Any] = (),
                 threads: Optional[int] = None,
                 env: Optional[Dict[str, str]] = None,
                 timeout: Optional[float] = None, cwd: Optional[str] = None,
                 **popen: Any) -> 'subprocess.CompletedProcess[str]':
    """Run a tool to its end with stdout and stderr captured apart (for
    callers that read the last error line); never raises on its status.
    ``popen``: further ``subprocess.run`` arguments (e.g. ``preexec_fn``)."""
    return subprocess.run(tool_command(tool, args), cwd=cwd or repo_root(),
                          env=child_env(threads, env), capture_output=True,
                          text=True, timeout=timeout, **popen)


@dataclass
class ToolRunner:
    """Runs tools for a study: ``threads`` OpenMP/MKL threads each (None:
    the child's default), output to a log file and, unless ``quiet``, to
    the console; every run is announced with a ``$ tools/...`` line.

    With a ``board`` (:class:`~.progress.ProgressBoard`), a quiet run is a
    stage of the board instead, named by its log's folder relative to
    ``root``: its iteration, total and ETA on the console, at least every
    ``board.interval`` seconds; the tool's own output in the log only."""
    threads: Optional[int] = None
    quiet: bool = False
    board: Optional[Any] = None
    root: Optional[str] = None

    def __call__(self, tool: str, args: Sequence[Any], log: str) -> float:
        """Run ``tool`` with ``args`` to its end; return its seconds.

        Raises:
            ToolError: the tool failed (its output is in ``log``).
        """
        if self.board is not None and self.quiet:
            return self._run_on_board(tool, args, log)
        shown = '$ ' + ' '.join([tool, *map(str, args)])
        say(shown + (f'   (log: {log})' if self.quiet else ''))
        done = run_tool(tool, args, log=log, threads=self.threads,
                        echo=not self.quiet)
        return done.seconds  # type: ignore[attr-defined]

    def _run_on_board(self, tool: str, args: Sequence[Any], log: str) -> float:
        folder = osp.dirname(log)
        where = osp.relpath(folder, self.root) if self.root else folder
        name = f'{where} {osp.splitext(osp.basename(tool))[0]}'
        on_line = self.board.stage(name)
        try:
            done = run_tool(tool, args, log=log, threads=self.threads,
                            on_line=on_line)
        except ToolError:
            self.board.finish(name, ok=False, note=f'log: {log}')
            raise
        self.board.finish(name)
        return done.seconds  # type: ignore[attr-defined]


def data_options(task: str, data_root: str,
                 splits: Sequence[str] = ('train', 'val', 'test')) -> List[str]:
    """``--cfg-options`` pointing a synthetic config's loaders at a folder
    written by :func:`mmconvnextv2.datasets.make_synthetic_data`.

    ``task``: ``'fcmae'`` (``data_root`` holds the unlabelled images),
    ``'det'`` (its ``coco/``), ``'seg'`` (its ``ade/``) or ``'root'``
    (``data_root`` itself, for every split).
    """
    data_root = str(data_root).rstrip('/')
    if task == 'fcmae':
        return [f'train_dataloader.dataset.data_root={data_root}/']
    root = {'det': f'{data_root}/coco/', 'seg': f'{data_root}/ade',
            'root': data_root}[task]
    options = [f'{split}_dataloader.dataset.data_root={root}'
               for split in splits]
    if task == 'det':
        ann = f'{root}annotations/instances_val.json'
        options += [f'val_evaluator.ann_file={ann}',
                    f'test_evaluator.ann_file={ann}']
    return options


def _call_in_child(fn: Callable, args: tuple, conn) -> None:
    try:
        conn.send(('ok', fn(*args)))
    except BaseException as err:  # noqa: BLE001  (reported to the parent)
        conn.send(('error', err))


def call_with_timeout(fn: Callable, args: tuple, timeout: float) -> tuple:
    """``fn(*args)`` in a forked process killed after ``timeout`` seconds.

    Returns ``('ok', result)``, ``('error', exception)``, ``('timeout',
    None)`` or ``('died', exit_code)``.
    """
    ctx = multiprocessing.get_context('fork')
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_in_child, args=(fn, args, send))
    start = time.perf_counter()
    proc.start()
    send.close()  # the child's copy only: its death ends the pipe (EOF)
    outcome = None
    if receive.poll(timeout):
        try:
            outcome = receive.recv()
        except EOFError:
            outcome = None
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if outcome is None:
        outcome = ('timeout', None) if time.perf_counter() - start >= timeout \
            else ('died', proc.exitcode)
    return outcome
