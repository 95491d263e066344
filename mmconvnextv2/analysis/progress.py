"""Live progress of child tools on the console: one line per running stage,
``[stage] iter 40/80, ETA 0:01:10, 0:02:05 elapsed``, printed when a stage
starts and ends and at least every ``interval`` seconds while it runs (also
when its tool is silent), so the display reads the same on a terminal and
piped to a file. The tools' own output goes to their log files only.

The stage's position comes from mmengine's log lines (``Iter(train)
[ 40/80] ... eta: 0:01:10``, ``Epoch(train) [1][10/50]``, ``Iter(test)``).
"""
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, TextIO

__all__ = ['parse_progress', 'ProgressBoard', 'format_seconds']

_PROGRESS = re.compile(
    r'(?P<kind>Iter|Epoch)\((?P<mode>train|val|test)\)\s*'
    r'(?:\[\s*(?P<epoch>\d+)\])?\s*\[\s*(?P<done>\d+)/(?P<total>\d+)\]'
    r'(?:.*?eta:\s*(?P<eta>(?:\d+ days?, )?\d+:\d\d:\d\d))?')


def format_seconds(seconds: float) -> str:
    """``h:mm:ss``."""
    seconds = int(round(max(seconds, 0)))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def _eta_seconds(text: str) -> float:
    days = 0
    if 'day' in text:
        head, text = text.split(',', 1)
        days = int(head.split()[0])
    h, m, s = (int(x) for x in text.strip().split(':'))
    return days * 86400 + h * 3600 + m * 60 + s


def parse_progress(line: str) -> Optional[Dict]:
    """``{'mode', 'done', 'total', 'epoch', 'eta'}`` from an mmengine log
    line (``eta`` in seconds or None), or None for other lines."""
    match = _PROGRESS.search(line)
    if match is None:
        return None
    return dict(mode=match['mode'], done=int(match['done']),
                total=int(match['total']),
                epoch=int(match['epoch']) if match['epoch'] else None,
                eta=_eta_seconds(match['eta']) if match['eta'] else None)


@dataclass
class _Stage:
    name: str
    start: float
    state: Optional[Dict] = None
    seen_at: float = 0.
    printed_at: float = 0.
    done: bool = False
    notes: Dict[str, str] = field(default_factory=dict)


class ProgressBoard:
    """Prints the progress of several stages that run at once.

    ``on_line = board.stage('pretrain')`` gives the callback to pass a
    tool's output lines to (``run_tool(..., on_line=on_line)``);
    ``board.finish('pretrain', ok=True)`` closes the stage.
    """

    def __init__(self, stream: Optional[TextIO] = None, interval: float = 15.,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # None: the sys.stdout of the moment of each line
        self.stream, self.interval, self.clock = stream, interval, clock
        self._stages: Dict[str, _Stage] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: Optional[threading.Thread] = None

    # -- stages
    def stage(self, name: str) -> Callable[[str], None]:
        """Open a stage; returns its line callback."""
        with self._lock:
            stage = self._stages[name] = _Stage(name, self.clock())
            self._print(stage, 'started')
        self._start_ticker()
        return lambda line: self.feed(name, line)

    def feed(self, name: str, line: str) -> None:
        """One output line of the stage's tool."""
        state = parse_progress(line)
        if state is None:
            return
        with self._lock:
            stage = self._stages[name]
            stage.state, stage.seen_at = state, self.clock()
            if self.clock() - stage.printed_at >= self.interval:
                self._print(stage)

    def finish(self, name: str, ok: bool = True, note: str = '') -> None:
        """Close a stage with its wall time (and ``note``)."""
        with self._lock:
            stage = self._stages[name]
            stage.done = True
            took = format_seconds(self.clock() - stage.start)
            self._print(stage, f'{"done" if ok else "FAILED"} in {took}'
                        + (f', {note}' if note else ''))

    def tick(self) -> None:
        """Print every running stage not printed for ``interval`` s."""
        with self._lock:
            for stage in self._stages.values():
                if not stage.done and \
                        self.clock() - stage.printed_at >= self.interval:
                    self._print(stage)

    def close(self) -> None:
        """Stop the background ticker."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None

    # -- internals
    def _start_ticker(self) -> None:
        if self._ticker is None and self.interval > 0:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._run, daemon=True)
            self._ticker.start()

    def _run(self) -> None:
        while not self._stop.wait(min(self.interval, 1.)):
            self.tick()

    def describe(self, stage: _Stage) -> str:
        """``iter 40/80, ETA 0:01:10`` (the ETA counted down since the
        tool's last line), or ``starting`` before the tool reports."""
        state = stage.state
        if state is None:
            return 'starting'
        what = {'train': 'iter', 'val': 'validating', 'test': 'testing'}[
            state['mode']]
        if state['epoch'] is not None:
            what = f'epoch {state["epoch"]}, {what}'
        text = f'{what} {state["done"]}/{state["total"]}'
        if state['eta'] is not None:
            left = state['eta'] - (self.clock() - stage.seen_at)
            text += f', ETA {format_seconds(left)}'
        return text

    def _print(self, stage: _Stage, status: Optional[str] = None) -> None:
        elapsed = format_seconds(self.clock() - stage.start)
        body = status or f'{self.describe(stage)}, {elapsed} elapsed'
        stream = self.stream or sys.stdout
        stream.write(f'[{stage.name}] {body}\n')
        stream.flush()
        stage.printed_at = self.clock()
