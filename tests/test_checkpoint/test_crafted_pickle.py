"""Checkpoints never run code: a file whose unpickling would call
``os.system('touch MARKER')`` is refused, with one line naming the file, by
init_cfg loading (each layout), tools/train.py --resume, tools/test.py and the
converter; MARKER is never created. (``load_from`` in tools/train.py is
mmengine's ``Runner.load_checkpoint``, the route tools/test.py takes; both
tools print the refusal through the same one-line handler.)"""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmconvnextv2.analysis.runner import capture_tool, data_options
from mmconvnextv2.checkpoint import UnsafeCheckpointError
from mmconvnextv2.models import ConvNeXtV2

CONFIG = ('tests/data/configs/'
          'convnext-v2-custom_fcmae-pre_1xb4-2e_in1k-folder-32px.py')
CONVERTER = 'tools/model_converters/convnextv2_to_mmconvnextv2.py'


class RunsCommand:
    """Unpickling this calls ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def craft(path: str, marker: str, layout: str) -> str:
    """Write a checkpoint of ``layout`` that would touch ``marker``."""
    weights = ConvNeXtV2(arch='atto').state_dict()
    evil = RunsCommand(f'touch {marker}')
    if layout == 'official':
        obj = {'model': weights, 'epoch': evil}
    elif layout == 'timm':
        obj = dict(weights, evil=evil)
    elif layout == 'hf':  # a save_pretrained folder
        os.makedirs(path)
        obj = {'convnextv2.embeddings.patch_embeddings.weight': evil}
        path = osp.join(path, 'pytorch_model.bin')
    else:  # ours / mmengine: weights under state_dict, objects in meta
        obj = {'state_dict': {f'backbone.{k}': v for k, v in weights.items()},
               'meta': {'epoch': 1, 'iter': 2, 'payload': evil}}
    torch.save(obj, path)
    return path


@pytest.mark.parametrize('layout', ['official', 'timm', 'hf', 'mmengine'])
def test_init_cfg_refuses(tmp_path, layout):
    marker = tmp_path / 'MARKER'
    path = craft(str(tmp_path / 'evil.pth'), str(marker), layout)
    backbone = ConvNeXtV2(arch='atto', init_cfg=dict(
        type='Pretrained', checkpoint=osp.dirname(path) if layout == 'hf'
        else path))
    with pytest.raises(UnsafeCheckpointError) as err:
        backbone.init_weights()
    message = str(err.value)
    assert '\n' not in message and path in message
    assert 'posix.system' in message or 'nt.system' in message
    assert not marker.exists()


def write_folder(root: str) -> None:
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for wnid in ('n01440764', 'n01443537'):
            os.makedirs(osp.join(root, split, wnid))
            for i in range(2):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), np.uint8)) \
                    .save(osp.join(root, split, wnid, f'{i}.png'))


def test_tools_refuse(tmp_path):
    marker = tmp_path / 'MARKER'
    path = craft(str(tmp_path / 'evil.pth'), str(marker), 'mmengine')
    data = str(tmp_path / 'data')
    write_folder(data)
    options = ['--work-dir', str(tmp_path / 'work'), '--cfg-options',
               *data_options('root', data)]
    runs = {
        '--resume': ['tools/train.py', CONFIG, '--resume', path, *options],
        'test.py': ['tools/test.py', CONFIG, path, *options],
        'converter': [CONVERTER, path, str(tmp_path / 'out.pth')],
    }
    for name, (tool, *args) in runs.items():
        done = capture_tool(tool, args, threads=1,
                            env={'PYTHONWARNINGS': 'ignore'}, timeout=300)
        last = done.stderr.strip().splitlines()[-1]
        assert done.returncode == 1, (name, done.stderr[-3000:])
        assert 'Traceback' not in done.stderr, (name, done.stderr[-3000:])
        assert last.startswith(f"error: refusing checkpoint '{path}'"), \
            (name, last)
        assert not marker.exists(), name
    assert not osp.exists(tmp_path / 'out.pth')
