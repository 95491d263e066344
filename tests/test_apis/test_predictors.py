"""One predictor per task behind one face: build_predictor picks the
config's task's predictor, every predictor returns the same record shape,
and the output folder holds only the files the predictor names (no file
named by an OpenMMLab inferencer, no counter-numbered map), with nothing
written to the working directory. Untrained weights: no training here."""
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from PIL import Image

from mmconvnextv2.apis import (PREDICTORS, ClassificationPredictor,
                               DetectionPredictor, Predictor,
                               SegmentationPredictor, TASK_NAMES,
                               build_predictor, load_config)
from mmconvnextv2.utils.models import build_model

from helpers.classifier import CONFIG, ROOT
from helpers.trained import DET_CONFIG, SEG_CONFIG

# absolute: the tests run from a folder of their own
DET, SEG, CLS = (osp.join(ROOT, c) for c in (DET_CONFIG, SEG_CONFIG, CONFIG))
FCMAE = osp.join(
    ROOT, 'configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py')
CONFIGS = {'det': DET, 'seg': SEG, 'cls': CLS}
# the files two images leave in the output folder, per task
EXPECTED = {
    'det': ['vis/one.jpg', 'vis/two.png'],
    'seg': ['labels/one.png', 'labels/two.png', 'vis/one.jpg', 'vis/two.png'],
    'cls': ['vis/one.png', 'vis/two.png'],
}


@pytest.fixture(scope='module')
def untrained(tmp_path_factory):
    """A checkpoint of freshly initialised weights per task, and two small
    images (a JPEG and a PNG)."""
    root = tmp_path_factory.mktemp('untrained')
    checkpoints = {}
    for task, config in CONFIGS.items():
        torch.manual_seed(0)
        model = build_model(load_config(config), init=False)
        checkpoints[task] = str(root / f'{task}.pth')
        torch.save({'state_dict': model.state_dict()}, checkpoints[task])
    rng = np.random.default_rng(0)
    images = [str(root / 'one.jpg'), str(root / 'two.png')]
    for path, shape in zip(images, ((48, 64, 3), (40, 40, 3))):
        Image.fromarray(rng.integers(0, 256, shape, np.uint8)).save(path)
    return checkpoints, images


def files_under(folder):
    return sorted(
        osp.relpath(osp.join(top, name), folder).replace(os.sep, '/')
        for top, _, names in os.walk(folder) for name in names)


@pytest.mark.parametrize('task', ['det', 'seg', 'cls'])
def test_task_predictor_and_common_record(untrained, tmp_path, monkeypatch,
                                          task):
    checkpoints, images = untrained
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    predictor = build_predictor(CONFIGS[task], checkpoints[task],
                                score_thr=0.0, topk=2)
    assert type(predictor) is PREDICTORS[task]
    assert isinstance(predictor, Predictor) and predictor.task == task
    out = str(tmp_path / 'out')
    records = [predictor(image, out) for image in images]
    for image, record in zip(images, records):
        assert list(record) == ['image', *predictor.fields, 'seconds',
                                'visualization']
        assert record['image'] == image and record['seconds'] > 0
        assert record['visualization'] == predictor.drawing_path(image, out)
        assert osp.isfile(record['visualization'])
    assert files_under(out) == EXPECTED[task]
    assert os.listdir(cwd) == []
    if task == 'seg':
        for image, record in zip(images, records):
            labels = np.asarray(Image.open(record['label_map']))
            assert labels.shape == np.asarray(Image.open(image)).shape[:2]
    if task == 'cls':
        assert [len(r['topk']) for r in records] == [2, 2]


@pytest.mark.parametrize('cls, config', [
    (DetectionPredictor, CLS),
    (SegmentationPredictor, DET),
    (ClassificationPredictor, SEG),
])
def test_predictor_refuses_another_task(untrained, cls, config):
    checkpoints, _ = untrained
    match = (f'^{re.escape(config)} is an? .* config; {cls.__name__} runs '
             f'{re.escape(TASK_NAMES[cls.task])} configs$')
    with pytest.raises(ValueError, match=match):
        cls(config, checkpoints[cls.task])


def test_fcmae_config_has_no_predictor(untrained):
    checkpoints, _ = untrained
    with pytest.raises(ValueError, match='builds a .*FCMAE.* model .*'
                       'visualize_fcmae.py'):
        build_predictor(FCMAE, checkpoints['cls'])
