"""Shared helpers of the downstream (mmdet / mmseg) tests."""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

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


def build_model(cfg: Config) -> torch.nn.Module:
    """Build and initialise ``cfg.model`` in the config's scope, without
    leaving that scope set for other tests."""
    from mmengine.registry import MODELS
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        with MODELS.switch_scope_and_registry(cfg.default_scope) as models:
            model = models.build(cfg.model)
        model.init_weights()
    return model


def loss_step(model: torch.nn.Module, data: dict) -> Dict[str, torch.Tensor]:
    """Preprocess ``data``, compute the losses, backpropagate their sum and
    return them; the sum must be finite."""
    model.train()
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), losses
    loss.backward()
    return losses


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


def seg_inputs(shapes: Sequence[Tuple[int, int]], num_classes: int,
               seed: int = 0) -> dict:
    """Images and ``SegDataSample``s with ``PixelData`` labels (some 255)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs: List[torch.Tensor] = []
    samples = []
    for h, w in shapes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen,
                                    dtype=torch.uint8))
        label = torch.randint(0, num_classes, (1, h, w), generator=gen)
        label[:, :4] = 255  # an ignored band
        sample = SegDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def groups_by_param(optim_wrapper) -> Dict[str, dict]:
    """Map every parameter name to its optimizer param group."""
    return {name: group for group in optim_wrapper.optimizer.param_groups
            for name in group['param_names']}
