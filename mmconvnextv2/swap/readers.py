"""The modules that read the backbone's outputs (the first neck, or the
heads) and which outputs each of their width fields reads."""
import copy
import inspect
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch

from ..utils import config_dicts, revert_sync_bn
from .probe import FeatureMap, nested_backbone
from .tree import (NOT_MODULES, OTHER_WIDTH_KEY, WIDTH_KEY, Path, SwapError,
                   dotted, locate, plain)

__all__ = ['Reader', 'class_default', 'readers_of', 'stray_width',
           'reading_levels', 'find_readers', 'runs_without_skipped',
           'passed_through']

#: a level of the walk: the (path, config) of each module in it
Level = List[Tuple[Path, dict]]


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
    """An index field's positions, each in ``range(k)``."""
    items = list(index) if isinstance(index, (list, tuple)) else [index]
    for i in items:
        if not isinstance(i, int) or not -k <= i < k:
            raise SwapError(f'{where}={index} is out of range for the '
                            f'{k} backbone outputs')
    return [i % k for i in items]


def _field_reader(node: dict, path: Path, key: str, widths: List[int],
                  scope: str) -> Reader:
    """The reader of width field ``key`` of ``node``: its positions from the
    index field beside it (or its class's default), else from its value."""
    value = node[key]
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
        return reader
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
    return Reader(path, key, positions, index_key, index, explicit)


def _children(node: dict, path: Path) -> Level:
    """The module configs inside ``node`` (dicts and lists of dicts)."""
    children = [(path + (k, ), v) for k, v in node.items()
                if isinstance(v, dict) and 'type' in v and k not in NOT_MODULES]
    children += [(path + (k, i), item) for k, v in node.items()
                 if isinstance(v, (list, tuple)) and k not in NOT_MODULES
                 for i, item in enumerate(v)
                 if isinstance(item, dict) and 'type' in item]
    return children


def readers_of(node: dict, path: Path, widths: List[int],
               scope: str) -> List[Reader]:
    """The width fields of ``node`` that read backbone outputs; a node
    without any is searched as a container (index-stated readers first)."""
    readers = [_field_reader(node, path, key, widths, scope)
               for key, value in node.items()
               if WIDTH_KEY.match(key) and isinstance(value, (int, list, tuple))]
    if readers:
        return readers
    found = {child_path: readers_of(child, child_path, widths, scope)
             for child_path, child in _children(node, path)}
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
                where = locate(node, sub, path) + (key, )
                return (f'{dotted(where)}={value} is the width of a backbone '
                        'output but not an input width this tool can '
                        'rewrite')
    return None


def reading_levels(owner: dict, owner_path: Path) -> Iterator[Level]:
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


def find_readers(owner: dict, owner_path: Path, widths: List[int],
                 scope: str) -> Tuple[List[Reader], List[Level]]:
    """The readers of the backbone's outputs (those of the first level that
    states any), and the levels after theirs (where widths they pass on
    go). A level without readers may not hold a backbone width elsewhere."""
    levels = list(reading_levels(owner, owner_path))
    for level_index, level in enumerate(levels):
        readers: List[Reader] = []
        for path, node in level:
            inside = nested_backbone(node, path)
            if inside:
                raise SwapError(f'{dotted(inside)}: {dotted(path)} runs a '
                                'backbone of its own on the backbone\'s outputs; '
                                'cannot be rewritten')
            readers += readers_of(node, path, widths, scope)
        if readers:
            return readers, levels[level_index + 1:]
        for path, node in level:
            stray = stray_width(node, path, widths)
            if stray:
                raise SwapError(stray)
    raise SwapError(f'nothing in {dotted(owner_path)} states the widths '
                    f'of the backbone\'s outputs {widths}')


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
