"""Shared helpers of the downstream (mmdet / mmseg) tests."""
import os.path as osp
from typing import Dict, Sequence

import torch
from mmengine.config import Config

from mmconvnextv2.utils import build_model, loss_step, seg_inputs  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
TEST_CONFIGS = osp.join(REPO, 'tests', 'data', 'configs')


def load_config(path: str, **options) -> Config:
    """Read a config file (repository-relative or absolute) and apply
    ``--cfg-options``-style dotted overrides."""
    cfg = Config.fromfile(path if osp.isabs(path) else osp.join(REPO, path))
    if options:
        cfg.merge_from_dict(options)
    return cfg


def assert_backbone_learns(model: torch.nn.Module,
                           unused: Sequence[str] = ()) -> None:
    """Every trainable backbone parameter got a finite gradient, the zero-
    initialised GRN gamma included (it must learn away from identity).
    ``unused``: name prefixes of parameters whose output the model ignores
    (e.g. ``norm0.`` when the neck starts at stage 1)."""
    for name, param in model.backbone.named_parameters():
        if name.startswith(tuple(unused)):
            assert param.grad is None, f'{name} is used after all'
            continue
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    gamma = model.backbone.stages[0][0].grn.gamma
    assert gamma.grad.abs().sum() > 0


def groups_by_param(optim_wrapper) -> Dict[str, dict]:
    """Map every parameter name to its optimizer param group."""
    return {name: group for group in optim_wrapper.optimizer.param_groups
            for name in group['param_names']}
