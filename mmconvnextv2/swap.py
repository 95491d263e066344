"""Swap ConvNeXt V2 into an mmdet or mmseg config: find what depends on the
backbone by following its outputs through the model config, and write a short
config that inherits the original and states only what changes.

How the walk goes, with no table of model families:

1. The backbone is the first ``backbone`` dict found in ``model`` (the model
   itself, or e.g. ``model.detector`` of a tracker or a semi-supervised
   wrapper). It is built once on CPU and run on a blank image: the widths and
   strides of its outputs are read, not looked up.
2. Its readers are the first neck (or, with no neck, the heads). A reader
   states which outputs it reads by ``in_index`` / ``c1_in_index`` (given, or
   the class's default, as mmseg's decode heads), else by its
   ``in_channels`` list (all outputs in order) or by the width values it
   holds. A dict that states no input width is a container (a RoI head, an
   iterative decode head): its children are searched; a neck that states no
   width at all (global pooling) passes the outputs on to what follows.
3. Each output goes to the ConvNeXt V2 stage of the same stride (4, 8, 16,
   32; the outputs of dilated or single-scale backbones take the next free
   stage, in order; outputs of one stride and one width, a ViT's levels,
   share one stage, which ``out_indices`` then names more than once), and
   only the outputs that are read are kept (also those an FPN skips with
   ``start_level``), so the readers' positions are renumbered where needed.
4. The readers' widths and indices are rewritten; list widths that a neck
   passes through unchanged (its ``out_channels`` starting with its inputs)
   are followed to the heads that read them.

What cannot be placed raises :class:`SwapError` with one line naming the
field: a backbone that wraps a backbone of its own, a width that belongs to
a backbone output but is not an input width, one width for outputs that
ConvNeXt V2 gives different widths.
"""
import copy
import inspect
import math
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict

from .runtime import drop_pretrained
from .utils.config import config_dicts, revert_sync_bn

#: mean / std / channel order of every ConvNeXt V2 checkpoint (ImageNet, RGB)
IMAGENET_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
STEM_STRIDE = 4
WIDTH_KEY = re.compile(r'^(?:(\w+)_)?in_channels$')  # in_channels, c1_in_channels
OTHER_WIDTH_KEY = re.compile(r'(channels|_dims?)$')  # widths that are not inputs
NOT_MODULES = ('backbone', 'neck', 'data_preprocessor', 'train_cfg', 'test_cfg',
               'init_cfg', 'pretrained')
Path = Tuple[Union[str, int], ...]


class SwapError(ValueError):
    """The config cannot be swapped; the message is one line naming the field."""


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
class Reader:
    """A width field that reads backbone outputs."""
    path: Path               # the dict holding the field
    key: str                 # e.g. 'in_channels', 'c1_in_channels'
    positions: List[int]     # original backbone outputs read, in field order
    index_key: Optional[str]  # e.g. 'in_index' when positions come from it
    index: Any = None        # that index as the config (or class) states it
    explicit_index: bool = False
    skipped: int = 0         # leading positions a neck skips (start_level)

    @property
    def used(self) -> List[int]:
        """The positions whose features are used."""
        return self.positions[self.skipped:]


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


def dotted(path: Path) -> str:
    """``('model', 'decode_head', 1, 'in_channels')`` ->
    ``model.decode_head[1].in_channels``."""
    text = ''
    for part in path:
        text += f'[{part}]' if isinstance(part, int) else f'.{part}'
    return text.lstrip('.')


def plain(value: Any) -> Any:
    """ConfigDicts and tuples-in-lists as plain Python values."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def get_path(root: Any, path: Path) -> Any:
    """The value at ``path`` inside nested dicts and lists."""
    for part in path:
        root = root[part]
    return root


# --------------------------------------------------------------- loading
def installed_configs(package: str) -> str:
    """The config folder an OpenMMLab wheel ships (``<pkg>/.mim/configs``)."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SwapError(f'package {package!r} is not installed')
    return osp.join(osp.dirname(spec.origin), '.mim', 'configs')


