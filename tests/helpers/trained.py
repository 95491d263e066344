"""The small models the suite trains, each once per session through
tools/train.py and shared by every test that needs a trained checkpoint or
work dir (``trained`` fixture of the root conftest):

* ``fcmae``: the atto FCMAE ImageNet recipe, one epoch (2 iterations) on an
  ImageNet-layout folder;
* ``det`` / ``seg``: the atto Mask R-CNN and UperNet synthetic configs, 2
  iterations each, the backbone loaded from the FCMAE checkpoint (the
  pre-train -> fine-tune hand-off);
* ``cls``: the tiny classifier config of tests/helpers/classifier.py, one
  epoch (2 iterations).

Each run is trained when a test first asks for it, once per session even
under pytest-xdist: the workers share one folder, and a run made by one is
read by the others (a file lock per run; a worker that asks while another
trains waits for it). Tests that write into a run (resume, a second
training) copy its checkpoint first: :func:`copy_run`."""
import os
import os.path as osp
import shutil
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
from filelock import FileLock
from PIL import Image

from mmconvnextv2.analysis.runner import data_options
from mmconvnextv2.datasets import make_synthetic_data
from mmconvnextv2.utils import POINTER, read_json, write_json

from helpers.classifier import CONFIG as CLS_CONFIG
from helpers.classifier import data_options as cls_data_options
from helpers.classifier import run, write_imagenet_folder

FCMAE_CONFIG = 'configs/fcmae/fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py'
DET_CONFIG = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
SEG_CONFIG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'
#: Iterations of the det and seg runs (their checkpoint: iter_{ITERS}.pth).
ITERS = 2
WNIDS = ('n01440764', 'n01443537')


@dataclass
class Run:
    """One finished tools/train.py run."""
    config: str
    checkpoint: str
    work_dir: Path
    #: the --cfg-options it was trained with (its length option aside)
    options: List[str]
    #: stdout and stderr of the tool
    output: str


def write_fcmae_folder(root: str, per_class: int = 2) -> None:
    """mmpretrain's ImageNet layout for pre-training:
    ``train/<wnid>/*.JPEG`` + ``meta/train.txt``."""
    rng = np.random.default_rng(0)
    lines = []
    for label, wnid in enumerate(WNIDS):
        os.makedirs(osp.join(root, 'train', wnid))
        for i in range(per_class):
            img = rng.integers(0, 255, (96, 120, 3), dtype=np.uint8)
            name = f'{wnid}/{wnid}_{i}.JPEG'
            Image.fromarray(img).save(osp.join(root, 'train', name))
            lines.append(f'{name} {label}\n')
    os.makedirs(osp.join(root, 'meta'))
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.writelines(lines)


def copy_run(run: Run, work_dir: Path) -> Path:
    """A new work dir holding ``run``'s checkpoint and a pointer to it, as
    the run left it: ``--resume`` there continues without touching ``run``."""
    work_dir.mkdir(parents=True)
    checkpoint = work_dir / osp.basename(run.checkpoint)
    shutil.copy(run.checkpoint, checkpoint)
    (work_dir / POINTER).write_text(str(checkpoint))
    return work_dir


class TrainedRuns:
    """The session's runs, each trained on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _once(self, name: str, make: Callable[[], dict]) -> dict:
        """``make()``'s record, made by the first process that asks (under
        a lock) and read back from ``root/name.json`` by the others."""
        record = self.root / f'{name}.json'
        with FileLock(str(self.root / f'{name}.lock')):
            if not record.exists():
                write_json(record, make())
        return read_json(record)

    def _folder(self, name: str, write: Callable[[str], object]) -> Path:
        """``root/name``, written once by ``write(path)``."""
        folder = self.root / name

        def make() -> dict:
            write(str(folder))
            return dict(folder=str(folder))
        self._once(name, make)
        return folder

    @cached_property
    def data(self) -> Path:
        """Synthetic COCO and ADE sets: 2 training and 2 validation images."""
        return self._folder('data', lambda folder: make_synthetic_data(
            folder, seed=0, num_train=2, num_val=2, size=128))

    @cached_property
    def imagenet(self) -> Path:
        """The classifier's ImageNet-layout folder (train and val)."""
        return self._folder('imagenet', write_imagenet_folder)

    def _train(self, name: str, config: str, checkpoint: str,
               options: List[str], length: str) -> Run:
        """tools/train.py ``config`` into ``root/name`` (once)."""
        work_dir = self.root / name

        def make() -> dict:
            output = run(['tools/train.py', config, '--work-dir',
                          str(work_dir), '--cfg-options', *options, length])
            return asdict(Run(config, str(work_dir / checkpoint), work_dir,
                              options, output))
        record = self._once(name, make)
        return Run(**dict(record, work_dir=Path(record['work_dir'])))

    @cached_property
    def fcmae(self) -> Run:
        folder = self._folder('fcmae_images', write_fcmae_folder)
        options = [*data_options('root', folder, ['train']),
                   'train_dataloader.batch_size=2',
                   'train_dataloader.num_workers=0',
                   'train_dataloader.persistent_workers=False',
                   'default_hooks.logger.interval=1']
        return self._train('fcmae', FCMAE_CONFIG, 'epoch_1.pth', options,
                           'train_cfg.max_epochs=1')

    def _downstream(self, task: str, config: str) -> Run:
        options = [*data_options(task, str(self.data)),
                   'train_cfg.val_begin=1000',  # tools/test.py evaluates
                   'default_hooks.logger.interval=1',
                   'model.backbone.init_cfg.type=Pretrained',
                   f'model.backbone.init_cfg.checkpoint={self.fcmae.checkpoint}',
                   'model.backbone.init_cfg.prefix=backbone.']
        return self._train(task, config, f'iter_{ITERS}.pth', options,
                           f'train_cfg.max_iters={ITERS}')

    @cached_property
    def det(self) -> Run:
        return self._downstream('det', DET_CONFIG)

    @cached_property
    def seg(self) -> Run:
        return self._downstream('seg', SEG_CONFIG)

    @cached_property
    def cls(self) -> Run:
        return self._train('cls', CLS_CONFIG, 'epoch_1.pth',
                           cls_data_options(str(self.imagenet)),
                           'train_cfg.max_epochs=1')


@pytest.fixture(scope='session')
def trained(tmp_path_factory) -> TrainedRuns:
    """``.fcmae``, ``.det``, ``.seg``, ``.cls``: a :class:`Run` each;
    ``.data``: the synthetic data folder; ``.imagenet``: the classifier's."""
    if 'PYTEST_XDIST_WORKER' not in os.environ:  # one process: its own folder
        return TrainedRuns(tmp_path_factory.mktemp('trained'))
    # pytest-xdist: the folder above every worker's, shared by all
    root = tmp_path_factory.getbasetemp().parent / 'trained'
    root.mkdir(exist_ok=True)
    return TrainedRuns(root)
