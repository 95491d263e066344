"""tools/analysis_tools/feature_collapse.py and
mmconvnextv2.analysis.feature_collapse: the JSON the tool writes against a
direct computation of the definition, and its one-line errors."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from mmconvnextv2.analysis.collapse_backbones import (CheckpointSpec,
                                                      build_backbone)
from mmconvnextv2.analysis.collapse_taps import load_image
from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.utils import list_images

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'feature_collapse.py')


def tool():
    """tools/analysis_tools/feature_collapse.py as a module."""
    spec = importlib.util.spec_from_file_location('feature_collapse_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def direct_distance(x: torch.Tensor) -> tuple:
    """The definition, from the full C x C cosine matrix: (H, W, C) ->
    (distance, dead)."""
    flat = x.reshape(-1, x.shape[-1]).double()
    c = flat.shape[1]
    norms = flat.norm(dim=0)
    dead = norms < 1e-6 * norms.max()
    cos = F.cosine_similarity(flat[:, :, None], flat[:, None, :], dim=0)
    cos[dead, :] = 1.
    cos[:, dead] = 1.
    return float(((1 - cos) / 2).sum()) / c**2, float(dead.double().mean())


def direct_mlp_activations(model: ConvNeXtV2, x: torch.Tensor) -> dict:
    """Each block's GELU output, by running the network by hand."""
    acts = {}
    for s in range(model.num_stages):
        x = model.downsample_layers[s](x)
        for b, block in enumerate(model.stages[s]):
            y = block.depthwise_conv(x).permute(0, 2, 3, 1)
            h = F.gelu(block.pointwise_conv1(block.norm(y)))
            acts[(s, b)] = h[0]
            out = block.pointwise_conv2(block.grn(h))
            if block.gamma is not None:
                out = out * block.gamma
            x = x + out.permute(0, 3, 1, 2)
    return acts


def test_tool_json_equals_direct_computation(tmp_path, capsys, write_images,
                                             tiny_arch):
    write_images(tmp_path / 'images', 3)
    source = ConvNeXtV2(arch=tiny_arch)
    source.init_weights()
    with torch.no_grad():  # GRN away from its identity init
        for name, p in source.named_parameters():
            if 'grn' in name:
                p.normal_(std=0.5)
    ckpt = tmp_path / 'v2.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               source.state_dict().items()}}, ckpt)
    out = tmp_path / 'out'
    tool().main(['--arch', json.dumps(tiny_arch),
                 '--checkpoints', 'v2-random=random', 'v1-random=random:v1',
                 f'v2-file={ckpt}', '--images', str(tmp_path / 'images'),
                 '--num-images', '2', '--size', '64', '--out', str(out),
                 '--grid-block', '2.1', '--seed', '3'])
    assert '| v1-random | ' in capsys.readouterr().out  # the table
    for name in ('collapse.png', 'activations.png', 'collapse.md'):
        assert (out / name).stat().st_size > 0
    result = json.loads((out / 'collapse.json').read_text())
    assert list(result) == ['v2-random', 'v1-random', 'v2-file']
    assert result['v1-random']['block_type'] == 'v1'
    assert result['v2-file']['block_type'] == 'v2'

    images = list_images(str(tmp_path / 'images'), recursive=False)[:2]
    for label, spec in (('v2-random', CheckpointSpec('x', 'random')),
                        ('v1-random', CheckpointSpec('x', 'random', 'v1')),
                        ('v2-file', CheckpointSpec('x', str(ckpt)))):
        record = result[label]
        assert record['tap'] == 'mlp' and record['arch'] == tiny_arch
        model = build_backbone(tiny_arch, spec, seed=3)
        sums = {}
        with torch.no_grad():
            for path in images:
                acts = direct_mlp_activations(model, load_image(path, 64)[None])
                for key, act in acts.items():
                    d, dead = direct_distance(act)
                    prev = sums.get(key, (0., 0.))
                    sums[key] = (prev[0] + d / 2, prev[1] + dead / 2)
        assert [(b['stage'], b['block']) for b in record['blocks']] == \
            sorted(sums)
        for b in record['blocks']:
            d, dead = sums[(b['stage'], b['block'])]
            assert b['distance'] == pytest.approx(d, abs=1e-9), (label, b)
            assert b['dead'] == pytest.approx(dead, abs=1e-12), (label, b)
    # the file's weights were used (not a random network)
    assert result['v2-file']['blocks'] != result['v2-random']['blocks']


def test_errors_are_one_line(tmp_path, write_images, tiny_arch):
    write_images(tmp_path / 'images', 1)
    common = ['--arch', json.dumps(tiny_arch), '--images',
              str(tmp_path / 'images'), '--size', '32', '--out',
              str(tmp_path / 'out'), '--no-progress']
    for args, message in (
            (['--checkpoints', 'a=missing.pth'], "checkpoint 'missing.pth'"),
            (['--checkpoints', 'random'], 'is not LABEL=PATH'),
            (['--checkpoints', 'a=random', 'a=random:v1'], 'must be unique'),
            (['--checkpoints', 'a=random', '--images', str(tmp_path)],
             'no images'),
            (['--checkpoints', 'a=random', '--arch', '{"depths": [1]'],
             'Expecting')):
        with pytest.raises(SystemExit) as info:
            tool().main(common + args)
        text = str(info.value.code)
        assert text.startswith('error: ') and '\n' not in text, text
        assert message in text