def resolve_config(name: str, out_dir: str) -> Tuple[str, str]:
    """The file of ``name`` (a path or ``mmdet::rel/path.py``) and how the
    written config refers to it in ``_base_``: the ``pkg::`` form for a
    packaged config (unless its folder has a name mmengine's ``pkg::``
    parser rejects, such as ``gn+ws``), else a path relative to
    ``out_dir``."""
    if '::' in name:
        package, rel = name.split('::', 1)
        path = osp.join(installed_configs(package), rel)
        if not osp.isfile(path):
            raise SwapError(f'{name}: no such config in {package}')
    else:
        path = osp.abspath(name)
        if not osp.isfile(path):
            raise SwapError(f'{name}: no such config file')
    match = re.search(r'[/\\](mm\w+)[/\\]\.mim[/\\]configs[/\\](\w+[/\\].+)$',
                      path)
    if match:  # the pkg:: form where mmengine can read it (\w+ folders)
        return path, f'{match.group(1)}::{match.group(2)}'.replace('\\', '/')
    return path, osp.relpath(path, osp.abspath(out_dir)).replace('\\', '/')


# --------------------------------------------------------------- backbone
def parse_arch(arch: Union[str, dict]) -> Tuple[Union[str, dict], List[int], List[int]]:
    """``arch`` as the backbone takes it, with its depths and widths."""
    from .models import ConvNeXtV2
    name, depths, channels = ConvNeXtV2._parse_arch(arch)
    return (name if name != 'custom' else dict(depths=depths, channels=channels),
            depths, channels)


def find_backbone(model: dict, path: Path = ('model', )) -> Path:
    """Path of the dict that owns the model's ``backbone`` (breadth first)."""
    queue = [(path, model)]
    while queue:
        here, node = queue.pop(0)
        if isinstance(node.get('backbone'), dict) and 'type' in node['backbone']:
            return here
        queue += [(here + (k, ), v) for k, v in node.items()
                  if isinstance(v, dict) and not k.endswith('_cfg')]
    raise SwapError(f'model ({model.get("type")}) has no `backbone` to replace: '
                    'not a backbone-neck-head model')


