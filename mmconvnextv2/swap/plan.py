"""The swap as a plan: which ConvNeXt V2 stage replaces each backbone
output, and every field of the config that changes with it.

:func:`swap_config` runs the phases in order: load, probe the original
backbone, find its readers, lay out the stages, replace the backbone,
rewrite the readers, follow the widths they pass on, the checkpoints'
normalisation, the optimizer, the notes.
"""
import copy
import inspect
import math
from dataclasses import dataclass, field
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

from mmengine.config import Config

from ..utils import config_dicts
from .probe import FeatureMap, original_backbone, parse_arch, probe_backbone
from .readers import (Level, Reader, class_default, find_readers,
                      passed_through, runs_without_skipped)
from .tree import WIDTH_KEY, Path, SwapError, dotted, get_path, locate, plain

__all__ = ['IMAGENET_NORM', 'Change', 'SwapResult', 'Layout', 'Edits',
           'assign_stages', 'layout_stages', 'layer_decay_settings',
           'swap_config']

#: mean / std / channel order of every ConvNeXt V2 checkpoint (ImageNet, RGB)
IMAGENET_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


@dataclass
class Change:
    """One field of the config the swap changes."""
    path: Path
    old: Any
    new: Any

    @property
    def name(self) -> str:
        """The dotted name, list positions in brackets."""
        return dotted(self.path)


@dataclass
class SwapResult:
    """What :func:`swap_config` decided: the override tree and its record."""
    base: str
    scope: str
    arch: Union[str, dict]
    overrides: Dict[str, Any]
    changes: List[Change]
    notes: List[str] = field(default_factory=list)
    out_indices: Tuple[int, ...] = ()


# --------------------------------------------------------------- stages
def _stride_stage(stride: int, num_stages: int) -> int:
    """The ConvNeXt V2 stage of ``stride`` (stage s has stride 4 * 2**s)."""
    return min(max(round(math.log2(stride)) - 2, 0), num_stages - 1)


def assign_stages(maps: Sequence[FeatureMap], num_stages: int) -> List[int]:
    """A ConvNeXt V2 stage per output. Outputs of one stride and one width
    (a ViT's levels, a stacked hourglass's) are one kind of map and share the
    stage of that stride. The kinds, in order, get the stage of their stride,
    else the next free one, then pulled down to fit (a dilated ResNet's
    stride-8 stages keep their depth order). With more kinds than stages,
    every output gets the stage of its stride."""
    kinds = list(dict.fromkeys((m.stride, m.channels) for m in maps))
    if len(kinds) > num_stages:
        return [_stride_stage(m.stride, num_stages) for m in maps]
    stages: List[int] = []
    for stride, _ in kinds:
        want = _stride_stage(stride, num_stages)
        if stages and want <= stages[-1]:
            want = stages[-1] + 1
        stages.append(want)
    k = len(stages)
    stages = [min(s, num_stages - k + i) for i, s in enumerate(stages)]
    return [stages[kinds.index((m.stride, m.channels))] for m in maps]


@dataclass
class Layout:
    """Where the original outputs that are read go in ConvNeXt V2."""
    read: List[int]               # original output positions read, sorted
    stage_of: Dict[int, int]      # original position -> stage
    stages: List[int]             # the new backbone's out_indices
    new_position: Dict[int, int]  # original position -> new output position
    new_width: Dict[int, int]     # original position -> new width


def layout_stages(maps: List[FeatureMap], readers: List[Reader],
                  depths: List[int], channels: List[int]) -> Layout:
    """A stage for each output that is read; the new backbone returns them
    in stage order."""
    read = sorted({p for r in readers for p in r.used})
    if len(maps) <= len(depths):  # a dilated ResNet's stages keep their order
        every = assign_stages(maps, len(depths))
        stage_of = {p: every[p] for p in read}
    else:
        stage_of = dict(zip(read, assign_stages([maps[p] for p in read],
                                                len(depths))))
    order = sorted(read, key=lambda p: (stage_of[p], p))
    return Layout(read, stage_of, [stage_of[p] for p in order],
                  {p: i for i, p in enumerate(order)},
                  {p: channels[stage_of[p]] for p in read})


def keep_skipped_where_needed(model: dict, readers: List[Reader],
                              maps: List[FeatureMap], scope: str) -> None:
    """Necks that skip their first inputs but index them by fixed positions
    keep the outputs they skip."""
    for reader in readers:
        if reader.skipped and not runs_without_skipped(
                get_path(dict(model=model), reader.path), reader, maps, scope):
            reader.skipped = 0  # it indexes its inputs by fixed positions


