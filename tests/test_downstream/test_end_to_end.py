"""End to end through the command-line tools, on freshly written synthetic
data: tools/train.py trains the atto Mask R-CNN and UperNet for a few
iterations from a backbone checkpoint, tools/test.py evaluates them;
--resume continues an interrupted run; tools/dist_train.sh trains with two
CPU processes (gloo); bad inputs fail early with errors naming the culprit
and leave no checkpoint behind.

Each run is a subprocess with one intra-op thread (the 2 cores are shared).
"""
import glob
import math
import os.path as osp
import re
import socket
import subprocess
import sys
import time

import pytest
import torch
from helpers.downstream import REPO

from mmconvnextv2.analysis import runner
from mmconvnextv2.datasets import make_synthetic_data
from mmconvnextv2.models import ConvNeXtV2

DET = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
ITERS = 4
TIMEOUT = 420

CRASH_HOOK = '''
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class CrashAfterIter(Hook):
    """Raise after iteration ``at`` (after its checkpoint is written)."""
    priority = 'LOWEST'

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            raise RuntimeError(f'simulated crash after iteration {self.at}')
'''


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    make_synthetic_data(str(root / 'data'), seed=0, num_train=8, num_val=4,
                        size=128)
    for arch in ('atto', 'femto'):  # ours, and a wrong size
        backbone = ConvNeXtV2(arch, out_indices=(0, 1, 2, 3),
                              gap_before_final_norm=False)
        backbone.init_weights()
        state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
        torch.save({'state_dict': state}, root / f'{arch}_backbone.pth')
    return root


def data_options(workspace, task):
    """--cfg-options pointing a synthetic config at the workspace's data."""
    return runner.data_options(task, f'{workspace}/data')


def train_options(workspace, task, checkpoint='atto', iters=ITERS):
    return data_options(workspace, task) + [
        f'train_cfg.max_iters={iters}',
        'train_cfg.val_begin=1000',  # tools/test.py evaluates
        'default_hooks.logger.interval=1',
        'model.backbone.init_cfg.type=Pretrained',
        'model.backbone.init_cfg.checkpoint='
        f'{workspace}/{checkpoint}_backbone.pth',
    ]


QUIET = {'PYTHONWARNINGS': 'ignore'}


def _finished(args, proc, start, check):
    output = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{output[-6000:]}')
    return proc.returncode, output, time.time() - start


def run(tool, args, env=None, check=True):
    """Run a tool (one thread); return (exit code, output, seconds)."""
    start = time.time()
    proc = runner.capture_tool(tool, args, threads=1,
                               env=dict(QUIET, **(env or {})), timeout=TIMEOUT)
    return _finished([tool, *args], proc, start, check)


def run_script(args, env=None, check=True):
    """A shell script from the repository root, with the tools' environment."""
    start = time.time()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True,
                          env=runner.child_env(1, dict(QUIET, **(env or {}))),
                          timeout=TIMEOUT)
    return _finished(args, proc, start, check)


def train(config, work_dir, options, extra=()):
    return run('tools/train.py', [config, '--work-dir', str(work_dir), *extra,
                                  '--cfg-options', *options])


def evaluate(config, checkpoint, work_dir, options):
    _, output, seconds = run('tools/test.py', [
        config, str(checkpoint), '--work-dir', str(work_dir), '--cfg-options',
        *options
    ])
    metrics = dict(re.findall(r'^(\S+): (-?[\d.]+(?:e-?\d+)?)$', output,
                              re.MULTILINE))
    return {k: float(v) for k, v in metrics.items()}, seconds


def checkpoints(work_dir):
    return sorted(glob.glob(osp.join(str(work_dir), '**', '*.pth'),
                            recursive=True))


@pytest.mark.slow
@pytest.mark.parametrize('task', ['det', 'seg'])
def test_train_then_test(workspace, task, record_property):
    config = DET if task == 'det' else SEG
    work_dir = workspace / f'{task}_train'
    _, output, train_s = train(config, work_dir, train_options(workspace,
                                                               task))
    assert re.search(r'load ConvNeXt V2 backbone from \S*atto_backbone\.pth',
                     output)
    assert f'Iter(train) [{ITERS}/{ITERS}]' in output
    assert [osp.basename(p) for p in checkpoints(work_dir)] == [
        f'iter_{ITERS}.pth']

    metrics, test_s = evaluate(config, work_dir / f'iter_{ITERS}.pth',
                                workspace / f'{task}_test',
                                data_options(workspace, task))
    keys = ['coco/bbox_mAP', 'coco/segm_mAP'] if task == 'det' else ['mIoU']
    for key in keys:
        assert key in metrics, metrics
        assert math.isfinite(metrics[key]) and metrics[key] >= 0
    record_property('metrics', {k: metrics[k] for k in keys})
    record_property('seconds', dict(train=round(train_s), test=round(test_s)))
    print(f'{task}: {ITERS} iterations in {train_s:.0f} s, test in '
          f'{test_s:.0f} s: {[(k, metrics[k]) for k in keys]}')