def nested_backbone(node: Any, path: Path) -> Optional[Path]:
    """Path of a ``*backbone*`` key below ``node`` (a network inside it)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'init_cfg':
                continue
            if 'backbone' in key and isinstance(value, (dict, str)):
                return path + (key, )
            found = nested_backbone(value, path + (key, ))
            if found:
                return found
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found = nested_backbone(value, path + (i, ))
            if found:
                return found
    return None


@dataclass
class FeatureMap:
    """One backbone output as measured."""
    channels: int
    stride: int


def probe_backbone(backbone: dict, scope: str, path: Path,
                   size: int = 256) -> List[FeatureMap]:
    """Build the original backbone on CPU (no weights loaded) and run its
    training forward (some backbones give their heads more outputs then) on
    two blank ``size`` x ``size`` images, or at the backbone's own
    ``img_size`` if it needs that: the width and stride of each output."""
    from mmengine.registry import MODELS, DefaultScope
    cfg = dict(backbone=copy.deepcopy(plain(backbone)))
    drop_pretrained(cfg)
    revert_sync_bn(cfg)
    name = f'{dotted(path)} ({backbone.get("type")})'
    own = cfg['backbone'].get('img_size')
    own = own[0] if isinstance(own, (list, tuple)) else own
    sizes = [size] + ([own] if isinstance(own, int) and own != size else [])
    channels = cfg['backbone'].get('in_channels', 3)
    try:
        with DefaultScope.overwrite_default_scope(scope):
            with MODELS.switch_scope_and_registry(scope) as models:
                module = models.build(cfg['backbone'])
        module.train()
        for i, side in enumerate(sizes):
            x = torch.zeros(2, channels if isinstance(channels, int) else 3,
                            side, side)
            try:
                with torch.no_grad():
                    outputs = module(x)
                size = side
                break
            except Exception:  # noqa: BLE001  (then at its own size)
                if i == len(sizes) - 1:
                    raise
    except Exception as err:  # noqa: BLE001  (any failure is reported)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ''
        raise SwapError(f'{name} could not be run to measure its outputs: '
                        f'{type(err).__name__}: {first}') from err
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    maps = []
    for i, out in enumerate(outputs):
        if not isinstance(out, torch.Tensor) or out.dim() != 4:
            raise SwapError(f'{name} output {i} is not a feature map '
                            f'({type(out).__name__}): its readers expect '
                            'more than ConvNeXt V2 gives')
        maps.append(FeatureMap(int(out.shape[1]),
                               max(1, round(size / out.shape[-1]))))
    return maps


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


# --------------------------------------------------------------- readers
def class_default(type_name: Any, key: str, scope: str) -> Any:
    """Default of ``key`` in the ``__init__`` of a registered class (its own
    or a base class's), or ``inspect.Parameter.empty``."""
    if not isinstance(type_name, str):
        return inspect.Parameter.empty
    from mmengine.registry import MODELS
    try:
        with MODELS.switch_scope_and_registry(scope) as models:
            cls = models.get(type_name)
    except Exception:  # noqa: BLE001
        return inspect.Parameter.empty
    for klass in getattr(cls, '__mro__', ()):
        try:
            params = inspect.signature(klass.__init__).parameters
        except (TypeError, ValueError):
            continue
        if key in params and params[key].default is not inspect.Parameter.empty:
            return params[key].default
    return inspect.Parameter.empty


def _positions_by_value(where: str, value: Any,
                        widths: List[int]) -> List[int]:
    """Backbone outputs a width field refers to when it names no index."""
    k = len(widths)
    if isinstance(value, (list, tuple)):
        if list(value) == widths:
            return list(range(k))
        positions = []
        for v in value:
            hits = [p for p, w in enumerate(widths) if w == v]
            if len(hits) != 1:
                raise SwapError(
                    f'{where}={list(value)} does not match the backbone '
                    f'outputs\' widths {widths} one to one')
            positions.append(hits[0])
        return positions
    hits = [p for p, w in enumerate(widths) if w == value]
    if not hits:
        raise SwapError(f'{where}={value} matches no backbone output '
                        f'(widths {widths})')
    return hits


def _normalise_index(where: str, index: Any, k: int) -> List[int]:
    items = list(index) if isinstance(index, (list, tuple)) else [index]
    for i in items:
        if not isinstance(i, int) or not -k <= i < k:
            raise SwapError(f'{where}={index} is out of range for the '
                            f'{k} backbone outputs')
    return [i % k for i in items]


def readers_of(node: dict, path: Path, widths: List[int],
               scope: str) -> List[Reader]:
    """The width fields of ``node`` that read backbone outputs; a node
    without any is searched as a container (index-stated readers first)."""
    readers = []
    for key, value in node.items():
        if not WIDTH_KEY.match(key) or not isinstance(value, (int, list, tuple)):
            continue
        where = dotted(path + (key, ))
        index_key = key[:-len('channels')] + 'index'
        explicit = index_key in node
        index = node[index_key] if explicit else class_default(
            node.get('type'), index_key, scope)
        if index is inspect.Parameter.empty:
            reader = Reader(path, key, _positions_by_value(where, value, widths),
                            None)
            start, end = node.get('start_level', 0), node.get('end_level', -1)
            if isinstance(value, (list, tuple)) and isinstance(start, int) \
                    and start > 0 and end in (-1, None, len(value) - 1):
                reader.skipped = start  # FPN-like: outputs before it unused
            readers.append(reader)
            continue
        positions = _normalise_index(dotted(path + (index_key, )), index,
                                     len(widths))
        stated = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(stated) != len(positions):
            raise SwapError(f'{where}={value} and {index_key}={index} '
                            'differ in length')
        for p, w in zip(positions, stated):
            if widths[p] != w:
                raise SwapError(f'{where}={value} but backbone output {p} '
                                f'has {widths[p]} channels')
        readers.append(Reader(path, key, positions, index_key, index, explicit))
    if readers:
        return readers
    children = [(path + (k, ), v) for k, v in node.items()
                if isinstance(v, dict) and 'type' in v and k not in NOT_MODULES]
    children += [(path + (k, i), item) for k, v in node.items()
                 if isinstance(v, (list, tuple)) and k not in NOT_MODULES
                 for i, item in enumerate(v)
                 if isinstance(item, dict) and 'type' in item]
    found = {child_path: readers_of(child, child_path, widths, scope)
             for child_path, child in children}
    if any(r.index_key for rs in found.values() for r in rs):
        # index-stated readers are sure; same-valued widths beside them are
        # the widths of what those readers produce
        return [r for rs in found.values() for r in rs if r.index_key]
    return [r for rs in found.values() for r in rs]


def stray_width(node: Any, path: Path, widths: List[int]) -> Optional[str]:
    """A width-like field below ``node`` equal to a backbone output's width
    (one that states no input, so cannot be rewritten), as a message."""
    for sub in config_dicts(node):
        for key, value in sub.items():
            if not OTHER_WIDTH_KEY.search(key) or isinstance(value, bool):
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, int) and v in widths for v in values):
                where = _locate(node, sub, path) + (key, )
                return (f'{dotted(where)}={value} is the width of a backbone '
                        'output but not an input width this tool can '
                        'rewrite')
    return None


