"""mmconvnextv2.swap.configs: finding the original config, and how the
written config names it in ``_base_``."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmconvnextv2.swap import SwapError, installed_configs, resolve_config
from helpers.swap import ATTO, RETINANET, swap


def test_packaged_config_keeps_its_pkg_name(tmp_path):
    path, base = resolve_config(RETINANET, str(tmp_path))
    assert base == RETINANET
    assert path == osp.join(installed_configs('mmdet'),
                            'retinanet/retinanet_r50_fpn_1x_coco.py')
    # the file path of a packaged config is named the pkg:: way too
    assert resolve_config(path, str(tmp_path)) == (path, RETINANET)


def test_relative_base_for_a_local_config(tmp_path):
    """A config outside the packages is inherited by a relative path."""
    local = tmp_path / 'configs' / 'my_retinanet.py'
    local.parent.mkdir()
    local.write_text(f"_base_ = ['{RETINANET}']\n"
                     "model = dict(bbox_head=dict(num_classes=3))\n")
    out_dir = tmp_path / 'swapped'
    out_dir.mkdir()
    out, _ = swap(str(local), str(out_dir), arch='atto')
    assert "_base_ = ['../configs/my_retinanet.py']" in open(out).read()
    cfg = Config.fromfile(out)
    assert cfg.model.bbox_head.num_classes == 3
    assert list(cfg.model.neck.in_channels) == ATTO[1:]  # start_level 1


@pytest.mark.parametrize('name, message', [
    ('mmdet::nowhere/none.py', 'mmdet::nowhere/none.py: no such config in mmdet'),
    ('no/such/file.py', 'no/such/file.py: no such config file'),
    ('mmnothing::a/b.py', "package 'mmnothing' is not installed"),
])
def test_missing_config_is_one_line(name, message, tmp_path):
    with pytest.raises(SwapError) as info:
        resolve_config(name, str(tmp_path))
    assert str(info.value) == message
