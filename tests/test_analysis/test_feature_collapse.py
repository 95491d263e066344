"""Feature-collapse analysis: the distance on hand-made activations, image
loading, and the tool's JSON against a direct computation."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmconvnextv2.analysis.feature_collapse import (
    CheckpointSpec, analyse, analyse_taps, build_backbone,
    channel_distance, checkpoint_block_type, list_images, load_image,
    parse_checkpoint_spec)
from mmconvnextv2.models import ConvNeXtV2

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'feature_collapse.py')
TINY_ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def tool():
    """tools/analysis_tools/feature_collapse.py as a module."""
    spec = importlib.util.spec_from_file_location('feature_collapse_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ metric
def test_identical_channels_give_zero():
    base = torch.rand(6, 5, 1) + 0.1
    x = base * torch.tensor([1., 2., 0.5, 7.])  # positive multiples: cos 1
    distance, dead = channel_distance(x)
    assert distance == pytest.approx(0., abs=1e-12)
    assert dead == 0.


@pytest.mark.parametrize('channels', [2, 8, 1000])
def test_disjoint_non_negative_channels(channels):
    """Orthogonal channels: every off-diagonal pair adds (1 - 0) / 2; the
    formula's diagonal (cos 1) adds 0, so the mean is (1 - 1/C) / 2, which
    tends to 0.5."""
    x = torch.zeros(channels, 3, channels)
    for c in range(channels):  # channel c lives on row c only
        x[c, :, c] = torch.rand(3) + 0.5
    distance, dead = channel_distance(x)
    assert distance == pytest.approx(0.5 * (1 - 1 / channels), abs=1e-12)
    assert dead == 0.
    if channels == 1000:
        assert distance == pytest.approx(0.5, abs=1e-3)


def test_dead_channels_are_counted_and_identical_to_all():
    x = torch.zeros(4, 4, 4)
    x[:2, :, 0] = 1.  # channels 0 and 1: disjoint support
    x[2:, :, 1] = 3.
    x[0, 0, 3] = 1e-9  # channel 3: below 1e-6 x the largest norm
    # channel 2 is all zero
    distance, dead = channel_distance(x)
    assert dead == 0.5
    # only the pairs (0, 1) and (1, 0) differ: 2 * 0.5 / 16
    assert distance == pytest.approx(2 * 0.5 / 16, abs=1e-12)
    # a dead channel counts as identical to every channel: replacing it by
    # any live map (cos 1 with one channel, not with the other) changes it
    alive = x.clone()
    alive[..., 2] = x[..., 0]
    assert channel_distance(alive)[0] > distance
    # all dead: all identical
    assert channel_distance(torch.zeros(3, 3, 5)) == (0., 1.)


def test_distance_is_scale_invariant_and_symmetric():
    torch.manual_seed(0)
    x = torch.randn(7, 7, 12)
    d, _ = channel_distance(x)
    assert channel_distance(x * 1e3)[0] == pytest.approx(d, rel=1e-9)
    assert channel_distance(x[..., torch.randperm(12)])[0] == \
        pytest.approx(d, rel=1e-9)
    assert 0 < d < 1


# ------------------------------------------------------------ inputs
def write_images(folder, count=3):
    """RGB and grey images of odd sizes (names out of creation order)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(count):
        size = (40 + 13 * i, 64 - 7 * i)
        array = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        img = Image.fromarray(array)
        if i == 1:
            img = img.convert('L')
        name = f'img_{count - i:02d}.png'
        img.save(folder / name)
        names.append(name)
    (folder / 'notes.txt').write_text('not an image')
    return sorted(names)