@pytest.mark.slow
def test_resume_continues_an_interrupted_run(workspace):
    (workspace / 'hooks').mkdir()
    (workspace / 'hooks' / 'crash_hook.py').write_text(CRASH_HOOK)
    crashing = workspace / 'hooks' / 'crashing_seg.py'
    crashing.write_text(
        f"_base_ = ['{osp.join(REPO, SEG)}']\n"
        "custom_imports = dict(imports=['mmconvnextv2', 'crash_hook'],\n"
        '                      allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='CrashAfterIter', at=3)]\n")
    work_dir = workspace / 'resume'
    options = train_options(workspace, 'seg') + [
        'default_hooks.checkpoint.interval=2']
    code, output, _ = run('tools/train.py', [
        str(crashing), '--work-dir', str(work_dir), '--cfg-options', *options
    ], env=dict(PYTHONPATH=str(workspace / 'hooks')), check=False)
    assert code != 0 and 'simulated crash after iteration 3' in output
    assert 'Iter(train) [3/4]' in output
    assert [osp.basename(p) for p in checkpoints(work_dir)] == ['iter_2.pth']

    _, output, _ = train(SEG, work_dir, options, extra=['--resume'])
    assert re.search(r'[Rr]esumed? .*iter[: ]+2', output), output[-3000:]
    trained = re.findall(r'Iter\(train\) \[(\d+)/4\]', output)
    assert trained == ['3', '4']  # continues at 3, does not restart at 1
    assert [osp.basename(p) for p in checkpoints(work_dir)] == [
        'iter_2.pth', 'iter_4.pth']


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_cpu_training(workspace):
    work_dir = workspace / 'dist'
    options = train_options(workspace, 'det', iters=2) + [
        'train_dataloader.batch_size=1',
        'env_cfg.dist_cfg.backend=gloo',
    ]
    _, output, seconds = run_script(
        ['bash', 'tools/dist_train.sh', DET, '2', '--work-dir', str(work_dir),
         '--cfg-options', *options],
        env=dict(PORT=str(_free_port()), PYTHON=sys.executable))
    # mmengine logs the world size as "GPU number", CPU processes included
    assert 'Distributed training: True' in output, output[-3000:]
    assert re.search(r'GPU number: 2\b', output)
    assert 'Iter(train) [2/2]' in output
    assert [osp.basename(p) for p in checkpoints(work_dir)] == ['iter_2.pth']
    print(f'2-process run in {seconds:.0f} s')


def _bad_case(workspace, case):
    """(config, --cfg-options, patterns the error must show)."""
    det = train_options(workspace, 'det')
    if case == 'missing-annotations':
        return DET, det + [
            'train_dataloader.dataset.ann_file=annotations/missing.json'
        ], [r'coco/annotations/missing\.json']
    if case == 'malformed-annotations':
        broken = workspace / 'broken.json'
        broken.write_text('{"images": [{"id": 1,')
        return DET, det + [f'train_dataloader.dataset.ann_file={broken}'], [
            re.escape(str(broken)), 'not valid JSON'
        ]
    if case == 'classes-not-in-annotations':
        return DET, det + [
            'train_dataloader.dataset.metainfo.classes='
            '[circle,hexagon,triangle,star]'
        ], ['hexagon', r'instances_train\.json']
    if case == 'checkpoint-of-another-arch':
        return DET, train_options(workspace, 'det', checkpoint='femto'), [
            r'femto_backbone\.pth', "arch 'femto'", "'atto'"
        ]
    raise ValueError(case)


@pytest.mark.parametrize('case', [
    'missing-annotations', 'malformed-annotations',
    'classes-not-in-annotations', 'checkpoint-of-another-arch'
])
def test_bad_input_fails_clearly_without_checkpoint(workspace, case):
    config, options, patterns = _bad_case(workspace, case)
    work_dir = workspace / f'bad_{case}'
    code, output, _ = run('tools/train.py', [
        config, '--work-dir', str(work_dir), '--cfg-options', *options
    ], check=False)
    assert code == 1, output[-4000:]
    # one line, no traceback, naming the problem
    assert 'Traceback' not in output, output[-4000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith('error: '), output[-4000:]
    for pattern in patterns:
        assert re.search(pattern, last), (pattern, output[-4000:])
    assert checkpoints(work_dir) == []