def _locate(root: Any, target: dict, path: Path) -> Path:
    """Path of the dict ``target`` inside ``root`` (identity)."""
    if root is target:
        return path
    items = root.items() if isinstance(root, dict) else enumerate(root) \
        if isinstance(root, (list, tuple)) else ()
    for key, value in items:
        if isinstance(value, (dict, list, tuple)):
            found = _locate(value, target, path + (key, ))
            if found is not None:
                return found
    return None


def reading_levels(owner: dict, owner_path: Path) -> Iterator[List[Tuple[Path, dict]]]:
    """Where the backbone's outputs may go, in order: each neck, then the
    heads (every other module of the owner) together."""
    neck = owner.get('neck')
    necks = neck if isinstance(neck, (list, tuple)) else [neck] if neck else []
    for i, item in enumerate(necks):
        yield [(owner_path + (('neck', i) if isinstance(neck, (list, tuple))
                              else ('neck', )), item)]
    heads = []
    for key, value in owner.items():
        if key in NOT_MODULES or 'backbone' in key:
            continue
        if isinstance(value, dict) and 'type' in value:
            heads.append((owner_path + (key, ), value))
        elif isinstance(value, (list, tuple)):
            heads += [(owner_path + (key, i), item) for i, item in enumerate(value)
                      if isinstance(item, dict) and 'type' in item]
    yield heads


