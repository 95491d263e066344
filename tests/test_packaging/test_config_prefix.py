"""``_base_ = ['mmconvnextv2::<folder>/<config>.py']`` in the environment the
tests run in (the editable install: ``.mim`` links to the clone's folders).
The installed-wheel case is in test_wheel_and_mim.py."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmconvnextv2.config_prefix import (config_root, register_config_prefix,
                                        resolve_config)

REPO = Path(__file__).resolve().parents[2]
BASE = 'mmconvnextv2::upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / 'user_cfg.py'
    path.write_text(text)
    return str(path)


def test_user_config_inherits_a_shipped_config(tmp_path):
    cfg = Config.fromfile(write(tmp_path, f"_base_ = ['{BASE}']\n"
                                'train_cfg = dict(max_iters=2)\n'))
    assert cfg.train_cfg.max_iters == 2
    assert cfg.model.backbone.type == 'mmpretrain.ConvNeXtV2'
    assert cfg.default_scope == 'mmseg'

    def scopes(node):
        if isinstance(node, dict):
            yield node.get('_scope_')
            for value in node.values():
                yield from scopes(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                yield from scopes(value)
    # read as a local base: nothing is tagged with our package as a scope
    assert 'mmconvnextv2' not in set(scopes(cfg.to_dict()))


def test_the_folder_is_the_clones(tmp_path):
    assert Path(config_root()).resolve() == (REPO / 'configs').resolve()
    assert Path(resolve_config(BASE)).resolve() == (
        REPO / 'configs' / BASE.split('::')[1]).resolve()


@pytest.mark.parametrize('name, message', [
    ('upernet/nope.py', 'mmconvnextv2::upernet/nope.py: no such config in '),
    ('../setup.py', 'mmconvnextv2::../setup.py: outside the shipped configs'),
])
def test_a_wrong_name_is_one_line(tmp_path, name, message):
    with pytest.raises(FileNotFoundError) as err:
        Config.fromfile(write(tmp_path, f"_base_ = ['mmconvnextv2::{name}']\n"))
    assert str(err.value).startswith(message) and '\n' not in str(err.value)


def test_other_prefixes_unchanged_and_idempotent(tmp_path):
    register_config_prefix()
    register_config_prefix()
    cfg = Config.fromfile(write(
        tmp_path, "_base_ = ['mmseg::_base_/default_runtime.py']\n"))
    assert cfg.default_scope == 'mmseg'
