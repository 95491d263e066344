"""mmconvnextv2.analysis.results: what the tools leave in a work dir."""
import json

import pytest

from mmconvnextv2.analysis import results  # (test_metrics is no test)
from mmconvnextv2.analysis.results import (headline, last_checkpoint,
                                           loss_history)


def test_headline_metrics():
    assert headline({'mIoU': 50., 'aAcc': 90., 'mAcc': 60.}) == {'mIoU': 50.}
    assert headline({'a': 1, 'b': 2.}, ['b']) == {'b': 2.}
    assert headline({'a': 1, 'b': 'x'}) == {'a': 1.}
    with pytest.raises(KeyError, match='coco/bbox_mAP'):
        headline({'mIoU': 1.}, ['coco/bbox_mAP'])


def test_metrics_loss_history_and_checkpoint(tmp_path):
    assert results.test_metrics(str(tmp_path)) is None
    for stamp, value in (('20260101_000000', 1.), ('20260102_000000', 2.)):
        (tmp_path / stamp).mkdir()
        (tmp_path / stamp / f'{stamp}.json').write_text(
            json.dumps({'mIoU': value}))
    assert results.test_metrics(str(tmp_path)) == {'mIoU': 2.}  # the newest

    vis = tmp_path / '20260102_000000' / 'vis_data'
    vis.mkdir()
    rows = [{'iter': 1, 'loss': 3.}, {'lr': 1e-3, 'iter': 1},
            {'iter': 2, 'loss': 2.}]
    (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, rows)))
    assert loss_history(str(tmp_path)) == dict(iter=[1, 2], loss=[3., 2.])

    assert last_checkpoint(str(tmp_path)) is None
    ckpt = tmp_path / 'iter_2.pth'
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    assert last_checkpoint(str(tmp_path)) is None  # the file is missing
    ckpt.write_bytes(b'x')
    assert last_checkpoint(str(tmp_path)) == str(ckpt)
