"""Swap ConvNeXt V2 into an mmdet or mmseg config: find what depends on the
backbone by following its outputs through the model config, and write a short
config that inherits the original and states only what changes.

How the walk goes, with no table of model families:

1. The backbone is the first ``backbone`` dict found in ``model`` (the model
   itself, or e.g. ``model.detector`` of a tracker or a semi-supervised
   wrapper). It is built once on CPU and run on a blank image: the widths and
   strides of its outputs are read, not looked up (:mod:`.probe`).
2. Its readers are the first neck (or, with no neck, the heads). A reader
   states which outputs it reads by ``in_index`` / ``c1_in_index`` (given, or
   the class's default, as mmseg's decode heads), else by its
   ``in_channels`` list (all outputs in order) or by the width values it
   holds. A dict that states no input width is a container (a RoI head, an
   iterative decode head): its children are searched; a neck that states no
   width at all (global pooling) passes the outputs on to what follows
   (:mod:`.readers`).
3. Each output goes to the ConvNeXt V2 stage of the same stride (4, 8, 16,
   32; the outputs of dilated or single-scale backbones take the next free
   stage, in order; outputs of one stride and one width, a ViT's levels,
   share one stage, which ``out_indices`` then names more than once), and
   only the outputs that are read are kept (also those an FPN skips with
   ``start_level``), so the readers' positions are renumbered where needed
   (:mod:`.plan`).
4. The readers' widths and indices are rewritten; list widths that a neck
   passes through unchanged (its ``out_channels`` starting with its inputs)
   are followed to the heads that read them (:mod:`.plan`).

What cannot be placed raises :class:`SwapError` with one line naming the
field: a backbone that wraps a backbone of its own, a width that belongs to
a backbone output but is not an input width, one width for outputs that
ConvNeXt V2 gives different widths.

The modules: :mod:`.tree` (config paths, :class:`SwapError`),
:mod:`.configs` (finding the original config), :mod:`.probe`,
:mod:`.readers`, :mod:`.plan` (:func:`swap_config`), :mod:`.render` (the
written config) and :mod:`.check` (the loss-step check). The family table of
``tools/analysis_tools/swap_backbone_table.py`` is a study:
:mod:`mmconvnextv2.analysis.swap_sweep`.
"""
from .check import check_config, model_num_classes
from .configs import installed_configs, resolve_config
from .plan import (IMAGENET_NORM, Change, Edits, Layout, SwapResult,
                   assign_stages, layer_decay_settings, layout_stages,
                   swap_config)
from .probe import (FeatureMap, find_backbone, nested_backbone, parse_arch,
                    probe_backbone)
from .readers import (Reader, class_default, find_readers, passed_through,
                      reading_levels, readers_of, runs_without_skipped,
                      stray_width)
from .render import format_value, render
from .tree import (NOT_MODULES, OTHER_WIDTH_KEY, WIDTH_KEY, Path, SwapError,
                   dotted, get_path, plain)

__all__ = [
    'SwapError', 'Path', 'WIDTH_KEY', 'OTHER_WIDTH_KEY', 'NOT_MODULES',
    'dotted', 'plain', 'get_path', 'installed_configs', 'resolve_config',
    'FeatureMap', 'parse_arch', 'find_backbone', 'nested_backbone',
    'probe_backbone', 'Reader', 'class_default', 'readers_of', 'stray_width',
    'reading_levels', 'find_readers', 'runs_without_skipped',
    'passed_through', 'IMAGENET_NORM', 'Change', 'SwapResult', 'Layout',
    'Edits', 'assign_stages', 'layout_stages', 'layer_decay_settings',
    'swap_config', 'format_value', 'render', 'model_num_classes',
    'check_config'
]
