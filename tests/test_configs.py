"""Every shipped config parses, its model builds from its scope's registry
(Pretrained init_cfgs removed: tests never download), and its datasets and
optimizer constructor resolve. New configs are covered automatically."""
import glob
import importlib
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep))


def drop_pretrained(node) -> int:
    """Set every ``Pretrained`` init_cfg to None; return how many there were."""
    count = 0
    if isinstance(node, dict):
        if isinstance(node.get('init_cfg'), dict) and \
                node['init_cfg'].get('type') == 'Pretrained':
            node['init_cfg'] = None
            count += 1
        for value in node.values():
            count += drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += drop_pretrained(value)
    return count


def test_configs_found():
    folders = {c.split(osp.sep)[1] for c in CONFIGS}
    assert folders == {'convnext_v2', 'fcmae', 'mask_rcnn', 'upernet'}
    assert len(CONFIGS) >= 8 + 16 + 7 + 6


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.custom_imports['imports'] == ['mmconvnextv2']
    scope = cfg.default_scope
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry')
    pretrained = drop_pretrained(cfg.model)
    if 'fcmae-pre' in config:  # downstream configs start from FCMAE weights
        assert pretrained == 1
    with torch.device('meta'):  # structure and arguments only; huge is 660M
        model = registry.MODELS.build(cfg.model)
    assert type(model.backbone).__name__ in ('ConvNeXtV2', )
    arch = model.backbone.arch_name
    assert f'-{arch}' in osp.basename(config)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            assert registry.DATASETS.get(loader.dataset.type) is not None, loader.dataset.type
    constructor = cfg.optim_wrapper.get('constructor')
    if constructor:
        assert registry.OPTIM_WRAPPER_CONSTRUCTORS.get(constructor) is not None
