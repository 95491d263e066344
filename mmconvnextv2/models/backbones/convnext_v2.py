"""ConvNeXt V2 backbone, run densely or on the visible positions of a masked batch.

Paper: "ConvNeXt V2: Co-designing and Scaling ConvNets with Masked Autoencoders",
Woo et al., 2023 (arXiv 2301.00808). The official weights are released by Meta
under the CC-BY-NC 4.0 licence.

The same module serves every task: ``backbone(x)`` is the dense network used by
classifiers, detectors and segmentors; ``backbone(x, mask=mask)`` is the FCMAE
encoder, which computes only at visible positions (a sparse network, without
MinkowskiEngine). Parameter names follow mmpretrain's ``ConvNeXt``
(``downsample_layers.{s}``, ``stages.{s}.{b}``, ``norm{i}``), which is what
mmdet's and mmseg's layer-decay optimizer constructors expect.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule, initialize
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers.grn import GRN
from ..layers.norm import LayerNorm2d
from ..layers.visible_set import VisibleSet

RANDOM_INIT = [
    dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02, bias=0.),
    dict(type='Constant', layer=['LayerNorm'], val=1., bias=0.),
]


def layer_norm_last(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """Apply ``norm``'s affine LayerNorm over the last (channel) dimension."""
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


#: The block types of :class:`ConvNeXtV2` (``block_type``): whether the MLP
#: has GRN, and the LayerScale init used when ``layer_scale_init_value`` is
#: not given (0: no LayerScale).
BLOCK_TYPES: Dict[str, Dict[str, Union[bool, float]]] = {
    'v2': dict(use_grn=True, layer_scale_init_value=0.),
    'v1': dict(use_grn=False, layer_scale_init_value=1e-6),
}


