"""Every route that loads weights into a model applies the stem rule of
mmconvnextv2.checkpoint.channels: the backbone's Pretrained init_cfg,
``load_from`` (a Runner of ours: StemChannelsHook), the predictors of
tools/infer.py and the export. A 3-channel checkpoint starts a 4-channel
detector, segmentor and classifier by the rule, value for value; a
2-channel one is refused on each route in one line naming both counts."""
import os.path as osp
import re
import uuid

import pytest
import torch
from helpers.channel_configs import STEM_KEY, channel_config, save_untrained
from mmengine.config import Config
from mmengine.runner import Runner

from mmconvnextv2.apis import build_predictor
from mmconvnextv2.apis.export import build_export_module
from mmconvnextv2.checkpoint import CheckpointMismatchError
from mmconvnextv2.checkpoint.channels import adapt_stem_weight
from mmconvnextv2.engine import make_reliable
from mmconvnextv2.runtime import trust_mmengine_checkpoints
from mmconvnextv2.utils.models import build_model

C = 4
REFUSED = (r'^checkpoint \S+ holds a stem of 2 input channels, but the '
           r'model takes 4: only 3-channel \(RGB\) weights are adapted to '
           r'another channel count$')


def by_init_cfg(cfg, path, rule):
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path,
                                       prefix='backbone.', stem_rule=rule)
    return build_model(cfg, init=True)


def by_load_from(cfg, path, rule):
    if rule is not None:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint='',
                                           stem_rule=rule)
    model = build_model(cfg, init=False)
    run = Config(dict(work_dir=osp.join(osp.dirname(path), 'work'),
                      load_from=path))
    make_reliable(run)  # the hooks every Runner of ours gets
    trust_mmengine_checkpoints()
    runner = Runner(model=model, work_dir=run.work_dir, load_from=path,
                    custom_hooks=run.custom_hooks,
                    experiment_name=f'stem-{uuid.uuid4().hex[:8]}')
    runner.load_or_resume()
    return runner.model


def by_predictor(cfg, path, rule):
    if rule is not None:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint='',
                                           stem_rule=rule)
    return build_predictor(cfg, path).inferencer.model


def by_export(cfg, path, rule):
    if rule is not None:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint='',
                                           stem_rule=rule)
    module = build_export_module(cfg, path, 'model')[0]
    return next(m for m in module.modules() if hasattr(m, 'backbone'))


ROUTES = dict(init_cfg=by_init_cfg, load_from=by_load_from,
              predictor=by_predictor, export=by_export)


# the export of a detector loads as its predictor does: not again
CASES = [(route, task) for route in ROUTES for task in ('det', 'seg', 'cls')
         if (route, task) != ('export', 'det')]


@pytest.mark.parametrize('route, task', CASES)
def test_route_adapts_rgb_stem_and_refuses_another_count(tmp_path, route,
                                                         task):
    load = ROUTES[route]
    rgb = save_untrained(channel_config(task, C), str(tmp_path / 'rgb.pth'),
                         stem_channels=3, seed=1)
    rule = 'timm' if task == 'seg' else None  # the backbone's rule is used
    model = load(channel_config(task, C), rgb, rule)
    stem = model.state_dict()['backbone.' + 'downsample_layers.0.0.weight']
    expected = adapt_stem_weight(
        torch.load(rgb, weights_only=True)['state_dict'][STEM_KEY], C,
        rule or 'mean')
    torch.testing.assert_close(stem, expected, rtol=0, atol=0)
    other = save_untrained(channel_config(task, C),
                           str(tmp_path / 'two.pth'), stem_channels=2)
    with pytest.raises(CheckpointMismatchError) as err:
        load(channel_config(task, C), other, None)
    assert re.match(REFUSED, str(err.value)), str(err.value)
    assert 'two.pth' in str(err.value) and '\n' not in str(err.value)
