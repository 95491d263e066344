"""Every shipped config parses, its model builds from its scope's registry
(Pretrained init_cfgs removed: tests never download), and every other
registered name it uses resolves in that scope: datasets (through wrappers),
pipeline transforms, metrics, hooks, schedulers, optimizer, wrapper and
constructor, loops, visualizer. Nothing is read from disk: ImageNet, COCO and
ADE20K are not here. Configs added later under configs/ are covered
automatically (every ``*.py`` outside ``_base_`` folders).

Models are built on the meta device: the structure and every constructor
argument are checked at every size (huge has 660M parameters) without
allocating or initialising weights; forward passes are tested elsewhere.
"""
import glob
import importlib
import os.path as osp
import re
from typing import Any, Iterator, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmconvnextv2.runtime import drop_pretrained

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep))


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def datasets(dataset: dict, where: str) -> Iterator[Tuple[dict, str]]:
    """A dataset dict and those it wraps (``dataset`` / ``datasets``)."""
    yield dataset, where
    for key in ('dataset', 'datasets'):
        for i, inner in enumerate(as_list(dataset.get(key))):
            if isinstance(inner, dict):
                yield from datasets(inner, f'{where}.{key}[{i}]')


def transforms(pipeline: Any, where: str) -> Iterator[Tuple[str, str]]:
    """Transform type names of a pipeline, nested ones (RandomChoice,
    TestTimeAug, ...) included."""
    for i, step in enumerate(as_list(pipeline)):
        if isinstance(step, (list, tuple)):
            yield from transforms(step, f'{where}[{i}]')
        elif isinstance(step, dict):
            if isinstance(step.get('type'), str):
                yield step['type'], f'{where}[{i}]'
            yield from transforms(step.get('transforms'), f'{where}[{i}]')


def registered_names(cfg: Config) -> Iterator[Tuple[str, str, str]]:
    """(registry name, type name, where in the config) for every registered
    name the runner would build, the model aside."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for dataset, where in datasets(loader['dataset'],
                                       f'{split}_dataloader.dataset'):
            yield 'DATASETS', dataset['type'], where
            yield from (('TRANSFORMS', name, place) for name, place in
                        transforms(dataset.get('pipeline'), f'{where}.pipeline'))
        for metric in as_list(cfg.get(f'{split}_evaluator')):
            yield 'METRICS', metric['type'], f'{split}_evaluator'
        loop = cfg.get(f'{split}_cfg') or {}
        if 'type' in loop:
            yield 'LOOPS', loop['type'], f'{split}_cfg'
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if hook:
            yield 'HOOKS', hook['type'], f'default_hooks.{name}'
    for hook in as_list(cfg.get('custom_hooks')):
        yield 'HOOKS', hook['type'], 'custom_hooks'
    for scheduler in as_list(cfg.get('param_scheduler')):
        yield 'PARAM_SCHEDULERS', scheduler['type'], 'param_scheduler'
    wrapper = cfg.get('optim_wrapper')
    if wrapper:
        yield 'OPTIM_WRAPPERS', wrapper.get('type', 'OptimWrapper'), \
            'optim_wrapper'
        yield 'OPTIMIZERS', wrapper['optimizer']['type'], 'optim_wrapper'
        if 'constructor' in wrapper:
            yield 'OPTIM_WRAPPER_CONSTRUCTORS', wrapper['constructor'], \
                'optim_wrapper.constructor'
    if cfg.get('visualizer'):
        yield 'VISUALIZERS', cfg.visualizer['type'], 'visualizer'


def test_configs_found():
    folders = {c.split(osp.sep)[1] for c in CONFIGS}
    assert folders >= {'convnext_v2', 'fcmae', 'mask_rcnn', 'upernet'}
    found = glob.glob(osp.join(ROOT, 'configs', 'convnext_v2', '*.py'))
    names = [osp.basename(f) for f in found]
    # one IN-1K fine-tuning from FCMAE per arch (atto ... huge); the IN-22K
    # route from nano up: stage 1 (in22k), stage 2 at 224 and 384 (huge: 512)
    assert sum('_fcmae-pre_' in n and n.endswith('_in1k.py') for n in names) == 8
    assert sum(n.endswith('_in22k.py') for n in names) == 5
    assert sum('fcmae-in22k-pre' in n for n in names) == 10


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.custom_imports['imports'] == ['mmconvnextv2']
    scope = cfg.default_scope
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry')
    pretrained = drop_pretrained(cfg.model)
    if 'fcmae-pre' in config:  # fine-tuning configs start from FCMAE weights
        assert pretrained == 1
    with torch.device('meta'):  # structure and arguments only; huge is 660M
        model = registry.MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'ConvNeXtV2'
    assert f'-{model.backbone.arch_name}' in osp.basename(config)

    unresolved = [f'{where}: {kind} {name!r}'
                  for kind, name, where in registered_names(cfg)
                  if getattr(registry, kind).get(name) is None]
    assert not unresolved, f'not registered in {scope}: {unresolved}'


@pytest.mark.parametrize('config', CONFIGS)
def test_name_states_the_config(config):
    """The per-GPU batch of ``NxbM`` and the crop of ``-Spx`` in a name are
    the config's (a later assignment of a dataloader once dropped one)."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    name = osp.basename(config)
    batch = re.search(r'_\d+xb(\d+)[-_]', name)
    if batch:
        assert cfg.train_dataloader.batch_size == int(batch.group(1))
    crop = re.search(r'-(\d+)px\.py$', name)
    if crop:
        (step, ) = [step for step in cfg.train_dataloader.dataset.pipeline
                    if step.type == 'RandomResizedCrop']
        assert step.scale == int(crop.group(1))
    assert batch or 'synthetic' in name, name