class ConvNeXtV2Block(BaseModule):
    """7x7 depthwise conv -> LN -> Linear(C, 4C) -> GELU -> GRN -> Linear(4C, C),
    with drop path and a residual connection; no LayerScale (the V2 block).

    With ``use_grn=False`` and ``layer_scale_init_value=1e-6`` it is the
    ConvNeXt V1 block: no GRN (``grn`` is then an ``nn.Identity`` without
    parameters, kept so that the module tree and forward hooks are the same)
    and the output of ``pointwise_conv2`` scaled per channel by the learnable
    LayerScale ``gamma`` (shape ``(C,)``, as mmpretrain's and the official
    ConvNeXt V1 name it).

    Parameters: ``depthwise_conv.{weight,bias}``, ``norm.{weight,bias}``,
    ``pointwise_conv1.{weight,bias}``, ``grn.{gamma,beta}`` (GRN only),
    ``pointwise_conv2.{weight,bias}``, ``gamma`` (LayerScale only).

    Args:
        channels: Width C of the block.
        mlp_ratio: Hidden width of the MLP, as a multiple of C.
        drop_path_rate: Stochastic depth rate.
        with_cp: Recompute the block in the backward pass to save memory.
        use_grn: Global Response Normalization after the GELU (ConvNeXt V2).
        layer_scale_init_value: Initial value of the LayerScale ``gamma``;
            0 (the V2 block) adds no LayerScale.
    """

    def __init__(self,
                 channels: int,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.,
                 with_cp: bool = False,
                 use_grn: bool = True,
                 layer_scale_init_value: float = 0.) -> None:
        super().__init__()
        if layer_scale_init_value < 0:
            raise ValueError('layer_scale_init_value must be >= 0, got '
                             f'{layer_scale_init_value}')
        hidden = int(mlp_ratio * channels)
        self.depthwise_conv = nn.Conv2d(
            channels, channels, kernel_size=7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pointwise_conv1 = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.use_grn = use_grn
        self.grn = GRN(hidden) if use_grn else nn.Identity()
        self.pointwise_conv2 = nn.Linear(hidden, channels)
        if layer_scale_init_value > 0:
            self.gamma = nn.Parameter(
                torch.full((channels, ), float(layer_scale_init_value)))
        else:
            self.register_parameter('gamma', None)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 \
            else nn.Identity()
        self.with_cp = with_cp

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        """The pointwise part on channel-last features ``(N, ..., C)``."""
        x = self.pointwise_conv1(self.norm(x))
        x = self.pointwise_conv2(self.grn(self.act(x)))
        return x if self.gamma is None else x * self.gamma

    def _forward(self, x: torch.Tensor,
                 visible: Optional[VisibleSet]) -> torch.Tensor:
        if visible is None:
            y = self.depthwise_conv(x).permute(0, 2, 3, 1)
            y = self.mlp(y).permute(0, 3, 1, 2)
        else:
            y = visible.gather(self.depthwise_conv(visible.scatter(x)))
            y = self.mlp(y)
        # y first: the sum takes y's (channels-last) memory format, in which
        # the next depthwise convolution runs about twice as fast on CPU
        return self.drop_path(y) + x

    def forward(self, x: torch.Tensor,
                visible: Optional[VisibleSet] = None) -> torch.Tensor:
        """Dense ``(N, C, H, W)`` in and out, or packed ``(N, K, C)`` visible
        features in and out when ``visible`` describes their positions."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, visible, use_reentrant=False)
        return self._forward(x, visible)


class ConvNeXtV2Stage(nn.ModuleList):
    """The blocks of one stage (a ModuleList so keys read ``stages.{s}.{b}``)."""

    def forward(self, x: torch.Tensor,
                visible: Optional[VisibleSet] = None) -> torch.Tensor:
        for block in self:
            x = block(x, visible)
        return x


@MODELS.register_module()
class ConvNeXtV2(BaseBackbone):
    """ConvNeXt V2 backbone (atto ... huge), dense or masked; with
    ``block_type='v1'`` the ConvNeXt V1 network of the same sizes.

    Args:
        arch: A name from ``arch_settings`` or a dict with ``depths`` and
            ``channels`` lists of equal length.
        in_channels: Image channels.
        stem_patch_size: Stride of the stem convolution.
        drop_path_rate: Stochastic depth rate, rising linearly over the blocks.
        out_indices: Stages whose outputs are returned (in stage order);
            negative counts from the end; a stage listed twice is returned
            twice (for heads that read several maps of one stride). The
            caller's sequence is not modified.
        frozen_stages: Freeze the stem/downsampling layers, blocks and output
            norms of the first ``frozen_stages`` stages.
        gap_before_final_norm: Average-pool each output before its norm and
            return ``(N, C)`` vectors (classification). False returns maps.
        norm_outputs: Apply a LayerNorm (``norm{i}``) to each returned output.
            The FCMAE encoder has none, so its configs set this False.
        with_cp: Gradient checkpointing of every block.
        norm_eval: Keep BatchNorm layers in eval mode while training. The
            network itself only has LayerNorms, which have no running stats;
            this matters only for norms a user adds by subclassing.
        layer_decay_type: ``'group'`` (the official 12/6 groups, as
            mmpretrain's ConvNeXt) or ``'single'`` (one id per block) for
            mmpretrain's layer-wise lr decay via :meth:`get_layer_depth`.
        block_type: ``'v2'`` (default: the ConvNeXt V2 block, with GRN, no
            LayerScale) or ``'v1'`` (the ConvNeXt V1 block: no GRN, a
            LayerScale ``gamma`` initialised at 1e-6), on the dense and the
            masked path alike and with the same arch table: FCMAE pre-trains
            a V1 encoder as it does a V2 one. Block parameters:
            ``stages.{s}.{b}.{depthwise_conv,norm,pointwise_conv1,
            pointwise_conv2}.{weight,bias}``, plus ``stages.{s}.{b}.grn.{gamma,
            beta}`` (V2, shape ``(4C,)``) or ``stages.{s}.{b}.gamma`` (V1,
            LayerScale, shape ``(C,)``, 1-D so it gets no weight decay).
        layer_scale_init_value: LayerScale init of every block; None takes
            the block type's (V1: 1e-6; V2: none), 0 disables LayerScale.
        init_cfg: Initialisation. ``dict(type='Pretrained', checkpoint=...,
            prefix=...)`` reads any known ConvNeXt V2 checkpoint layout;
            ``stem_rule`` says how 3-channel weights start a stem of other
            ``in_channels`` (:mod:`mmconvnextv2.checkpoint.channels`).
    """

    arch_settings: Dict[str, Dict[str, List[int]]] = {
        'atto': dict(depths=[2, 2, 6, 2], channels=[40, 80, 160, 320]),
        'femto': dict(depths=[2, 2, 6, 2], channels=[48, 96, 192, 384]),
        'pico': dict(depths=[2, 2, 6, 2], channels=[64, 128, 256, 512]),
        'nano': dict(depths=[2, 2, 8, 2], channels=[80, 160, 320, 640]),
        'tiny': dict(depths=[3, 3, 9, 3], channels=[96, 192, 384, 768]),
        'base': dict(depths=[3, 3, 27, 3], channels=[128, 256, 512, 1024]),
        'large': dict(depths=[3, 3, 27, 3], channels=[192, 384, 768, 1536]),
        'huge': dict(depths=[3, 3, 27, 3], channels=[352, 704, 1408, 2816]),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 in_channels: int = 3,
                 stem_patch_size: int = 4,
                 drop_path_rate: float = 0.,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = 0,
                 gap_before_final_norm: bool = True,
                 norm_outputs: bool = True,
                 with_cp: bool = False,
                 norm_eval: bool = False,
                 layer_decay_type: str = 'group',
                 block_type: str = 'v2',
                 layer_scale_init_value: Optional[float] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg if init_cfg is not None
                         else RANDOM_INIT)
        if block_type not in BLOCK_TYPES:
            raise ValueError(f'block_type must be one of {sorted(BLOCK_TYPES)}, '
                             f'got {block_type!r}')
        self.block_type = block_type
        block_cfg = dict(BLOCK_TYPES[block_type])
        if layer_scale_init_value is not None:
            block_cfg['layer_scale_init_value'] = layer_scale_init_value
        self.arch_name, self.depths, self.channels = self._parse_arch(arch)
        self.num_stages = len(self.depths)
        self.stem_patch_size = stem_patch_size
        self.out_indices = self._parse_out_indices(out_indices, self.num_stages)
        if not 0 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [0, {self.num_stages}], '
                             f'got {frozen_stages}')
        if layer_decay_type not in ('group', 'single'):
            raise ValueError("layer_decay_type must be 'group' or 'single', "
                             f'got {layer_decay_type!r}')
        self.frozen_stages = frozen_stages
        self.gap_before_final_norm = gap_before_final_norm
        self.norm_outputs = norm_outputs
        self.norm_eval = norm_eval
        self.layer_decay_type = layer_decay_type

        c = self.channels
        self.downsample_layers = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, c[0], stem_patch_size,
                          stride=stem_patch_size),
                LayerNorm2d(c[0], eps=1e-6))
        ] + [
            nn.Sequential(
                LayerNorm2d(c[i - 1], eps=1e-6),
                nn.Conv2d(c[i - 1], c[i], kernel_size=2, stride=2))
            for i in range(1, self.num_stages)
        ])
        total = sum(self.depths)
        rates = [drop_path_rate * b / max(total - 1, 1) for b in range(total)]
        self.stages = nn.ModuleList()
        for s, depth in enumerate(self.depths):
            first = sum(self.depths[:s])
            self.stages.append(ConvNeXtV2Stage([
                ConvNeXtV2Block(c[s], drop_path_rate=rates[first + b],
                                with_cp=with_cp, **block_cfg)
                for b in range(depth)
            ]))
        if norm_outputs:
            for i in self.out_indices:
                self.add_module(f'norm{i}', LayerNorm2d(c[i], eps=1e-6))
        self._freeze_stages()

    # ------------------------------------------------------------------ setup
    @classmethod
    def _parse_arch(cls, arch: Union[str, dict]) -> Tuple[str, List[int], List[int]]:
        if isinstance(arch, str):
            if arch not in cls.arch_settings:
                raise ValueError(f'unknown ConvNeXt V2 arch {arch!r}; choose one '
                                 f'of {sorted(cls.arch_settings)} or give a dict '
                                 'with "depths" and "channels"')
            setting = cls.arch_settings[arch]
            return arch, list(setting['depths']), list(setting['channels'])
        if not isinstance(arch, dict) or not {'depths', 'channels'} <= set(arch):
            raise ValueError('a custom arch must be a dict with "depths" and '
                             f'"channels", got {arch!r}')
        depths, channels = list(arch['depths']), list(arch['channels'])
        if len(depths) != len(channels) or not depths:
            raise ValueError(f'arch depths {depths} and channels {channels} '
                             'must be non-empty and of equal length')
        return 'custom', depths, channels

    @staticmethod
    def _parse_out_indices(out_indices: Union[int, Sequence[int]],
                           num_stages: int) -> Tuple[int, ...]:
        given = [out_indices] if isinstance(out_indices, int) else list(out_indices)
        parsed = []
        for index in given:
            if not -num_stages <= index < num_stages:
                raise ValueError(f'out_indices entry {index} is out of range '
                                 f'for {num_stages} stages')
            parsed.append(index % num_stages)
        return tuple(sorted(parsed))  # stage order; a repeated stage repeats

    @property
    def total_stride(self) -> int:
        """Stride of the last stage: FCMAE's patch size (32 for 4 stages)."""
        return self.stem_patch_size * 2**(self.num_stages - 1)

    def init_weights(self) -> None:
        """Random init, then, for a ``Pretrained`` init_cfg, load the checkpoint
        in whatever known layout it is (converted on load)."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            from ...checkpoint import load_backbone_checkpoint
            initialize(self, RANDOM_INIT)
            load_backbone_checkpoint(
                self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                map_location=cfg.get('map_location', 'cpu'),
                stem_rule=cfg.get('stem_rule', 'mean'))
            self._is_init = True
            return
        super().init_weights()

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages):
            modules = [self.downsample_layers[i], self.stages[i]]
            if hasattr(self, f'norm{i}'):
                modules.append(getattr(self, f'norm{i}'))
            for module in modules:
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'ConvNeXtV2':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    # ---------------------------------------------------------------- forward
    def check_mask(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        """Raise a clear error if ``mask`` does not fit the images ``x``."""
        p = self.total_stride
        n, _, h, w = x.shape
        if h % p or w % p:
            raise ValueError(f'image size {h}x{w} is not divisible by the '
                             f'patch size {p} (the backbone total stride)')
        if mask.dtype != torch.bool:
            raise TypeError(f'mask must be a bool tensor, got {mask.dtype}')
        if tuple(mask.shape) != (n, h // p, w // p):
            raise ValueError(f'mask shape {tuple(mask.shape)} does not match '
                             f'(N, H/{p}, W/{p}) = {(n, h // p, w // p)}')

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        """Dense forward, or the sparse FCMAE encoder when ``mask`` is given.

        Args:
            x: Images ``(N, C, H, W)``.
            mask: Optional bool ``(N, H/P, W/P)``, True = masked patch, P the
                total stride. Then every layer computes at visible positions
                only (as sparse convolution) and each returned map is exactly
                zero at masked positions.

        Returns:
            The outputs of ``out_indices``: maps ``(N, C_i, H_i, W_i)`` or, with
            ``gap_before_final_norm``, vectors ``(N, C_i)``.
        """
        if mask is None:
            return self._forward_dense(x)
        self.check_mask(x, mask)
        return self._forward_masked(x, mask)

    def _output(self, i: int, x: torch.Tensor,
                visible: Optional[VisibleSet] = None) -> torch.Tensor:
        """Pool and/or normalise the output of stage ``i`` (dense or packed)."""
        norm = getattr(self, f'norm{i}', None)
        if visible is None:
            x = x.permute(0, 2, 3, 1)  # channel-last
            if self.gap_before_final_norm:
                x = x.mean(dim=(1, 2))
        elif self.gap_before_final_norm:
            x = x.mean(dim=1)  # over the visible positions
        if norm is not None:
            x = layer_norm_last(norm, x)
        if self.gap_before_final_norm:
            return x
        if visible is None:
            return x.permute(0, 3, 1, 2).contiguous()
        return visible.scatter(x).contiguous()

    def _forward_dense(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for i in range(self.num_stages):
            x = self.stages[i](self.downsample_layers[i](x))
            if i in self.out_indices:
                outs += [self._output(i, x)] * self.out_indices.count(i)
        return tuple(outs)

    def _forward_masked(self, x: torch.Tensor,
                        mask: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        sets = VisibleSet.pyramid(mask, self.num_stages)
        outs = []
        # the stem's patches never straddle two mask patches: run it densely
        x = sets[0].gather(self.downsample_layers[0](x))
        for i in range(self.num_stages):
            if i > 0:
                x = self._downsample_visible(i, x, sets[i - 1], sets[i])
            x = self.stages[i](x, sets[i])
            if i in self.out_indices:
                outs += [self._output(i, x, sets[i])] * self.out_indices.count(i)
        return tuple(outs)

    def _downsample_visible(self, i: int, x: torch.Tensor, fine: VisibleSet,
                            coarse: VisibleSet) -> torch.Tensor:
        """LN + 2x2 stride-2 conv on packed features: each coarse visible
        position reads its four (visible) children and applies the conv as one
        matrix product."""
        norm, conv = self.downsample_layers[i]
        x = layer_norm_last(norm, x)
        children = fine.children_of(coarse)  # (N, Kc, 4)
        n, kc, _ = children.shape
        c_in = x.shape[-1]
        quads = x.gather(1, children.view(n, kc * 4, 1).expand(-1, -1, c_in))
        quads = quads.view(n, kc, 4 * c_in)  # (dy, dx, c) ordering
        weight = conv.weight.permute(0, 2, 3, 1).reshape(conv.out_channels, -1)
        return F.linear(quads, weight, conv.bias)

    # ------------------------------------------------------------ layer decay
    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id and number of layer ids of a parameter, for mmpretrain's
        ``LearningRateDecayOptimWrapperConstructor``.

        ``'group'``: stem 0; stages 0/1 (and downsampling 1/2) ids 1/2; stage 2
        blocks in groups of three from 3; the last stage the top id (12 when
        stage 2 has more than 9 blocks, else 6). ``'single'``: block ``b`` of
        stage ``s`` is ``sum(depths[:s]) + b + 1``, downsampling layer ``s`` is
        ``sum(depths[:s]) + 1``. Parameters outside the backbone (norms, head)
        get the top id + 1.
        """
        if self.layer_decay_type == 'single':
            max_layer_id = sum(self.depths)
        else:
            max_layer_id = 12 if self.depths[-2] > 9 else 6
        num_ids = max_layer_id + 2
        if not param_name.startswith(prefix):
            return max_layer_id + 1, num_ids
        parts = param_name[len(prefix):].split('.')
        if parts[0] not in ('downsample_layers', 'stages'):
            return max_layer_id + 1, num_ids
        stage = int(parts[1])
        if self.layer_decay_type == 'single':
            layer_id = sum(self.depths[:stage]) + 1
            if parts[0] == 'stages':
                layer_id += int(parts[2])
            return layer_id, num_ids
        last = self.num_stages - 1
        if stage == last:
            layer_id = max_layer_id
        elif parts[0] == 'downsample_layers':
            layer_id = 0 if stage == 0 else stage + 1
        elif stage < last - 1:
            layer_id = stage + 1
        else:
            layer_id = last + int(parts[2]) // 3
        return layer_id, num_ids
