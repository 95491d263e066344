"""Live progress: mmengine log lines parsed, one line per stage, a line at
least every interval even when the tool is silent."""
import io

from mmconvnextv2.analysis.progress import (ProgressBoard, format_seconds,
                                            parse_progress)

TRAIN = ('12/01 15:40:00 - mmengine - INFO - Iter(train) [ 40/200]  '
         'base_lr: 1.0e-03 lr: 1.0e-03  eta: 0:01:10  time: 0.35  loss: 0.5')
EPOCH = ('12/01 15:40:00 - mmengine - INFO - Epoch(train)  [3][10/50]  '
         'lr: 1e-3  eta: 1 day, 2:03:04  time: 0.3')
TEST = '12/01 15:41:00 - mmengine - INFO - Iter(test) [ 8/32]    eta: 0:00:12'


def test_parse_progress():
    assert parse_progress(TRAIN) == dict(mode='train', done=40, total=200,
                                         epoch=None, eta=70)
    assert parse_progress(EPOCH) == dict(mode='train', done=10, total=50,
                                         epoch=3, eta=93784)
    assert parse_progress(TEST)['mode'] == 'test'
    assert parse_progress('Loads checkpoint by local backend') is None
    assert format_seconds(3725) == '1:02:05'


class Clock:
    def __init__(self) -> None:
        self.now = 0.

    def __call__(self) -> float:
        return self.now


def test_board_prints_each_stage_and_counts_down_when_silent():
    out, clock = io.StringIO(), Clock()
    board = ProgressBoard(out, interval=10, clock=clock)
    board._start_ticker = lambda: None  # ticks driven by hand here
    feed = board.stage('finetune det')
    feed('some chatter that is not shown')
    clock.now = 12
    feed(TRAIN)
    clock.now = 15
    feed(TRAIN)  # within the interval: not printed again
    clock.now = 25
    board.tick()  # silent tool: the ETA counts down from its last line
    clock.now = 30
    board.finish('finetune det', note='log: x.log')
    assert out.getvalue().splitlines() == [
        '[finetune det] started',
        '[finetune det] iter 40/200, ETA 0:01:10, 0:00:12 elapsed',
        '[finetune det] iter 40/200, ETA 0:01:00, 0:00:25 elapsed',
        '[finetune det] done in 0:00:30, log: x.log']
    assert 'chatter' not in out.getvalue()


def test_ticker_thread_prints_without_output(monkeypatch):
    out = io.StringIO()
    board = ProgressBoard(out, interval=0.05)
    board.stage('pretrain')
    import time
    time.sleep(0.3)
    board.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == '[pretrain] started'
    assert any(line.startswith('[pretrain] starting, ') for line in lines[1:])


def test_board_writes_to_the_stdout_of_the_moment(monkeypatch):
    board = ProgressBoard(interval=0)  # made before stdout is replaced
    out = io.StringIO()
    monkeypatch.setattr('sys.stdout', out)
    board.stage('stage')
    board.finish('stage')
    assert out.getvalue().splitlines()[0] == '[stage] started'
