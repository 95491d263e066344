"""mmconvnextv2.analysis.kill_resume's parts (the whole check runs in
tests/test_engine/test_checkpoint_safety.py)."""
import random

import pytest
import torch

from mmconvnextv2.analysis.kill_resume import (inspect_work_dir, kill_points,
                                               max_weight_diff, resumed_from,
                                               total_iterations)


def test_kill_points_are_distinct_ordered_and_inside_the_run():
    points = kill_points(random.Random(0), 20, 6)
    assert points == sorted(set(points)) and len(points) == 6
    assert all(1 <= p < 20 for p in points)
    assert kill_points(random.Random(0), 3, 6) == [1, 2]  # at most total - 1


def test_total_iterations(tmp_path):
    log = tmp_path / 'train.log'
    log.write_text('Iter(train) [ 1/12]  lr: 1\nIter(train) [12/12]  lr: 1\n')
    assert total_iterations(str(log)) == 12
    log.write_text('nothing\n')
    with pytest.raises(SystemExit, match='no "Iter'):
        total_iterations(str(log))


def test_work_dir_report_and_weights(tmp_path):
    torch.save({'state_dict': {'w': torch.ones(2)}}, tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_4.pth').write_bytes(b'PK\x03\x04garbage')
    (tmp_path / '.iter_6.pth.1.ab.tmp-atomic').write_bytes(b'')
    report = inspect_work_dir(str(tmp_path))
    assert report.checkpoints == 2 and len(report.damaged) == 1
    assert 'iter_4.pth' in report.damaged[0]
    assert report.leftovers == ['.iter_6.pth.1.ab.tmp-atomic']
    assert resumed_from(str(tmp_path)) == 'nothing (starts over)'
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert resumed_from(str(tmp_path)) == 'iter_2.pth'
    a = {'w': torch.zeros(3), 'b': torch.ones(1)}
    assert max_weight_diff(a, {'w': torch.full((3, ), .5),
                               'b': torch.ones(1)}) == .5
