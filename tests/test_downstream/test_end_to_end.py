"""End to end through the command-line tools, on synthetic data: the
session's Mask R-CNN and UperNet runs (tests/helpers/trained.py: tools/train.py
for a few iterations, the backbone loaded from the session's FCMAE
checkpoint) are evaluated by tools/test.py; --resume continues a run from
its last checkpoint; a backbone checkpoint of another size fails early with
an error naming the culprit and leaves no checkpoint behind.

Guarded elsewhere, so not trained again here: tools/dist_train.sh with two
CPU processes (tests/test_engine/test_distributed.py); a dataset config that
does not match its files (the messages: tests/test_datasets/test_checks.py;
tools/train.py stopping with one line before anything is written:
test_custom_folder.py and test_dataset_preflight.py there).

Each run is a subprocess with one intra-op thread (the 2 cores are shared).
"""
import glob
import math
import os.path as osp
import re
import time

import pytest
import torch

from mmconvnextv2.analysis import runner
from mmconvnextv2.models import ConvNeXtV2

from helpers.trained import ITERS, copy_run

TIMEOUT = 420
QUIET = {'PYTHONWARNINGS': 'ignore'}


def run(tool, args, check=True):
    """Run a tool (one thread); return (exit code, output, seconds)."""
    start = time.time()
    proc = runner.capture_tool(tool, args, threads=1, env=QUIET,
                               timeout=TIMEOUT)
    output = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f'{[tool, *args]} failed ({proc.returncode}):\n'
                             f'{output[-6000:]}')
    return proc.returncode, output, time.time() - start


def checkpoints(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(
        osp.join(str(work_dir), '**', '*.pth'), recursive=True))


@pytest.mark.slow
@pytest.mark.parametrize('task', ['det', 'seg'])
def test_train_then_test(trained, task, tmp_path, record_property):
    done = getattr(trained, task)
    # the FCMAE checkpoint's encoder went into the backbone
    assert re.search(r'load ConvNeXt V2 backbone from \S*fcmae/epoch_1\.pth',
                     done.output), done.output[-3000:]
    assert f'Iter(train) [{ITERS}/{ITERS}]' in done.output
    assert checkpoints(done.work_dir) == [f'iter_{ITERS}.pth']

    _, output, test_s = run('tools/test.py', [
        done.config, done.checkpoint, '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', *runner.data_options(task, str(trained.data))])
    metrics = {k: float(v) for k, v in re.findall(
        r'^(\S+): (-?[\d.]+(?:e-?\d+)?)$', output, re.MULTILINE)}
    keys = ['coco/bbox_mAP', 'coco/segm_mAP'] if task == 'det' else ['mIoU']
    for key in keys:
        assert key in metrics, metrics
        assert math.isfinite(metrics[key]) and metrics[key] >= 0
    record_property('metrics', {k: metrics[k] for k in keys})
    print(f'{task}: test in {test_s:.0f} s: {[(k, metrics[k]) for k in keys]}')


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(trained, tmp_path):
    """The session's UperNet run stopped at iteration 2 (its checkpoint and
    pointer, copied); ``--resume`` with a longer schedule trains 3 and 4."""
    done = trained.seg
    work_dir = copy_run(done, tmp_path / 'resume')
    _, output, _ = run('tools/train.py', [
        done.config, '--work-dir', str(work_dir), '--resume', '--cfg-options',
        *done.options, f'train_cfg.max_iters={ITERS + 2}'])
    assert re.search(rf'[Rr]esumed? .*iter[: ]+{ITERS}', output), \
        output[-3000:]
    steps = re.findall(rf'Iter\(train\) \[(\d+)/{ITERS + 2}\]', output)
    assert steps == [str(ITERS + 1), str(ITERS + 2)]  # does not restart at 1
    assert checkpoints(work_dir) == [f'iter_{ITERS}.pth',
                                     f'iter_{ITERS + 2}.pth']


def test_backbone_of_another_arch_fails_clearly_without_checkpoint(
        trained, tmp_path):
    femto = ConvNeXtV2('femto', out_indices=(0, 1, 2, 3),
                       gap_before_final_norm=False)
    femto.init_weights()
    path = tmp_path / 'femto_backbone.pth'
    torch.save({'state_dict': {f'backbone.{k}': v
                               for k, v in femto.state_dict().items()}}, path)
    work_dir = tmp_path / 'work'
    code, output, _ = run('tools/train.py', [
        'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py',
        '--work-dir', str(work_dir), '--cfg-options',
        *runner.data_options('det', str(trained.data)),
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={path}'], check=False)
    assert code == 1, output[-4000:]
    # one line, no traceback, naming the file and both sizes
    assert 'Traceback' not in output, output[-4000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith('error: '), output[-4000:]
    for pattern in (r'femto_backbone\.pth', "arch 'femto'", "'atto'"):
        assert re.search(pattern, last), (pattern, output[-4000:])
    assert checkpoints(work_dir) == []
