"""The backbones the feature-collapse analysis measures: ``LABEL=PATH``
arguments, the V1/V2 block type of a checkpoint, and the network built
from it.

Checkpoints load through :func:`mmconvnextv2.checkpoint.load_backbone_checkpoint`
(any layout it reads); ``random`` is a freshly initialised network of the arch
(seeded). The V1/V2 block type of a file is read from its keys (GRN
parameters: V2; none: V1), or forced with a ``:v1`` / ``:v2`` suffix.
"""
import os.path as osp
import re
import time
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch

from mmconvnextv2.checkpoint import (load_backbone_checkpoint,
                                     read_checkpoint, unwrap_state)
from mmconvnextv2.models.backbones.convnext_v2 import ConvNeXtV2
from mmconvnextv2.utils import is_remote

__all__ = ['CheckpointSpec', 'parse_checkpoint_spec', 'checkpoint_block_type',
           'build_backbone', 'middle_block', 'quiet_logs']


@dataclass
class CheckpointSpec:
    """A ``LABEL=PATH[:v1|:v2]`` argument: ``path`` is a file or ``random``,
    ``block_type`` None when it is to be read from the file (V2 for random)."""
    label: str
    path: str
    block_type: Optional[str] = None


def parse_checkpoint_spec(text: str) -> CheckpointSpec:
    """Parse ``LABEL=PATH``, ``LABEL=random`` or either with ``:v1``/``:v2``."""
    label, sep, path = text.partition('=')
    if not sep or not label or not path:
        raise ValueError(f'checkpoint {text!r} is not LABEL=PATH (PATH a file '
                         "or 'random', optionally ending in :v1 or :v2)")
    block_type = None
    m = re.match(r'(.+):(v[12])$', path)
    if m:
        path, block_type = m[1], m[2]
    return CheckpointSpec(label, path, block_type)


#: GRN parameters inside a backbone block, in every layout the loader reads
#: (not those of the FCMAE decoder's block, which is V2 for a V1 encoder too).
_BLOCK_GRN = re.compile(r'(?:^|\.)stages\.\d+\.(?:blocks\.|layers\.)?\d+\.'
                        r'(?:mlp\.)?grn\.')


def checkpoint_block_type(path: str) -> str:
    """``'v2'`` if the checkpoint's backbone blocks hold GRN parameters,
    else ``'v1'``."""
    state = unwrap_state(read_checkpoint(path, map_location='cpu'))
    return 'v2' if any(_BLOCK_GRN.search(k) for k in state) else 'v1'


def build_backbone(arch: Union[str, dict], spec: CheckpointSpec,
                   seed: int = 0) -> ConvNeXtV2:
    """The backbone of ``arch`` with ``spec``'s weights (random: seeded init),
    in eval mode, returning its last stage's map."""
    random_init = spec.path == 'random'
    if not random_init and not osp.exists(spec.path) and \
            not is_remote(spec.path):
        raise FileNotFoundError(f'checkpoint {spec.path!r} of {spec.label!r} '
                                'does not exist')
    block_type = spec.block_type or (
        'v2' if random_init else checkpoint_block_type(spec.path))
    torch.manual_seed(seed)
    model = ConvNeXtV2(arch=arch, block_type=block_type, out_indices=-1,
                       gap_before_final_norm=False, norm_outputs=False)
    model.init_weights()
    if not random_init:
        load_backbone_checkpoint(model, spec.path)
    return model.eval()


def middle_block(model: ConvNeXtV2) -> Tuple[int, int]:
    """``(stage, block)`` of the middle block of the network."""
    middle = sum(model.depths) // 2
    for s, depth in enumerate(model.depths):
        if middle < depth:
            return s, middle
        middle -= depth
    return len(model.depths) - 1, model.depths[-1] - 1


def quiet_logs() -> None:
    """Make a WARNING-level mmengine logger current, so that building and
    loading the backbones does not print every parameter's init."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance(f'feature_collapse-{time.time_ns()}',
                          log_level='WARNING')