# --------------------------------------------------------------- edits
class Edits:
    """The changed copy of the model config and the record of each change."""

    def __init__(self, model: dict) -> None:
        self.model = model
        self.new_model = copy.deepcopy(model)
        self.changes: List[Change] = []
        self.roots: List[Path] = []  # the top fields that change, in order

    def new(self, path: Path) -> Any:
        """The value at ``path`` of the changed config."""
        return get_path(dict(model=self.new_model), path)

    def set(self, path: Path, value: Any) -> None:
        """Set ``path`` (from ``('model', ...)``) to ``value``; recorded
        unless it already holds that value."""
        parent = self.new(path[:-1])
        old = parent.get(path[-1])
        if old == value and path[-1] in parent:
            return
        parent[path[-1]] = value
        self.changes.append(Change(path, old, value))
        cut = next((i for i, part in enumerate(path) if isinstance(part, int)),
                   len(path))
        self.roots.append(path[:cut])

    def model_overrides(self) -> Dict[str, Any]:
        """The override tree of ``model``: each changed top field whole."""
        tree: Dict[str, Any] = {}
        for root in dict.fromkeys(self.roots):  # ordered, unique
            node = tree
            for part in root[1:-1]:
                node = node.setdefault(part, {})
            node[root[-1]] = copy.deepcopy(self.new(root))
        return tree