def test_images_sorted_resized_cropped_normalised(tmp_path):
    names = write_images(tmp_path / 'images', 3)
    paths = list_images(str(tmp_path / 'images'), 2)
    assert [osp.basename(p) for p in paths] == names[:2]
    Image.new('RGB', (90, 30), (255, 0, 128)).save(tmp_path / 'flat.png')
    x = load_image(str(tmp_path / 'flat.png'), 32)
    assert x.shape == (3, 32, 32)
    want = (torch.tensor([1., 0., 128 / 255]) - torch.tensor(
        [0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(x.mean(dim=(1, 2)), want, atol=1e-2)
    assert Image.open(paths[1]).mode == 'L'
    assert load_image(paths[1], 24).shape == (3, 24, 24)  # grey -> RGB
    with pytest.raises(FileNotFoundError, match='not found'):
        list_images(str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no images'):
        list_images(str(tmp_path / 'empty'))


def test_checkpoint_specs():
    assert parse_checkpoint_spec('a=random') == CheckpointSpec('a', 'random')
    assert parse_checkpoint_spec('b=random:v1') == \
        CheckpointSpec('b', 'random', 'v1')
    assert parse_checkpoint_spec('c=s3://x/y.pth:v2') == \
        CheckpointSpec('c', 's3://x/y.pth', 'v2')
    with pytest.raises(ValueError, match='is not LABEL=PATH'):
        parse_checkpoint_spec('random')


def test_block_type_read_from_the_backbone_keys(tmp_path):
    """A V1 FCMAE checkpoint has GRN only in its (V2) decoder block."""
    zero = torch.zeros(4)
    v1 = {'backbone.stages.0.0.gamma': zero, 'neck.decoder.0.grn.gamma': zero}
    torch.save({'state_dict': v1}, tmp_path / 'v1.pth')
    assert checkpoint_block_type(str(tmp_path / 'v1.pth')) == 'v1'
    for key in ('backbone.stages.0.0.grn.gamma', 'stages.1.blocks.0.mlp.grn.weight',
                'convnextv2.encoder.stages.0.layers.1.grn.weight'):
        torch.save({'state_dict': {key: zero}}, tmp_path / 'v2.pth')
        assert checkpoint_block_type(str(tmp_path / 'v2.pth')) == 'v2', key


# ------------------------------------------------- direct computation
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


def test_tool_json_equals_direct_computation(tmp_path, capsys):
    write_images(tmp_path / 'images', 3)
    source = ConvNeXtV2(arch=TINY_ARCH)
    source.init_weights()
    with torch.no_grad():  # GRN away from its identity init
        for name, p in source.named_parameters():
            if 'grn' in name:
                p.normal_(std=0.5)
    ckpt = tmp_path / 'v2.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               source.state_dict().items()}}, ckpt)
    out = tmp_path / 'out'
    tool().main(['--arch', json.dumps(TINY_ARCH),
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

    images = list_images(str(tmp_path / 'images'), 2)
    for label, spec in (('v2-random', CheckpointSpec('x', 'random')),
                        ('v1-random', CheckpointSpec('x', 'random', 'v1')),
                        ('v2-file', CheckpointSpec('x', str(ckpt)))):
        record = result[label]
        assert record['tap'] == 'mlp' and record['arch'] == TINY_ARCH
        model = build_backbone(TINY_ARCH, spec, seed=3)
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


def test_taps(tmp_path):
    write_images(tmp_path / 'images', 1)
    images = list_images(str(tmp_path / 'images'))
    v1 = build_backbone(TINY_ARCH, CheckpointSpec('v1', 'random', 'v1'))
    v2 = build_backbone(TINY_ARCH, CheckpointSpec('v2', 'random'))
    with torch.no_grad():
        for p in v2.parameters():  # GRN not the identity
            p.add_(0.3 * torch.randn_like(p))
    models = dict(v1=v1, v2=v2)
    results = {tap: analyse(models, images, 64, tap, (1, 0), progress=False)
               for tap in ('mlp', 'grn', 'block')}
    # V1 has no GRN: the grn tap is the mlp tap
    assert results['grn'][0]['v1'] == results['mlp'][0]['v1']
    assert results['grn'][0]['v2'] != results['mlp'][0]['v2']
    # widths: mlp 4C, block C
    assert results['mlp'][1]['v1'].shape == (8, 8, 64)
    assert results['block'][1]['v1'].shape == (8, 8, 16)
    with pytest.raises(ValueError, match='tap must be one of'):
        analyse(models, images, 64, 'gelu', progress=False)
    # all taps from one forward pass: the same numbers and maps
    together = analyse_taps(models, images, 64, ('block', 'mlp', 'grn'),
                            (1, 0), progress=False)
    for tap, (distances, grids) in together.items():
        assert distances == results[tap][0]
        for label, grid in grids.items():
            assert torch.equal(grid, results[tap][1][label])


def test_errors_are_one_line(tmp_path):
    write_images(tmp_path / 'images', 1)
    common = ['--arch', json.dumps(TINY_ARCH), '--images',
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
