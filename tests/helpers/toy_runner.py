"""A toy mmengine Runner in the test process (a linear model on random
data, CPU, iteration-based) with the hooks every Runner of ours gets
(:func:`mmconvnextv2.engine.make_reliable`): our hooks on mmengine's own
loop in about a second."""
import glob
import os.path as osp
import random
import uuid
from typing import Iterable, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmconvnextv2.engine import make_reliable
from mmconvnextv2.runtime import trust_mmengine_checkpoints


class NoisyData(Dataset):
    """Items that draw from Python's, numpy's and torch's generators (as a
    data pipeline does): a resume that restores them wrongly shows in the
    weights."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        x = torch.full((3, ), float(index)) + torch.randn(3) + float(
            np.random.rand()) + random.random()
        return dict(inputs=x, target=x.sum(0, keepdim=True))


class ToyModel(BaseModel):
    """``Linear(3, 1)`` with input noise; its loss is NaN at the (1-based)
    loss computations ``nan_at``."""

    def __init__(self, nan_at: Iterable[int] = ()) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.nan_at, self.calls = set(nan_at), 0

    def forward(self, inputs: torch.Tensor, target: torch.Tensor = None,
                mode: str = 'tensor'):
        out = self.linear(inputs + 0.1 * torch.randn_like(inputs))
        if mode != 'loss':
            return out
        self.calls += 1
        loss = ((out - target) ** 2).mean()
        if self.calls in self.nan_at:
            loss = loss * float('nan')
        return dict(loss_mse=loss)


def toy_runner(work_dir: str, max_iters: int = 4, resume: bool = False,
               nan_at: Iterable[int] = (), max_skips: int = 0,
               checkpoint: Optional[dict] = None,
               custom_hooks: Optional[List] = None,
               drop: Iterable[str] = ()) -> Runner:
    """A Runner of :class:`ToyModel` saving every 2 iterations (plus
    ``checkpoint`` arguments), our hooks (less the types in ``drop``) and
    ``custom_hooks`` added."""
    cfg = Config(dict(
        work_dir=work_dir, resume=resume, max_nonfinite_skips=max_skips,
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=2, **(checkpoint or {}))),
        randomness=dict(seed=0)))
    make_reliable(cfg)
    hooks = [h for h in cfg.custom_hooks if h['type'] not in set(drop)]
    trust_mmengine_checkpoints()
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        model=ToyModel(nan_at), work_dir=work_dir,
        experiment_name=f'toy-{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=NoisyData(), batch_size=2, num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.005,
                                          momentum=0.9)),
        train_cfg=cfg.train_cfg, default_hooks=cfg.default_hooks,
        custom_hooks=hooks + list(custom_hooks or []),
        randomness=cfg.randomness, resume=cfg.resume,
        load_from=cfg.get('load_from'), env_cfg=cfg.env_cfg)


def weights(path_or_runner) -> dict:
    """The state dict of a checkpoint file or of a Runner's model."""
    if isinstance(path_or_runner, Runner):
        return {k: v.detach().clone()
                for k, v in path_or_runner.model.state_dict().items()}
    trust_mmengine_checkpoints()
    return torch.load(path_or_runner, map_location='cpu')['state_dict']


def checkpoints(work_dir: str) -> List[str]:
    """The ``*.pth`` names in ``work_dir``, sorted."""
    return sorted(osp.basename(p)
                  for p in glob.glob(osp.join(work_dir, '*.pth')))
