"""Whole-model checkpoints across channel counts: ``load_from`` (a
fine-tuning start, tools/test.py's CHECKPOINT) and ``--resume``.

mmengine loads such a checkpoint into the model non-strictly: a stem
convolution of other input channels than the model's would keep its random
initialisation behind a size-mismatch warning. :class:`StemChannelsHook`
sees the checkpoint after it is read and before mmengine loads it
(``after_load_checkpoint``) and applies the rule of
:mod:`mmconvnextv2.checkpoint.channels` to it: a 3-channel (RGB) stem is
adapted to the model's channels by the backbone's ``stem_rule`` (that of
its init_cfg, default ``'mean'``; logged), and a stem of C' channels for a
model of C != C' is refused in one line naming both counts.
"""
import re
from typing import Any, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...checkpoint.channels import STEM_KEY, fit_stem, stem_in_channels

__all__ = ['StemChannelsHook']

_STEM = re.compile(r'^(module\.)?backbone\.' + re.escape(STEM_KEY) + '$')


def _stem_rule(backbone: Any) -> Any:
    init_cfg = getattr(backbone, 'init_cfg', None)
    return init_cfg.get('stem_rule', 'mean') \
        if isinstance(init_cfg, dict) else 'mean'


@HOOKS.register_module()
class StemChannelsHook(Hook):
    """Fit the stem of a loaded whole-model checkpoint to the model's
    channels, or refuse it (see the module doc)."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        backbone = getattr(model, 'backbone', None)
        if not hasattr(backbone, 'downsample_layers'):
            return  # not a ConvNeXt V2 model
        state = checkpoint.get('state_dict', checkpoint)
        key: Optional[str] = next((k for k in state if _STEM.match(k)), None)
        if key is None:
            return
        source = getattr(runner, '_load_from', None) or 'the checkpoint'
        fit_stem(state, stem_in_channels(backbone), source,
                 _stem_rule(backbone), key=key)
