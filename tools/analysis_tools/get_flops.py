"""Print the parameters and FLOPs of any config's model.

What runs is the model's tensor-mode forward on one dummy image: a classifier
whole (backbone + head); an FCMAE model its encoder (mmpretrain's
self-supervised tensor mode); a segmentor its backbone (+ neck) and decode
head (logits at 1/4 scale, before the resize; the auxiliary head only trains).
A detector's head cost depends on its predictions (proposals, boxes), so only
its feature extractor (``extract_feat``: backbone + neck) is measured. The
output names the parts that ran; "params" counts those parts, "whole model"
every parameter. FLOPs are multiply-adds, as the paper counts them (ImageNet
classifier at 224: atto 3.7M / 0.55G), e.g.::

    python tools/analysis_tools/get_flops.py \\
        configs/convnext_v2/convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py
"""
import argparse
import logging
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, init_default_scope

import mmconvnextv2  # noqa: F401  (registers our modules)
from mmconvnextv2.runtime import drop_pretrained


class FeatureExtractor(torch.nn.Module):
    """A detector's ``extract_feat`` (backbone + neck) as a module."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> Any:
        return self.model.extract_feat(x)


def parts_that_run(model: torch.nn.Module, measured: torch.nn.Module,
                   inputs: torch.Tensor) -> List[str]:
    """Names of ``model``'s direct children that one forward of ``measured``
    uses. Hooks sit on every submodule, since a parent may call a child's
    ``forward`` directly (mmseg calls ``decode_head.forward``)."""
    used = set()
    hooks = [
        module.register_forward_hook(lambda *_, name=name: used.add(name))
        for name, child in model.named_children()
        for module in child.modules()
    ]
    try:
        with torch.no_grad():
            measured(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return [name for name, _ in model.named_children() if name in used]


def complexity(config: str, shape: Sequence[int],
               cfg_options: Optional[dict] = None) -> Dict[str, Any]:
    """Parameters and FLOPs of a config's model for a ``(C, H, W)`` input."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope', 'mmpretrain')
    init_default_scope(scope)
    drop_pretrained(cfg.model)
    model = MODELS.build(cfg.model).eval()
    measured = FeatureExtractor(model) if scope == 'mmdet' else model
    inputs = torch.randn(1, *shape)
    parts = parts_that_run(model, measured, inputs)
    # the counter warns about every op it does not count (GELU, GRN, norms,
    # additions): element-wise work that the paper's FLOPs leave out as well
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        info = get_model_complexity_info(measured, inputs=(inputs, ),
                                         show_table=False, show_arch=False)
    finally:
        logger.setLevel(level)
    params = sum(p.numel() for name in parts
                 for p in getattr(model, name).parameters())
    return dict(params=params, flops=info['flops'], parts=parts,
                total_params=sum(p.numel() for p in model.parameters()))


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+', default=[224, 224],
                        help='input H W (a single value means square)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes H W or one size')
    h, w = (args.shape * 2)[:2]
    result = complexity(args.config, [3, h, w], args.cfg_options)
    print(f'{args.config}\n'
          f'  input:    1x3x{h}x{w}\n'
          f'  measured: {" + ".join(result["parts"])}\n'
          f'  params:   {result["params"] / 1e6:.2f} M '
          f'(whole model {result["total_params"] / 1e6:.2f} M)\n'
          f'  FLOPs:    {result["flops"] / 1e9:.2f} G')
    return result


if __name__ == '__main__':
    main()