# --------------------------------------------------------------- phases
def replace_backbone(edits: Edits, backbone_path: Path,
                     arch: Union[str, dict], stages: List[int],
                     checkpoint: Optional[str], drop_path_rate: float) -> None:
    """The backbone dict replaced (``_delete_``) by ConvNeXt V2."""
    new_backbone = dict(_delete_=True, type='mmpretrain.ConvNeXtV2', arch=arch,
                        out_indices=tuple(stages), drop_path_rate=drop_path_rate,
                        gap_before_final_norm=False)
    if checkpoint:
        new_backbone['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint)
    edits.set(backbone_path, new_backbone)


def _rewrite_width(edits: Edits, reader: Reader, widths_read: List[int]
                   ) -> Optional[Tuple[list, list]]:
    """The reader's width field (and the widths a neck passes on or a head
    keeps); returns the (old, new) ``out_channels`` a neck passes on."""
    node = get_path(dict(model=edits.model), reader.path)
    old = node[reader.key]
    passed = None
    if isinstance(old, (list, tuple)):
        value = type(old)(widths_read)
        out = node.get('out_channels')
        if isinstance(out, (list, tuple)) and list(out[:len(old)]) == list(old):
            # a neck that passes its inputs on (SSD's): follow them
            new_out = type(out)(widths_read + list(out[len(old):]))
            edits.set(reader.path + ('out_channels', ), new_out)
            passed = (list(out), list(new_out))
    elif len(set(widths_read)) == 1:
        value = widths_read[0]
        if node.get('channels') == old:  # a head that keeps its input
            edits.set(reader.path + ('channels', ), value)  # width (FCN, 0 convs)
    else:
        raise SwapError(
            f'{dotted(reader.path + (reader.key, ))}={old} is one width for '
            f'backbone outputs {reader.positions}, which ConvNeXt V2 gives '
            f'different widths {widths_read}')
    edits.set(reader.path + (reader.key, ), value)
    return passed


def _rewrite_index(edits: Edits, reader: Reader, layout: Layout,
                   num_maps: int) -> None:
    """The reader's index field renumbered to the new outputs' positions
    (written when stated, or when the class default no longer fits)."""
    n = len(layout.read)
    index = reader.index
    items = list(index) if isinstance(index, (list, tuple)) else [index]
    new_items = [layout.new_position[i % num_maps] - (n if i < 0 else 0)
                 for i in items]
    new_index = type(index)(new_items) if isinstance(
        index, (list, tuple)) else new_items[0]
    if reader.explicit_index and new_index != index or \
            [i % n for i in items] != [j % n for j in new_items]:
        edits.set(reader.path + (reader.index_key, ), new_index)


def rewrite_readers(edits: Edits, readers: List[Reader], layout: Layout,
                    num_maps: int) -> List[Tuple[list, list]]:
    """Every reader's widths and indices; returns the width lists that necks
    pass on unchanged, as (old, new)."""
    passed = []
    for reader in readers:
        if reader.skipped:
            edits.set(reader.path + ('start_level', ), 0)
        handed_on = _rewrite_width(
            edits, reader, [layout.new_width[p] for p in reader.used])
        if handed_on:
            passed.append(handed_on)
        if reader.index_key:
            _rewrite_index(edits, reader, layout, num_maps)
    return passed


def _later_dicts(later: List[Level]
                 ) -> Iterator[Tuple[Path, dict, dict]]:
    """(module path, module config, a dict inside it) of the later levels."""
    for path, node in (pn for level in later for pn in level):
        for sub in config_dicts(node):
            yield path, node, sub


def follow_passed_lists(edits: Edits, passed: List[Tuple[list, list]],
                        later: List[Level]) -> None:
    """Width lists equal to what a neck passes on, in the modules after it."""
    for old, new in passed:
        for path, node, sub in _later_dicts(later):
            for key, value in list(sub.items()):
                if WIDTH_KEY.match(key) and isinstance(value, (list, tuple)) \
                        and list(value) == old:
                    edits.set(locate(node, sub, path) + (key, ), type(value)(new))


def follow_handed_on_maps(edits: Edits, readers: List[Reader],
                          maps: List[FeatureMap], layout: Layout,
                          later: List[Level], scope: str) -> None:
    """A neck that hands some backbone maps on unchanged (JPU's, for an
    auxiliary head): the heads that read those maps follow their widths."""
    if not (len(readers) == 1 and readers[0].path[-1:] == ('neck', )
            and not readers[0].index_key):
        return
    through = passed_through(get_path(dict(model=edits.model), readers[0].path),
                             readers[0], maps, scope)
    for path, node, sub in _later_dicts(later):
        key, index = 'in_channels', sub.get('in_index')
        if not isinstance(index, int) or index not in through \
                or not isinstance(sub.get(key), int):
            continue
        source = through[index]
        if sub[key] == maps[source].channels and source in layout.new_width:
            where = locate(node, sub, path)
            if sub.get('channels') == sub[key]:
                edits.set(where + ('channels', ), layout.new_width[source])
            edits.set(where + (key, ), layout.new_width[source])


def use_checkpoint_normalisation(edits: Edits, owner_path: Path,
                                 scope: str) -> None:
    """No mmseg ``pretrained`` shortcut; the data preprocessors (the
    model's, the backbone owner's) normalise as the ConvNeXt V2 checkpoints
    were trained: ImageNet mean / std, RGB."""
    if edits.model.get('pretrained'):
        edits.set(('model', 'pretrained'), None)
    for path in (('model', ), owner_path):
        preprocessor = edits.new(path).get('data_preprocessor')
        for sub in config_dicts(preprocessor or {}):
            if sub.get('mean') is None or sub.get('std') is None:
                continue
            where = locate(edits.new(path), sub, path)
            for key, value in IMAGENET_NORM.items():
                if [float(v) for v in sub[key]] != value:
                    edits.set(where + (key, ), value)
            for key in ('bgr_to_rgb', 'to_rgb'):  # mmdet/mmseg, mmpretrain
                accepted = class_default(sub.get('type'), key, scope)
                if key in sub or accepted is not inspect.Parameter.empty:
                    edits.set(where + (key, ), True)
                    break
            if sub.get('rgb_to_bgr'):
                edits.set(where + ('rgb_to_bgr', ), False)


def layer_decay_settings(scope: str, depths: List[int],
                         rate: Optional[float]) -> Optional[dict]:
    """mmdet's / mmseg's ``LearningRateDecayOptimizerConstructor`` settings
    for a 4-stage ConvNeXt V2: mmdet numbers the layers (stage 3's blocks in
    threes, as the official recipe), mmseg the stages; the upstream ConvNeXt
    configs' decay rates (0.95 layer-wise, 0.9 stage-wise) by default."""
    if len(depths) != 4:
        return None
    if scope == 'mmdet':
        return dict(decay_rate=0.95 if rate is None else rate,
                    decay_type='layer_wise',
                    num_layers=max(6, 4 + (depths[2] - 1) // 3))
    if scope == 'mmseg':
        return dict(decay_rate=0.9 if rate is None else rate,
                    decay_type='stage_wise', num_layers=6)
    return None


def layer_decay_optimizer(cfg: Config, scope: str, depths: List[int],
                          lr_decay: Optional[float], owner_path: Path,
                          overrides: Dict[str, Any],
                          changes: List[Change]) -> Optional[str]:
    """AdamW with the layer-wise lr decay in ``overrides`` (recorded in
    ``changes``); else why not, as a note."""
    decay = layer_decay_settings(scope, depths, lr_decay)
    wrapper = cfg.get('optim_wrapper')
    if decay is None:
        return (f'optimizer left as it is: no layer-decay constructor for '
                f'{scope} with {len(depths)} stages')
    if owner_path != ('model', ):
        return ('optimizer left as it is: the layer-decay constructor reads '
                'model.backbone, the backbone is '
                f'{dotted(owner_path + ("backbone", ))}')
    if not isinstance(wrapper, dict) or 'optimizer' not in wrapper:
        return 'no optim_wrapper.optimizer to replace (not a training config)'
    overrides['optim_wrapper'] = dict(
        constructor='LearningRateDecayOptimizerConstructor',
        optimizer=dict(_delete_=True, type='AdamW', lr=1e-4,
                       betas=(0.9, 0.999), weight_decay=0.05),
        paramwise_cfg=dict(_delete_=True, **decay))
    old = plain(wrapper)
    changes.append(Change(('optim_wrapper', ), dict(
        constructor=old.get('constructor'),
        optimizer=old['optimizer'].get('type')), dict(
            constructor='LearningRateDecayOptimizerConstructor',
            optimizer='AdamW', **decay)))
    return None


def closing_notes(checkpoint: Optional[str], maps: List[FeatureMap],
                  read: List[int]) -> List[str]:
    """Random weights without a checkpoint; outputs nothing reads."""
    notes = []
    if not checkpoint:
        notes.append('no checkpoint given: the backbone starts from random '
                     'weights (--checkpoint PATH_OR_URL)')
    unread = [i for i in range(len(maps)) if i not in read]
    if unread:
        notes.append(f'backbone outputs {unread} of the original are read by '
                     'nothing and are dropped')
    return notes


# --------------------------------------------------------------- the swap
def swap_config(cfg: Config, base: str, arch: Union[str, dict] = 'atto',
                checkpoint: Optional[str] = None,
                lr_decay: Optional[float] = None,
                drop_path_rate: float = 0.1) -> SwapResult:
    """Decide every change that puts ConvNeXt V2 into ``cfg``'s model.

    Args:
        cfg: The loaded original config.
        base: How the written config names the original in ``_base_``.
        arch: ``atto`` ... ``huge`` or ``dict(depths=..., channels=...)``.
        checkpoint: Path or URL for ``init_cfg=dict(type='Pretrained')``.
        lr_decay: Decay rate of the layer-wise lr (default by task).
        drop_path_rate: Stochastic depth of the new backbone.

    Raises:
        SwapError: what cannot be swapped, in one line naming the field.
    """
    scope = cfg.get('default_scope')
    if 'model' not in cfg or not isinstance(cfg.model, dict):
        raise SwapError(f'{base} defines no `model`')
    arch, depths, channels = parse_arch(arch)
    model = plain(cfg.model)
    owner_path, owner = original_backbone(model)
    backbone_path = owner_path + ('backbone', )
    maps = probe_backbone(owner['backbone'], scope, backbone_path)
    readers, later = find_readers(owner, owner_path,
                                  [m.channels for m in maps], scope)
    keep_skipped_where_needed(model, readers, maps, scope)
    layout = layout_stages(maps, readers, depths, channels)

    edits = Edits(model)
    replace_backbone(edits, backbone_path, arch, layout.stages, checkpoint,
                     drop_path_rate)
    passed = rewrite_readers(edits, readers, layout, len(maps))
    follow_passed_lists(edits, passed, later)
    follow_handed_on_maps(edits, readers, maps, layout, later, scope)
    use_checkpoint_normalisation(edits, owner_path, scope)

    overrides: Dict[str, Any] = dict(
        custom_imports=dict(imports=['mmconvnextv2'], allow_failed_imports=False),
        model=edits.model_overrides())
    note = layer_decay_optimizer(cfg, scope, depths, lr_decay, owner_path,
                                 overrides, edits.changes)
    notes = ([note] if note else []) + closing_notes(checkpoint, maps,
                                                     layout.read)
    return SwapResult(base, scope, arch, overrides, edits.changes, notes,
                      tuple(layout.stages))
