"""The per-module step profile of a real segmentor config."""
from mmengine.config import Config

from mmconvnextv2.analysis.step_profile import format_profile, profile_step

SEG_CONFIG = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


def test_profile_step_times_every_part():
    profile = profile_step(Config.fromfile(SEG_CONFIG), size=64, batch=2,
                           steps=1, depth=1)
    assert profile['step'] > 0
    assert abs(profile['forward'] + profile['backward'] - profile['step']) \
        < profile['step']  # preprocessing is the rest
    assert {'backbone', 'decode_head', 'auxiliary_head'} <= set(
        profile['modules'])
    # the modules run inside the forward: their sum cannot exceed it much
    assert sum(profile['modules'].values()) <= profile['forward'] * 1.05
    table = format_profile('upernet', profile)
    assert '| forward backbone |' not in table  # indented module rows
    assert 'forward backbone' in table and 'backward (all)' in table