def _run_neck(cfg: dict, positions: List[int], maps: List[FeatureMap],
              scope: str, size: int, train: bool) -> Optional[tuple]:
    """Build the neck ``cfg`` on CPU (SyncBN -> BN, no init_cfg) and run it
    on blank maps of the widths and strides of backbone outputs
    ``positions``; return ``(inputs, outputs)``, or None if it fails."""
    from mmengine.registry import DefaultScope, MODELS
    cfg = copy.deepcopy(cfg)
    cfg.pop('init_cfg', None)
    holder = dict(neck=cfg)
    revert_sync_bn(holder)
    feats = tuple(torch.zeros(1, maps[p].channels,
                              max(1, size // maps[p].stride),
                              max(1, size // maps[p].stride))
                  for p in positions)
    try:
        with DefaultScope.overwrite_default_scope(scope):
            with MODELS.switch_scope_and_registry(scope) as models:
                module = models.build(holder['neck'])
        module.train(train)
        with torch.no_grad():
            outs = module(feats)
    except Exception:  # noqa: BLE001  (any failure: nothing is known)
        return None
    return feats, outs


def runs_without_skipped(node: dict, reader: Reader, maps: List[FeatureMap],
                         scope: str, size: int = 256) -> bool:
    """Whether a neck that skips its first inputs (``start_level``) still
    runs when given only the outputs it uses, with ``start_level=0``. A neck
    that indexes its inputs by fixed positions (NAS-FCOS's) does not; its
    skipped outputs are then kept."""
    cfg = dict(plain(node))
    cfg[reader.key] = [maps[p].channels for p in reader.used]
    cfg['start_level'] = 0
    return _run_neck(cfg, reader.used, maps, scope, size, train=True) \
        is not None


def passed_through(node: dict, reader: Reader, maps: List[FeatureMap],
                   scope: str, size: int = 256) -> Dict[int, int]:
    """Outputs of a neck that are its inputs themselves (not computed from
    them), found by running it on blank maps of the original widths and
    strides: ``{output position: backbone output position}``; empty when
    it cannot be run."""
    ran = _run_neck(plain(node), reader.positions, maps, scope, size,
                    train=False)
    if ran is None:
        return {}
    feats, outs = ran
    outs = [outs] if isinstance(outs, torch.Tensor) else list(outs)
    return {q: reader.positions[j] for q, out in enumerate(outs)
            for j, feat in enumerate(feats) if out is feat}


# --------------------------------------------------------------- the swap
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
    new_model = copy.deepcopy(model)
    owner_path = find_backbone(model)
    owner = get_path(dict(model=model), owner_path)
    backbone_path = owner_path + ('backbone', )
    inner = nested_backbone(owner['backbone'], backbone_path)
    if inner:
        raise SwapError(f'{dotted(inner)}: {owner["backbone"]["type"]} wraps a '
                        'backbone of its own; the architecture lives inside the '
                        'backbone and cannot be rewritten')
    maps = probe_backbone(owner['backbone'], scope, backbone_path)
    widths = [m.channels for m in maps]

    readers: List[Reader] = []
    levels = list(reading_levels(owner, owner_path))
    level_index = 0
    for level_index, level in enumerate(levels):
        for path, node in level:
            inside = nested_backbone(node, path)
            if inside:
                raise SwapError(f'{dotted(inside)}: {dotted(path)} runs a '
                                'backbone of its own on the backbone\'s outputs; '
                                'cannot be rewritten')
            readers += readers_of(node, path, widths, scope)
        if readers:
            break
        for path, node in level:
            stray = stray_width(node, path, widths)
            if stray:
                raise SwapError(stray)
    if not readers:
        raise SwapError(f'nothing in {dotted(owner_path)} states the widths '
                        f'of the backbone\'s outputs {widths}')

    for reader in readers:
        if reader.skipped and not runs_without_skipped(
                get_path(dict(model=model), reader.path), reader, maps, scope):
            reader.skipped = 0  # it indexes its inputs by fixed positions
    read = sorted({p for r in readers for p in r.used})
    if len(maps) <= len(depths):  # a dilated ResNet's stages keep their order
        every = assign_stages(maps, len(depths))
        stage_of = {p: every[p] for p in read}
    else:
        stage_of = dict(zip(read, assign_stages([maps[p] for p in read],
                                                len(depths))))
    # the backbone returns its outputs in stage order
    order = sorted(read, key=lambda p: (stage_of[p], p))
    stages = [stage_of[p] for p in order]
    new_position = {p: i for i, p in enumerate(order)}
    new_width = {p: channels[stage_of[p]] for p in read}

    changes: List[Change] = []
    changed_roots: List[Path] = []

    def change(path: Path, value: Any) -> None:
        parent = get_path(dict(model=new_model), path[:-1])
        old = parent.get(path[-1])
        if old == value and path[-1] in parent:
            return
        parent[path[-1]] = value
        changes.append(Change(path, old, value))
        cut = next((i for i, part in enumerate(path) if isinstance(part, int)),
                   len(path))
        changed_roots.append(path[:cut])

    new_backbone = dict(_delete_=True, type='mmpretrain.ConvNeXtV2', arch=arch,
                        out_indices=tuple(stages), drop_path_rate=drop_path_rate,
                        gap_before_final_norm=False)
    if checkpoint:
        new_backbone['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint)
    change(backbone_path, new_backbone)

    passed: List[Tuple[list, list]] = []
    n = len(read)
    for reader in readers:
        node = get_path(dict(model=model), reader.path)
        old = node[reader.key]
        widths_read = [new_width[p] for p in reader.used]
        if reader.skipped:
            change(reader.path + ('start_level', ), 0)
        if isinstance(old, (list, tuple)):
            value = type(old)(widths_read)
            out = node.get('out_channels')
            if isinstance(out, (list, tuple)) and list(out[:len(old)]) == list(old):
                # a neck that passes its inputs on (SSD's): follow them
                new_out = type(out)(widths_read + list(out[len(old):]))
                change(reader.path + ('out_channels', ), new_out)
                passed.append((list(out), list(new_out)))
        elif len(set(widths_read)) == 1:
            value = widths_read[0]
            if node.get('channels') == old:  # a head that keeps its input
                change(reader.path + ('channels', ), value)  # width (FCN, 0 convs)
        else:
            raise SwapError(
                f'{dotted(reader.path + (reader.key, ))}={old} is one width for '
                f'backbone outputs {reader.positions}, which ConvNeXt V2 gives '
                f'different widths {widths_read}')
        change(reader.path + (reader.key, ), value)
        if reader.index_key:
            index = reader.index
            items = list(index) if isinstance(index, (list, tuple)) else [index]
            new_items = [new_position[i % len(maps)] - (n if i < 0 else 0)
                         for i in items]
            new_index = type(index)(new_items) if isinstance(
                index, (list, tuple)) else new_items[0]
            if reader.explicit_index and new_index != index or \
                    [i % n for i in items] != [j % n for j in new_items]:
                change(reader.path + (reader.index_key, ), new_index)
    for old, new in passed:
        for path, node in (pn for lv in levels[level_index + 1:] for pn in lv):
            for sub in config_dicts(node):
                for key, value in list(sub.items()):
                    if WIDTH_KEY.match(key) and isinstance(value, (list, tuple)) \
                            and list(value) == old:
                        change(_locate(node, sub, path) + (key, ), type(value)(new))

    # a neck that hands some backbone maps on unchanged (JPU's, for an
    # auxiliary head): the heads that read those maps follow their widths
    if len(readers) == 1 and readers[0].path[-1:] == ('neck', ) \
            and not readers[0].index_key:
        through = passed_through(get_path(dict(model=model), readers[0].path),
                                 readers[0], maps, scope)
        for path, node in (pn for lv in levels[level_index + 1:] for pn in lv):
            for sub in config_dicts(node):
                key, index = 'in_channels', sub.get('in_index')
                if not isinstance(index, int) or index not in through \
                        or not isinstance(sub.get(key), int):
                    continue
                source = through[index]
                if sub[key] == maps[source].channels and source in new_width:
                    where = _locate(node, sub, path)
                    if sub.get('channels') == sub[key]:
                        change(where + ('channels', ), new_width[source])
                    change(where + (key, ), new_width[source])

    notes = []
    if model.get('pretrained'):
        change(('model', 'pretrained'), None)
    for path in (('model', ), owner_path):
        preprocessor = get_path(dict(model=new_model), path).get('data_preprocessor')
        for sub in config_dicts(preprocessor or {}):
            if sub.get('mean') is not None and sub.get('std') is not None:
                where = _locate(get_path(dict(model=new_model), path), sub, path)
                for key, value in IMAGENET_NORM.items():
                    if [float(v) for v in sub[key]] != value:
                        change(where + (key, ), value)
                for key in ('bgr_to_rgb', 'to_rgb'):  # mmdet/mmseg, mmpretrain
                    accepted = class_default(sub.get('type'), key, scope)
                    if key in sub or accepted is not inspect.Parameter.empty:
                        change(where + (key, ), True)
                        break
                if sub.get('rgb_to_bgr'):
                    change(where + ('rgb_to_bgr', ), False)

    overrides: Dict[str, Any] = dict(
        custom_imports=dict(imports=['mmconvnextv2'], allow_failed_imports=False))
    model_overrides: Dict[str, Any] = {}
    for root in dict.fromkeys(changed_roots):  # ordered, unique
        _set_override(model_overrides, root[1:], copy.deepcopy(
            get_path(dict(model=new_model), root)))
    overrides['model'] = model_overrides

    decay = layer_decay_settings(scope, depths, lr_decay)
    wrapper = cfg.get('optim_wrapper')
    if decay is None:
        notes.append(f'optimizer left as it is: no layer-decay constructor for '
                     f'{scope} with {len(depths)} stages')
    elif owner_path != ('model', ):
        notes.append('optimizer left as it is: the layer-decay constructor '
                     f'reads model.backbone, the backbone is {dotted(backbone_path)}')
    elif not isinstance(wrapper, dict) or 'optimizer' not in wrapper:
        notes.append('no optim_wrapper.optimizer to replace (not a training '
                     'config)')
    else:
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
    if not checkpoint:
        notes.append('no checkpoint given: the backbone starts from random '
                     'weights (--checkpoint PATH_OR_URL)')
    unread = [i for i in range(len(maps)) if i not in read]
    if unread:
        notes.append(f'backbone outputs {unread} of the original are read by '
                     'nothing and are dropped')
    return SwapResult(base, scope, arch, overrides, changes, notes, tuple(stages))


def _set_override(tree: dict, path: Path, value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


# --------------------------------------------------------------- writing
def format_value(value: Any, indent: int = 0, column: int = 0,
                 width: int = 79) -> str:
    """``value`` as config Python (``dict(k=v)``, lists, tuples) starting at
    ``column`` of a line indented by ``indent``: on that line when it fits in
    ``width`` columns, else one item per line, indented 4 more."""
    if isinstance(value, dict):
        named = all(isinstance(k, str) and k.isidentifier() for k in value)
        heads = [f'{k}=' if named else f'{k!r}: ' for k in value]
        values = list(value.values())
        opening, closing = ('dict(', ')') if named else ('{', '}')
    elif isinstance(value, (list, tuple)):
        heads, values = [''] * len(value), list(value)
        opening, closing = ('[', ']') if isinstance(value, list) else ('(', ')')
    else:
        return repr(value)
    trail = ',' if isinstance(value, tuple) and len(value) == 1 else ''
    flat = [h + format_value(v, indent + 4, width=10**6)
            for h, v in zip(heads, values)]
    one_line = opening + ', '.join(flat) + trail + closing
    if column + len(one_line) <= width:
        return one_line
    pad = ' ' * (indent + 4)
    items = [pad + h + format_value(v, indent + 4, indent + 4 + len(h), width)
             for h, v in zip(heads, values)]
    return opening + '\n' + ',\n'.join(items) + trail + closing


def render(result: SwapResult) -> str:
    """The written config: a header, ``_base_`` and the changed values."""
    arch = result.arch if isinstance(result.arch, str) else 'custom'
    lines = [
        f'# ConvNeXt V2-{arch} swapped into {result.base}',
        '# (tools/misc/swap_backbone.py); everything else is inherited.',
        '# Changed: ' + ', '.join(dict.fromkeys(c.name for c in result.changes)),
    ]
    lines = _wrap_comment(lines)
    lines += [f'_base_ = [{result.base!r}]', '']
    for key, value in result.overrides.items():
        lines += [f'{key} = {format_value(value, 0, len(key) + 3)}', '']
    for note in result.notes:
        lines += _wrap_comment([f'# Note: {note}'])
    return '\n'.join(lines) + '\n'


def _wrap_comment(lines: List[str], width: int = 79) -> List[str]:
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(' ', 0, width)
            if cut <= 4:
                break
            out.append(line[:cut])
            line = '#   ' + line[cut + 1:]
        out.append(line)
    return out


# --------------------------------------------------------------- checking
def model_num_classes(model: dict) -> int:
    """The fewest classes any head of ``model`` states (labels stay below)."""
    counts = [d[k] for d in config_dicts(model) for k in
              ('num_classes', 'num_things_classes', 'num_stuff_classes')
              if isinstance(d.get(k), int) and d[k] > 0]
    return min(counts) if counts else 2


def check_config(path: str, size: Tuple[int, int] = (128, 128),
                 batch: int = 2) -> Dict[str, Any]:
    """Build the model of a (swapped) config on CPU and run one loss step on
    generated inputs of its task.

    SyncBN becomes BN; ``Pretrained`` weights are loaded only from a local
    file (URLs are not fetched); the data preprocessor pads to ``size`` and
    its batch augments are off (speed only). A model whose backbone sits in
    a wrapper that does not train on plain inputs (a tracker, a
    semi-supervised teacher-student) is checked through that inner model.

    Returns:
        ``params`` (whole model), ``losses`` (name -> value), ``trained``
        (the module that ran the step), ``init`` (what was loaded) and
        ``model`` (after the step, gradients kept).
    """
    from mmengine.model import revert_sync_batchnorm

    from .utils import (build_model, det_inputs, loss_step, quiet_init,
                        reid_inputs, seg_inputs)
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    owner_path = find_backbone(plain(model_cfg))
    backbone = get_path(dict(model=model_cfg), owner_path + ('backbone', ))
    init = backbone.get('init_cfg') or {}
    local = init.get('type') == 'Pretrained' and osp.exists(
        str(init.get('checkpoint')))
    kept = backbone.pop('init_cfg', None) if local else None
    drop_pretrained(model_cfg)
    if model_cfg.get('pretrained'):  # mmseg's shortcut to backbone weights
        model_cfg.pretrained = None
    if kept is not None:
        backbone['init_cfg'] = kept
    revert_sync_bn(model_cfg)
    for sub in config_dicts(model_cfg):
        if 'batch_augments' in sub:
            sub['batch_augments'] = None
        if sub.get('type', '').endswith(('DataPreProcessor', 'DataPreprocessor')) \
                and 'size' in sub:
            sub['size'] = tuple(size)
    model = build_model(cfg, init=False)
    quiet_init(model)
    model = revert_sync_batchnorm(model)
    params = sum(p.numel() for p in model.parameters())
    scope = cfg.default_scope
    classes = model_num_classes(plain(model_cfg))
    shapes = [tuple(size)] * batch
    preprocessor = str((model_cfg.get('data_preprocessor') or {}).get('type'))
    if scope == 'mmseg':
        data = seg_inputs(shapes, classes, ignored_band=False)
    elif 'ReID' in preprocessor:  # person crops, 2 per identity
        data = reid_inputs([(2 * size[0], size[1])] * 2 * batch, classes)
    else:
        data = det_inputs(shapes, classes, video='Track' in preprocessor)
    if hasattr(model, 'set_epoch'):  # as mmdet's SetEpochInfoHook
        model.set_epoch(0)
    # what a runner's loops publish: heads that switch on the epoch or the
    # iteration (TOOD) read them from the message hub
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    for key in ('epoch', 'iter'):
        if hub.get_info(key) is None:
            hub.update_info(key, 0)
    trained = 'model'
    try:
        losses = loss_step(model, data)
    except Exception:
        if owner_path == ('model', ):
            raise
        # the first inner model that owns the backbone and trains on its own
        # (a wrapper may rename it: a semi-supervised one builds `student`)
        name, inner = next((n, m) for n, m in model.named_modules()
                           if n and hasattr(m, 'loss') and isinstance(
                               getattr(m, 'backbone', None), torch.nn.Module))
        model.zero_grad()
        losses = loss_step(inner, det_inputs(shapes, classes)
                           if scope != 'mmseg' else data)
        trained = f'model.{name}'
    losses = {k: [t.detach() for t in v] if isinstance(v, (list, tuple))
              else v.detach() for k, v in losses.items()}
    return dict(params=params, trained=trained, model=model,
                init=(f'loaded {init.get("checkpoint")}' if local else
                      'random (URL not fetched)' if init else 'random'),
                losses={k: float(sum(v) if isinstance(v, (list, tuple)) else v)
                        for k, v in losses.items() if 'loss' in k})
