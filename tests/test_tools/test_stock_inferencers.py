"""The stock OpenMMLab inferencers on checkpoints written by tools/train.py,
each in a fresh process that imports nothing of ours itself: our package
comes in only through the config's ``custom_imports``, and ``torch.load``
stays weights-only. Importing the package allow-lists mmengine's own
checkpoint types (the message hub's HistoryBuffer, numpy values), which is
what these loaders need; a file that asks for anything else is still refused.
"""
import os
import pickle
import subprocess
import sys

import pytest
import torch
from helpers.classifier import ROOT, TIMEOUT

SCRIPT = r'''
import sys
import torch

assert 'mmconvnextv2' not in sys.modules
task, config, ckpt, image = sys.argv[1:]


def same_weights(model):
    # mmconvnextv2 came in with the config; torch.load is weights-only here
    assert 'mmconvnextv2' in sys.modules
    saved = torch.load(ckpt, map_location='cpu')['state_dict']
    own = model.state_dict()
    for key in ('backbone.downsample_layers.0.0.weight',
                'backbone.stages.0.0.grn.gamma'):
        assert torch.equal(own[key].cpu(), saved[key]), key
    print('weights match', task)


if task == 'det':
    from mmdet.apis import DetInferencer, inference_detector, init_detector
    inferencer = DetInferencer(model=config, weights=ckpt, device='cpu',
                               show_progress=False)
    pred = inferencer(image, no_save_vis=True)['predictions'][0]
    assert set(pred) >= {'labels', 'scores', 'bboxes', 'masks'}, pred.keys()
    same_weights(inferencer.model)
    assert inferencer.model.dataset_meta['classes'][0] == 'circle'
    model = init_detector(config, ckpt, device='cpu')
    sample = inference_detector(model, image)
    assert 'pred_instances' in sample
    same_weights(model)
elif task == 'seg':
    from mmseg.apis import MMSegInferencer, inference_model, init_model
    inferencer = MMSegInferencer(model=config, weights=ckpt, device='cpu')
    label_map = inferencer(image)['predictions']
    assert label_map.shape == (128, 128), label_map.shape
    same_weights(inferencer.model)
    model = init_model(config, ckpt, device='cpu')
    sample = inference_model(model, image)
    assert tuple(sample.pred_sem_seg.shape) == (128, 128)
    same_weights(model)
else:
    from mmpretrain.apis import (FeatureExtractor,
                                 ImageClassificationInferencer, get_model)
    inferencer = ImageClassificationInferencer(model=config, pretrained=ckpt,
                                               device='cpu')
    result = inferencer(image)[0]
    assert result['pred_scores'].shape == (2, ), result
    same_weights(inferencer.model)
    extractor = FeatureExtractor(model=config, pretrained=ckpt, device='cpu')
    feats = extractor(image)[0]
    assert len(feats) == 1 and feats[0].ndim == 1, [f.shape for f in feats]
    same_weights(get_model(config, pretrained=ckpt, device='cpu'))
print('OK', task)
'''


def run_stock(task, config, ckpt, image):
    env = {k: v for k, v in os.environ.items()
           if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, '-c', SCRIPT, task, config, ckpt,
                           image], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize('task', ['det', 'seg', 'cls'])
def test_stock_inferencer_reads_our_checkpoint(trained, task):
    run = getattr(trained, task)
    image = {
        'det': trained.data / 'coco' / 'val' / '000000.jpg',
        'seg': trained.data / 'ade' / 'images' / 'validation'
        / 'synthetic_000000.jpg',
        'cls': trained.imagenet / 'val' / 'n01440764' / 'n01440764_0.png'
    }[task]
    code, output = run_stock(task, run.config, run.checkpoint, str(image))
    assert code == 0, output[-5000:]
    assert f'weights match {task}' in output and f'OK {task}' in output


class Payload:
    """Runs a shell command when unpickled by a loader that allows it."""

    def __reduce__(self):
        return (os.system, ('touch pwned',))


class GetattrPayload:
    """Reaches a private attribute through the allow-listed getattr."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.parametrize('payload', [Payload(), GetattrPayload()])
def test_allow_list_runs_no_code(tmp_path, payload):
    """After ``import mmconvnextv2`` (done by conftest) torch.load is still
    weights-only: a checkpoint that calls os.system or looks up a private
    attribute is refused, and nothing ran."""
    import mmconvnextv2  # noqa: F401
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, path)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, map_location='cpu')
    finally:
        os.chdir(cwd)
    assert not (tmp_path / 'pwned').exists()


def test_history_buffer_is_allowed(tmp_path):
    """What tools/train.py writes: mmengine's message hub (HistoryBuffer,
    numpy scalars) loads weights-only once the package is imported."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(np.float64(1.5))
    path = tmp_path / 'hub.pth'
    torch.save({'meta': {'hub': buffer, 'seed': np.int64(3)}}, path)
    meta = torch.load(path, map_location='cpu')['meta']
    assert meta['hub'].current() == 1.5 and meta['seed'] == 3
