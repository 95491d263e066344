"""Print the parameters and FLOPs of any config's model.

Classifiers and FCMAE are measured whole (tensor mode); detectors and
segmentors on their feature extractor (backbone + neck, ``extract_feat``),
since their heads' cost depends on the predictions. The paper counts FLOPs of
the ImageNet classifier at 224, e.g.::

    python tools/analysis_tools/get_flops.py \\
        configs/convnext_v2/convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py
"""
import argparse
from typing import Dict, List, Optional

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope

import mmconvnextv2  # noqa: F401


class FeatureExtractor(torch.nn.Module):
    """A detector's or segmentor's ``extract_feat`` as a module."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        return self.model.extract_feat(x)


def drop_pretrained(node) -> None:
    """Remove every ``Pretrained`` init_cfg: nothing is downloaded."""
    if isinstance(node, dict):
        if isinstance(node.get('init_cfg'), dict) and \
                node['init_cfg'].get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            drop_pretrained(value)


def complexity(config: str, shape: List[int],
               cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Parameters and FLOPs (multiply-adds, as the paper counts) of a config."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope', 'mmpretrain')
    init_default_scope(scope)
    drop_pretrained(cfg.model)
    model = MODELS.build(cfg.model).eval()
    measured = model if scope == 'mmpretrain' else FeatureExtractor(model)
    what = 'whole model' if scope == 'mmpretrain' else 'backbone + neck'
    info = get_model_complexity_info(measured, input_shape=tuple(shape),
                                     show_table=False, show_arch=False)
    return dict(params=info['params'], flops=info['flops'], measured=what,
                total_params=sum(p.numel() for p in model.parameters()))


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+', default=[224, 224],
                        help='input H W (a single value means square)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    h, w = (args.shape * 2)[:2]
    result = complexity(args.config, [3, h, w], args.cfg_options)
    print(f'{args.config}\n  input 3x{h}x{w}, measured: {result["measured"]}\n'
          f'  params: {result["params"] / 1e6:.2f} M '
          f'(whole model {result["total_params"] / 1e6:.2f} M)\n'
          f'  FLOPs:  {result["flops"] / 1e9:.2f} G')
    return result


if __name__ == '__main__':
    main()
