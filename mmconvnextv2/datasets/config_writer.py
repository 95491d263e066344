"""Write a training config, and its FCMAE pre-training config, for a folder of
your own data (``tools/misc/dataset_config.py``).

The folder is the importer's output (``tools/dataset_converters/``): COCO
files for ``det``, the mmseg folder layout for ``seg``, one folder per class
for ``cls``, and ``dataset.json`` (read by :mod:`.dataset_info`). The written
config inherits the CPU-sized synthetic config of its task (``mmconvnextv2::``
bases) and states only what the data decides: classes and ``num_classes``,
data roots and annotation files, the image scale, the schedule and the
normalisation. The FCMAE config beside it pre-trains the same arch at the
same scale on the training images only (a list file; no val image).

Every config line is written by the small functions of :mod:`.config_text`
from values; nothing is copied from a template.
"""
import os.path as osp
from typing import (Any, Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple)

from ..utils.fileio import write_atomically
from .config_text import Code, assign, comment
from .dataset_info import (DatasetInfo, Plan, Schedule, make_plan,
                           read_dataset_info)
from .written_channels import (PARENTS, backbone, norm_note, normalisation,
                               pipelines)

__all__ = ['PARENTS', 'WrittenConfigs',
           'render_config', 'render_fcmae_config', 'write_configs',
           'companion', 'preflight']

_MODELS = {'det': 'Mask R-CNN', 'seg': 'UperNet', 'cls': 'a linear classifier'}


# --------------------------------------------------------------------------
# The parts every written config has
# --------------------------------------------------------------------------
def _palette(count: int) -> List[Tuple[int, int, int]]:
    """``count`` distinct, bright colours (hues a golden angle apart)."""
    import colorsys
    colours = []
    for i in range(count):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75, 0.9)
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return colours


def _data_statements(info: DatasetInfo) -> List[str]:
    source = f'{info.source} import, ' if info.source else ''
    return ['\n'.join([
        assign('data_root', osp.join(info.root, ''),
               f'the data folder ({source}{info.splits["train"]} training, '
               f'{info.splits["val"]} validation images)'),
        assign('metainfo', dict(classes=tuple(info.classes),
                                palette=_palette(len(info.classes)))),
        assign('num_classes', len(info.classes))])]


def _schedule(schedule: Schedule, main: dict, train_cfg: dict,
              keep: int = 0) -> List[str]:
    """max_iters, interval, warm-up, ``train_cfg``, the schedulers (a linear
    warm-up, then ``main`` from its end), the checkpoint and log intervals
    (``keep``: at most that many checkpoints)."""
    warmup = [dict(type='LinearLR', start_factor=0.001, by_epoch=False,
                   begin=0, end=Code('warmup_iters'))]
    main = dict(main, by_epoch=False, begin=Code('warmup_iters'),
                end=Code('max_iters'))
    checkpoint = dict(by_epoch=False, interval=Code('interval'))
    if keep:
        checkpoint['max_keep_ckpts'] = keep
    hooks = dict(logger=dict(interval=min(10, schedule.interval)),
                 checkpoint=checkpoint)
    return [
        assign('max_iters', schedule.iters, schedule.note),
        assign('interval', schedule.interval,
               ('validation and a checkpoint' if schedule.validated
                else 'a checkpoint') + ' every ~max_iters / 4'),
        assign('warmup_iters', schedule.warmup,
               'linear warm-up over ~max_iters / 10 (at most 500)'),
        assign('train_cfg', train_cfg),
        assign('param_scheduler', warmup + [main]),
        assign('default_hooks', hooks),
    ]


_LOOP = dict(max_iters=Code('max_iters'), val_interval=Code('interval'))


def _loader(batch: Optional[int], dataset: dict, **extra: Any) -> dict:
    loader = {} if batch is None else dict(batch_size=batch)
    loader.update(extra)
    loader['dataset'] = dataset
    return loader


def _dataloaders(dataset: Callable[[str, str], dict], batch: int,
                 val_batch: Optional[int] = None, **extra: Any) -> List[str]:
    """The train, val and test dataloaders; ``dataset(split, pipeline)``
    gives a split's dataset, ``extra`` more keys of each loader."""
    return [
        assign('train_dataloader', _loader(
            batch, dataset('train', 'train_pipeline'), **extra)),
        assign('val_dataloader', _loader(
            val_batch, dataset('val', 'test_pipeline'), **extra)),
        assign('test_dataloader', Code('val_dataloader'),
               'no test split: tests run on val')]