FCMAE_CONFIGS = [c for c in CONFIGS if osp.basename(c).startswith('fcmae_')]


@pytest.mark.parametrize('config', FCMAE_CONFIGS)
def test_fcmae_config_states_no_size_of_the_backbone(config):
    """What follows from the backbone (decoder input width, patch size,
    image channels) is not stated a second time: FCMAE derives it."""
    model = Config.fromfile(osp.join(ROOT, config)).model
    assert not {'in_channels', 'patch_size', 'out_channels'} & set(model.neck)
    assert not {'in_channels', 'patch_size'} & set(model.head)


METAFILES = sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))


@pytest.mark.parametrize('metafile', METAFILES,
                         ids=[osp.basename(osp.dirname(m)) for m in METAFILES])
def test_metafile_configs_exist(metafile):
    import yaml
    with open(metafile) as f:
        index = yaml.safe_load(f)
    for collection in index.get('Collections', []):
        readme = collection.get('README')
        # from the repository root (mmpretrain's convention) or the metafile
        assert readme is None or osp.isfile(osp.join(ROOT, readme)) or \
            osp.isfile(osp.join(osp.dirname(metafile), readme)), readme
    for model in index['Models']:
        assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]


def test_convnext_v2_metafile():
    """Every ImageNet config is listed once, with the paper's top-1 and
    parameter counts of the model the config builds."""
    import yaml
    with open(osp.join(ROOT, 'configs', 'convnext_v2', 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    paper = dict(atto=76.7, femto=78.5, pico=80.3, nano=81.9, tiny=83.0,
                 base=84.9, large=85.8, huge=86.3)
    configs = {c for c in CONFIGS if c.startswith(osp.join('configs',
                                                           'convnext_v2'))}
    assert sorted(m['Config'] for m in models) == sorted(configs)
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    in1k = [m for m in models if '_fcmae-pre_' in m['Config']
            and m['Config'].endswith('_in1k.py')]
    assert len(in1k) == 8  # the IN-22K route has a test of its own
    for model in in1k:
        arch = model['Name'].split('_')[0][len('convnext-v2-'):]
        (result, ) = model['Results']
        assert result['Metrics']['Top 1 Accuracy'] == paper[arch]
        assert result['Source'] == 'paper'
        assert f'convnextv2_{arch}_1k_224' in model['Weights']
        cfg = Config.fromfile(osp.join(ROOT, model['Config']))
        drop_pretrained(cfg.model)
        with torch.device('meta'):
            built = MODELS.build(cfg.model)
        assert model['Metadata']['Parameters'] == sum(
            p.numel() for p in built.parameters())


# The resolved fine-tuning recipe of every size (configs inherit each other):
# epochs, warm-up epochs, base lr, layer decay rate and type, weight decay,
# drop path, mixup/cutmix, label smoothing, head width. atto, tiny and base
# are TRAINING.md's; the others are our extrapolations (see their configs).
RECIPES = {
    'atto': (600, 0, 2e-4, 0.9, 'single', 0.3, 0.1, False, 0.2, 320),
    'femto': (600, 0, 2e-4, 0.9, 'single', 0.3, 0.1, False, 0.2, 384),
    'pico': (600, 0, 2e-4, 0.9, 'single', 0.3, 0.1, False, 0.2, 512),
    'nano': (600, 0, 8e-4, 0.9, 'single', 0.05, 0.1, True, 0.2, 640),
    'tiny': (300, 40, 8e-4, 0.9, 'single', 0.05, 0.2, True, 0.1, 768),
    'base': (100, 20, 6.25e-4, 0.6, 'group', 0.05, 0.1, True, 0.1, 1024),
    'large': (50, 10, 6.25e-4, 0.7, 'group', 0.05, 0.2, True, 0.1, 1536),
    'huge': (50, 10, 6.25e-4, 0.8, 'group', 0.05, 0.2, True, 0.1, 2816),
}


@pytest.mark.parametrize('arch', RECIPES)
def test_finetune_recipe(arch):
    (config, ) = glob.glob(osp.join(ROOT, 'configs', 'convnext_v2',
                                    f'convnext-v2-{arch}_fcmae-pre_*_in1k.py'))
    cfg = Config.fromfile(config)
    (epochs, warmup, blr, decay, decay_type, wd, drop_path, mixup, smoothing,
     width) = RECIPES[arch]
    assert f'-{epochs}e_' in osp.basename(config)
    assert cfg.train_cfg.max_epochs == epochs
    *warmups, cosine = cfg.param_scheduler
    assert cosine.type == 'CosineAnnealingLR'
    assert (cosine.begin, cosine.end) == (warmup, epochs)
    assert [(w.type, w.end) for w in warmups] == \
        ([('LinearLR', warmup)] if warmup else [])
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(blr * 1024 / 256)
    assert cfg.optim_wrapper.optimizer.weight_decay == wd
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == decay
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.layer_decay_type) == (arch, decay_type)
    assert backbone.drop_path_rate == drop_path
    assert backbone.init_cfg.checkpoint.endswith(
        f'convnextv2_{arch}_1k_224_fcmae.pt')
    augments = [a.type for a in cfg.model.train_cfg.augments or []]
    assert augments == (['Mixup', 'CutMix'] if mixup else [])
    assert cfg.model.head.loss.label_smooth_val == smoothing
    assert cfg.model.head.in_channels == width
