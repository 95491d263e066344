"""Classification through the command-line tools: tools/train.py fine-tunes a
tiny ConvNeXt V2 with the real recipe (layer decay, Mixup/CutMix, EMA, the AMP
wrapper) on an ImageNet-layout folder (the session's classifier run,
tests/helpers/trained.py), tools/test.py prints its accuracy, dumps
predictions and draws them, and ``--resume`` continues from the saved
iteration. The argument handling of both tools is checked in-process.

Config: tests/data/configs/convnext-v2-custom_fcmae-pre_1xb4-2e_in1k-folder-32px.py
(2 classes, 32x32 images, batch 4: one epoch is 2 iterations).
"""
import glob
import os.path as osp
import pickle
import re
from types import ModuleType

import pytest
import torch

from helpers.classifier import CONFIG, WNIDS, run
from helpers.trained import copy_run
from mmconvnextv2.runtime import trust_mmengine_checkpoints
from helpers.tools import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FINETUNE = 'configs/convnext_v2/convnext-v2-base_fcmae-pre_32xb32-amp-100e_in1k.py'


def load_tool(name: str) -> ModuleType:
    """Import tools/<name>.py as a module (tools/ is not a package)."""
    return load_script(f'tools/{name}.py')


@pytest.mark.slow
def test_train_test_resume(trained, tmp_path):
    done = trained.cls  # tools/train.py, one epoch = 2 iterations
    work_dir = done.work_dir

    # 1. checkpoint and logs land in the work dir
    assert 'Epoch(train) [1][2/2]' in done.output and 'loss:' in done.output
    assert 'accuracy/top1' in done.output  # validation after the epoch (EMA)
    if not torch.cuda.is_available():
        assert 'no CUDA: AmpOptimWrapper -> OptimWrapper' in done.output
    assert (work_dir / 'epoch_1.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith(
        'epoch_1.pth')
    logs = glob.glob(str(work_dir / '*' / '*.log'))
    scalars = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    assert len(logs) == 1 and len(scalars) == 1
    with open(logs[0]) as f:
        assert 'Epoch(train) [1][2/2]' in f.read()

    # 2. evaluate: metrics printed, predictions dumped and drawn
    preds = tmp_path / 'preds.pkl'
    output = run(['tools/test.py', CONFIG, done.checkpoint,
                  '--work-dir', str(tmp_path / 'test'), '--out', str(preds),
                  '--show-dir', 'vis', '--cfg-options', *done.options])
    top1 = re.findall(r'^accuracy/top1: ([\d.]+)$', output, re.MULTILINE)
    assert len(top1) == 1 and 0.0 <= float(top1[0]) <= 100.0
    with open(preds, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 2 * len(WNIDS)
    assert all(r['pred_score'].shape == (len(WNIDS), ) for r in results)
    drawn = glob.glob(str(tmp_path / 'test' / 'vis' / '*.png'))
    assert len(drawn) == 2 * len(WNIDS)

    # 3. resume the latest checkpoint (in a copy of the run): the counters go
    # on from epoch 1, iter 2
    work_dir = copy_run(done, tmp_path / 'resumed')
    output = run(['tools/train.py', CONFIG, '--work-dir', str(work_dir),
                  '--resume', '--cfg-options', *done.options])
    assert 'resumed epoch: 1, iter: 2' in output
    assert 'Epoch(train) [1]' not in output
    assert 'Epoch(train) [2][2/2]' in output
    trust_mmengine_checkpoints()
    meta = torch.load(work_dir / 'epoch_2.pth', map_location='cpu')['meta']
    assert (meta['epoch'], meta['iter']) == (2, 4)


def test_train_arguments(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # parse_args fills it in otherwise
    train_tool = load_tool('train')
    build = lambda *argv: train_tool.build_config(  # noqa: E731
        train_tool.parse_args([FINETUNE, *argv]))
    cfg = build()
    assert cfg.work_dir == osp.join(
        'work_dirs', 'convnext-v2-base_fcmae-pre_32xb32-amp-100e_in1k')
    assert not cfg.get('resume', False)
    cfg = build('--resume')  # the latest checkpoint of the work dir
    assert cfg.resume is True and cfg.load_from is None
    cfg = build('--resume', 'some/epoch_3.pth', '--work-dir', 'w')
    assert (cfg.resume, cfg.load_from, cfg.work_dir) == (
        True, 'some/epoch_3.pth', 'w')
    cfg = build('--auto-scale-lr', '--cfg-options', 'optim_wrapper.optimizer.lr=0.1')
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=1024)
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    if torch.cuda.is_available():
        cfg = build('--amp')
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper.loss_scale == 'dynamic'
    else:  # mmengine's AmpOptimWrapper asserts an accelerator
        with pytest.raises(RuntimeError, match='--amp needs a GPU'):
            build('--amp')
        cfg = build()
        assert cfg.optim_wrapper.type == 'OptimWrapper'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert train_tool.parse_args([FINETUNE, '--local-rank', '3']).local_rank == 3


def test_test_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')
    test_tool = load_tool('test')
    args = test_tool.parse_args([FINETUNE, 'ckpt.pth', '--out', 'p.pkl',
                                 '--show-dir', 'vis', '--work-dir', 'w'])
    cfg = test_tool.build_config(args)
    assert cfg.load_from == 'ckpt.pth'
    assert cfg.test_evaluator[-1] == dict(type='DumpResults',
                                          out_file_path='p.pkl')
    assert cfg.default_hooks.visualization.enable is True
    assert cfg.default_hooks.visualization.out_dir == osp.join('w', 'vis')
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        test_tool.main([FINETUNE, str(tmp_path / 'missing.pth')])