def _header(lines: Sequence[str]) -> str:
    return '\n'.join(comment('\n'.join(lines)))


def _arch_model(info: DatasetInfo, plan: Plan) -> dict:
    return backbone(info, arch=plan.arch, init_cfg=None)


def _layer_decay(plan: Plan, **paramwise: Any) -> List[str]:
    """The optimiser's layer count (and ``paramwise``) where the arch has
    more layer ids than the parent's atto."""
    if plan.layer_ids == 6:
        return []
    return [assign('optim_wrapper', dict(paramwise_cfg=dict(
        paramwise, num_layers=plan.layer_ids)), f'ConvNeXt V2-{plan.arch} '
        'has 27 blocks in stage 3: 12 layer ids for the lr decay (as its '
        'COCO / ADE20K config)')]


# --------------------------------------------------------------------------
# One function per task
# --------------------------------------------------------------------------
def _det_body(info: DatasetInfo, plan: Plan, _: Dict[str, str]
              ) -> List[str]:
    masks = plan.masks
    width = plan.channels
    roi_head = dict(bbox_head=dict(num_classes=Code('num_classes')))
    if masks:
        roi_head['mask_head'] = dict(num_classes=Code('num_classes'))
    else:  # boxes only: Mask R-CNN without its mask branch
        roi_head.update(mask_roi_extractor=None, mask_head=None)
    model = dict(data_preprocessor=normalisation(info, 'det'),
                 backbone=_arch_model(info, plan),
                 neck=dict(in_channels=width), roi_head=roi_head)
    scale = (Code('image_size'), Code('image_size'))
    load = dict(type='LoadAnnotations', with_bbox=True, with_mask=masks)
    train_pipeline = [
        dict(type='LoadImageFromFile'), load,
        dict(type='RandomResize', scale=scale, ratio_range=(0.8, 1.25),
             keep_ratio=True),
        dict(type='RandomFlip', prob=0.5), dict(type='PackDetInputs')]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=True), load,
        dict(type='PackDetInputs', meta_keys=(
            'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]

    def dataset(split: str, pipeline: str) -> dict:
        return dict(data_root=Code('data_root'), metainfo=Code('metainfo'),
                    ann_file=info.paths[split]['ann_file'],
                    data_prefix=dict(img=info.paths[split]['img']),
                    pipeline=Code(pipeline))

    val_ann = Code(f"data_root + {info.paths['val']['ann_file']!r}")
    metrics = ['bbox', 'segm'] if masks else ['bbox']
    statements = [
        assign('image_size', plan.image_size, plan.scale_note),
        assign('model', model, norm_note(info) + (
            '' if masks else '; the annotations have no polygons or masks, so '
            'the mask branch is removed (boxes only)')),
    ] + pipelines(info, train_pipeline, test_pipeline,
                  'scale jitter 0.8-1.25 around image_size, aspect ratio '
                  'kept')
    statements += _dataloaders(dataset, plan.batch_size)
    statements += [
        assign('val_evaluator', dict(ann_file=val_ann, metric=metrics)),
        assign('test_evaluator', Code('val_evaluator'))]
    statements += _layer_decay(plan, decay_rate=0.95)
    schedule = plan.schedule  # the step at 3/4, counted from the warm-up's end
    step = max(1, schedule.iters * 3 // 4 - schedule.warmup)
    statements += _schedule(schedule, dict(type='MultiStepLR',
                                           milestones=[step], gamma=0.1),
                            _LOOP)
    return statements


def _seg_body(info: DatasetInfo, plan: Plan, _: Dict[str, str]
              ) -> List[str]:
    stride = max(1, plan.crop * 2 // 3)
    heads = dict(num_classes=Code('num_classes'))
    model = dict(
        data_preprocessor=dict(normalisation(info, 'seg'),
                               size=Code('crop_size')),
        backbone=_arch_model(info, plan),
        decode_head=dict(heads, in_channels=plan.channels),
        auxiliary_head=dict(heads, in_channels=plan.channels[2]),
        test_cfg=dict(mode='slide', crop_size=Code('crop_size'),
                      stride=(stride, stride)))
    scale = (Code('image_size'), Code('image_size'))
    load = dict(type='LoadAnnotations', reduce_zero_label=False)
    train_pipeline = [
        dict(type='LoadImageFromFile'), load,
        dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=Code('crop_size'),
             cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'), dict(type='PackSegInputs')]
    test_pipeline = [dict(type='LoadImageFromFile'),
                     dict(type='Resize', scale=scale, keep_ratio=True), load,
                     dict(type='PackSegInputs')]

    def dataset(split: str, pipeline: str) -> dict:
        return dict(type='BaseSegDataset', data_root=Code('data_root'),
                    metainfo=Code('metainfo'), data_prefix=dict(
                        img_path=info.paths[split]['img'],
                        seg_map_path=info.paths[split]['seg_map']),
                    img_suffix=plan.suffixes[split], seg_map_suffix='.png',
                    reduce_zero_label=False, pipeline=Code(pipeline))

    statements = [
        assign('image_size', plan.image_size, plan.scale_note),
        assign('crop_size', (plan.crop, plan.crop), plan.crop_note),
        assign('model', model, norm_note(info) + '; label maps hold 0..K-1, '
               '255 is ignored'),
    ] + pipelines(info, train_pipeline, test_pipeline)
    statements += _dataloaders(dataset, plan.batch_size)
    statements += _layer_decay(plan)
    statements += _schedule(plan.schedule, dict(type='PolyLR', power=1.0,
                                                eta_min=0.0), _LOOP)
    return statements


def _cls_body(info: DatasetInfo, plan: Plan, labels: Dict[str, str]
              ) -> List[str]:
    """``labels``: the label list of each split."""
    model = dict(backbone=_arch_model(info, plan), head=dict(
        num_classes=Code('num_classes'), in_channels=plan.channels[-1]))
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=Code('image_size'),
             backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs')]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=Code('image_size * 256 // 224'),
             edge='short', backend='pillow', interpolation='bicubic'),
        dict(type='CenterCrop', crop_size=Code('image_size')),
        dict(type='PackInputs')]

    def dataset(split: str, pipeline: str) -> dict:
        return dict(_delete_=True, type='CustomDataset',
                    data_root=Code('data_root'),
                    data_prefix=info.paths[split]['img'],
                    ann_file=labels[split], metainfo=Code('metainfo'),
                    pipeline=Code(pipeline))

    topk = (1, 5) if len(info.classes) >= 5 else (1,)
    statements = [
        assign('image_size', plan.image_size, plan.scale_note),
        assign('data_preprocessor', dict(
            num_classes=Code('num_classes'), **normalisation(info, 'cls')),
            norm_note(info)),
        assign('model', model, 'random initialisation (the parent reads '
               'the official FCMAE weights)'),
    ] + pipelines(info, train_pipeline, test_pipeline,
                  'no RandAugment / RandomErasing: a small data set')
    statements += _dataloaders(dataset, plan.batch_size, plan.batch_size,
                               num_workers=2)
    statements += [
        assign('val_evaluator', dict(type='Accuracy', topk=topk)),
        assign('test_evaluator', Code('val_evaluator')),
        assign('custom_hooks', [], 'no EMA: its 1e-4 momentum needs far more '
               'steps than a small data set gives'),
        assign('log_processor', dict(by_epoch=False)),
    ]
    loop = dict(_delete_=True, type='IterBasedTrainLoop', **_LOOP)
    statements += _schedule(plan.schedule, dict(type='CosineAnnealingLR',
                                                eta_min=1e-6), loop, keep=2)
    return statements


_BODIES = {'det': _det_body, 'seg': _seg_body, 'cls': _cls_body}


def render_config(info: DatasetInfo, plan: Plan, config: str, fcmae: str,
                  labels: Dict[str, str]) -> str:
    """The text of the training config of ``info`` planned by ``plan``
    (``config`` and ``fcmae``: the paths its header's commands name;
    ``labels``: cls, the label list of each split)."""
    checkpoint = (f'work_dirs/{osp.splitext(osp.basename(fcmae))[0]}/'
                  f'iter_{plan.pretrain.iters}.pth')
    head = _header([
        f'{_MODELS[info.task]} with ConvNeXt V2-{plan.arch} for the data in '
        f'{info.root}, written by tools/misc/dataset_config.py from its '
        'dataset.json (edit freely). The model\'s heads, the optimiser and '
        'its learning rate are the parent\'s (tuned on the synthetic task). '
        'Train from random weights, or pre-train with FCMAE first and start '
        'from its weights:',
        f'  python tools/train.py {config}',
        f'  python tools/train.py {fcmae}',
        f'  python tools/train.py {config} --cfg-options \\',
        '      model.backbone.init_cfg.type=Pretrained \\',
        f'      model.backbone.init_cfg.checkpoint={checkpoint} \\',
        '      model.backbone.init_cfg.prefix=backbone.'])
    parts = [head, assign('_base_', [PARENTS[info.task]])]
    parts += _data_statements(info) + _BODIES[info.task](info, plan, labels)
    return '\n\n'.join(parts) + '\n'


def render_fcmae_config(info: DatasetInfo, plan: Plan, config: str,
                        image_list: str) -> str:
    """The text of the FCMAE config: same arch and scale as ``config``, the
    training images of ``image_list`` only."""
    head = _header([
        f'FCMAE pre-training of ConvNeXt V2-{plan.arch} on the '
        f'{len(plan.images)} training images of {info.root} (listed in '
        f'{osp.basename(image_list)}; no validation image, no label), at the '
        f'scale of {osp.basename(config)}, written with it by '
        'tools/misc/dataset_config.py. The decoder\'s width follows the '
        'arch.'])
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=Code('crop_size'),
             crop_ratio_range=plan.pretrain_crop_range, backend='pillow',
             interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    dataset = dict(data_root=Code('data_root'),
                   data_prefix=info.paths['train']['img'],
                   ann_file=image_list, pipeline=Code('train_pipeline'))
    parts = [
        head, assign('_base_', [PARENTS['fcmae']]),
        assign('data_root', osp.join(info.root, '')),
        assign('crop_size', plan.crop, plan.pretrain_note),
        assign('data_preprocessor', normalisation(info, 'fcmae'),
               norm_note(info)),
        assign('model', dict(backbone=backbone(info, arch=plan.arch))),
        pipelines(info, pipeline)[0],
        assign('train_dataloader', _loader(plan.pretrain_batch, dataset)),
    ]
    parts += _schedule(plan.pretrain, dict(type='CosineAnnealingLR',
                                           eta_min=1e-5),
                       dict(max_iters=Code('max_iters')), keep=2)
    return '\n\n'.join(parts) + '\n'


# --------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------
class WrittenConfigs(NamedTuple):
    """What :func:`write_configs` wrote."""
    config: str        #: the training config
    fcmae_config: str  #: its FCMAE pre-training config
    image_list: str    #: the training images FCMAE reads
    label_lists: Dict[str, str]  #: cls: the ``image label`` list per split


def companion(config: str, name: str) -> str:
    """The file ``<config stem>_<name>`` beside ``config``: ``fcmae.py``
    (the FCMAE config), ``fcmae_train.txt`` (its images), ``train.txt`` /
    ``val.txt`` (a classifier's label lists)."""
    return f'{osp.splitext(config)[0]}_{name}'


def write_configs(root: str, out: str, task: Optional[str] = None,
                  arch: str = 'atto', image_size: Optional[int] = None,
                  iters: Optional[int] = None,
                  batch_size: Optional[int] = None,
                  pretrain_iters: Optional[int] = None) -> WrittenConfigs:
    """Write the training config ``out`` for the data folder ``root``, and
    beside it its FCMAE config and the lists they read (:func:`companion`).

    Raises:
        DatasetInfoError: ``dataset.json`` is missing, malformed or says
            another task; the data contradicts it.
    """
    info = read_dataset_info(root, task)
    plan = make_plan(info, arch, image_size, iters, batch_size,
                     pretrain_iters)
    target = osp.abspath(out)
    fcmae, image_list = (companion(target, 'fcmae.py'),
                         companion(target, 'fcmae_train.txt'))
    labels = {split: companion(target, f'{split}.txt')
              for split in plan.labels}
    lists = {image_list: plan.images}
    lists.update({labels[split]: plan.labels[split] for split in labels})
    for path, lines in lists.items():
        write_atomically(path, ''.join(f'{line}\n' for line in lines))
    write_atomically(target, render_config(  # the commands: paths as given
        info, plan, out, companion(out, 'fcmae.py'), labels))
    write_atomically(fcmae, render_fcmae_config(info, plan, target,
                                                image_list))
    return WrittenConfigs(target, fcmae, image_list, labels)


def preflight(config: str, thorough: bool = True) -> List[Any]:
    """The dataset pre-flight of a written config: the quick checks (they
    raise :class:`~mmconvnextv2.datasets.problems.DatasetConfigError`),
    then, if ``thorough``, every image and annotation
    (:func:`~mmconvnextv2.datasets.preflight.find_dataset_problems`);
    returns the problems found."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from .checks import check_dataset_config, find_dataset_problems
    cfg = Config.fromfile(config)
    scope = cfg.get('default_scope', 'mmpretrain')
    with DefaultScope.overwrite_default_scope(scope):
        check_dataset_config(cfg)
        return find_dataset_problems(cfg) if thorough else []

