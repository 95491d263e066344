"""Our weights out to timm, Hugging Face and the official layout, and back.

Each round trip starts from a random atto (GRN non-zero) in our layout,
writes the foreign file with :mod:`mmconvnextv2.checkpoint.writers`, loads it
with the foreign library (timm ``load_state_dict(strict=True)``,
transformers ``from_pretrained``) and with our own reader, and compares the
features with the original network's (float32; about 1e-6 apart).
What a layout cannot hold is refused in one line.
"""
import json
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers.checkpoints import ATTO, TINY, pretrained, random_backbone_state

from mmconvnextv2.checkpoint import (backbone_part, convert_checkpoint,
                                     read_checkpoint)
from mmconvnextv2.checkpoint.writers import (ExportError, export_checkpoint,
                                             export_state, write_checkpoint)
from mmconvnextv2.models import ConvNeXtV2
from helpers.tools import load_script

REPO = Path(__file__).resolve().parents[2]
NUM_CLASSES = 7
# float32, and random weights give features of order 10-100: differences
# are measured against the largest magnitude of the reference tensor
REL_TOL = 1e-5


def full_state(arch, seed: int, head: bool = True) -> 'OrderedDict':
    """Our full-model layout: ``backbone.*`` (final norm ``norm{last}``)
    and, with ``head``, a classifier ``head.fc``."""
    backbone = random_backbone_state(arch, seed=seed)
    state = OrderedDict(('backbone.' + k, v) for k, v in backbone.items())
    if head:
        gen = torch.Generator().manual_seed(seed + 100)
        width = backbone['norm3.weight'].shape[0]
        state['head.fc.weight'] = 0.1 * torch.randn(NUM_CLASSES, width,
                                                    generator=gen)
        state['head.fc.bias'] = torch.randn(NUM_CLASSES, generator=gen)
    return state


@pytest.fixture(scope='module')
def classifier():
    return full_state(ATTO, seed=21)


@pytest.fixture(scope='module')
def images():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(22))


def our_features(state, images, arch=ATTO):
    """Stage maps (no output norm), the pooled final-norm vector and, if the
    state has a head, the logits, of our ConvNeXtV2 on ``state``."""
    backbone = backbone_part(state)
    maps = ConvNeXtV2(arch=arch, out_indices=(0, 1, 2, 3), norm_outputs=False,
                      gap_before_final_norm=False)
    maps.load_state_dict(OrderedDict((k, v) for k, v in backbone.items()
                                     if not k.startswith('norm')), strict=True)
    pooled = ConvNeXtV2(arch=arch, out_indices=-1, gap_before_final_norm=True)
    pooled.load_state_dict(backbone, strict=True)
    with torch.no_grad():
        out = dict(maps=maps.eval()(images), pooled=pooled.eval()(images)[-1])
        if 'head.fc.weight' in state:
            out['logits'] = F.linear(out['pooled'], state['head.fc.weight'],
                                     state['head.fc.bias'])
    return out


def assert_close(got: torch.Tensor, want: torch.Tensor) -> None:
    """Same shape; max |got - want| within ``REL_TOL`` of max |want|."""
    assert got.shape == want.shape
    scale = float(want.abs().max())
    diff = float((got - want).abs().max())
    assert scale > 0.1, 'degenerate comparison'
    assert diff <= REL_TOL * scale, f'max diff {diff:.3g} at scale {scale:.3g}'


def assert_same_tensors(got, want):
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert torch.equal(got[key], value), key


# ------------------------------------------------------------------- timm
def test_timm_round_trip(tmp_path, classifier, images):
    timm = pytest.importorskip('timm')
    dst = tmp_path / 'convnextv2_atto.pth'
    write_checkpoint(classifier, str(dst), 'timm')
    state = torch.load(dst, weights_only=True)
    # atto is built by timm with a 1x1-conv MLP
    assert state['stages.2.blocks.0.mlp.fc1.weight'].shape == (640, 160, 1, 1)
    assert state['stages.0.blocks.0.mlp.grn.weight'].shape == (160,)
    net = timm.create_model('convnextv2_atto', pretrained=False,
                            num_classes=NUM_CLASSES)
    net.load_state_dict(state, strict=True)
    ours = our_features(classifier, images)
    with torch.no_grad():
        net.eval()
        features = net.forward_features(images)
        logits = net(images)
    assert logits.std() > 0.1  # not a degenerate comparison
    assert_close(features, ours['maps'][-1])
    assert_close(logits, ours['logits'])
    # and back through our reader: the very same tensors
    assert_same_tensors(convert_checkpoint(read_checkpoint(dst)), classifier)


def test_timm_mlp_form(tmp_path):
    """timm builds tiny and up (and a custom size, by default) with Linear
    MLPs, atto..nano with 1x1 convolutions; ``conv_mlp`` overrides."""
    timm = pytest.importorskip('timm')
    state = full_state(TINY, seed=23, head=False)
    sizes = dict(depths=TINY['depths'], dims=TINY['channels'])
    linear = export_state(state, 'timm')
    assert linear['stages.0.blocks.0.mlp.fc1.weight'].dim() == 2
    timm.create_model('convnextv2_tiny', pretrained=False, num_classes=0,
                      **sizes).load_state_dict(linear, strict=True)
    conv = export_state(state, 'timm', conv_mlp=True)
    timm.create_model('convnextv2_atto', pretrained=False, num_classes=0,
                      **sizes).load_state_dict(conv, strict=True)


# ----------------------------------------------------------- Hugging Face
def test_huggingface_classifier_round_trip(tmp_path, classifier, images):
    transformers = pytest.importorskip('transformers')
    folder = tmp_path / 'hf-cls'
    write_checkpoint(classifier, str(folder), 'huggingface')
    assert sorted(p.name for p in folder.iterdir()) == ['config.json',
                                                        'model.safetensors']
    config = json.loads((folder / 'config.json').read_text())
    assert config['architectures'] == ['ConvNextV2ForImageClassification']
    net = transformers.ConvNextV2ForImageClassification.from_pretrained(
        str(folder)).eval()
    ours = our_features(classifier, images)
    with torch.no_grad():
        out = net(pixel_values=images, output_hidden_states=True)
    assert_close(out.logits, ours['logits'])
    for got, want in zip(out.hidden_states[1:], ours['maps']):
        assert_close(got, want)
    assert_same_tensors(convert_checkpoint(read_checkpoint(folder)),
                        classifier)


def test_huggingface_backbone_round_trip(tmp_path, images):
    """A custom size without head -> ``ConvNextV2Model`` folder."""
    transformers = pytest.importorskip('transformers')
    state = full_state(TINY, seed=24, head=False)
    folder = tmp_path / 'hf-model'
    write_checkpoint(state, str(folder), 'huggingface')
    net = transformers.ConvNextV2Model.from_pretrained(str(folder)).eval()
    assert list(net.config.depths) == TINY['depths']
    ours = our_features(state, images, arch=TINY)
    with torch.no_grad():
        out = net(pixel_values=images, output_hidden_states=True)
    assert_close(out.pooler_output, ours['pooled'])
    for got, want in zip(out.hidden_states[1:], ours['maps']):
        assert_close(got, want)
    assert_same_tensors(convert_checkpoint(read_checkpoint(folder)), state)


# --------------------------------------------------------------- official
def test_official_round_trip(tmp_path, classifier, images, load_spy):
    dst = tmp_path / 'convnextv2_atto_1k_224_ema.pt'
    write_checkpoint(classifier, str(dst), 'official')
    ckpt = torch.load(dst, weights_only=True)
    assert set(ckpt) == {'model'}
    model = ckpt['model']
    assert model['stages.1.0.grn.gamma'].shape == (1, 1, 1, 320)
    assert {'norm.weight', 'head.weight', 'downsample_layers.0.0.weight',
            'stages.3.1.pwconv2.weight'} <= set(model)
    assert_same_tensors(convert_checkpoint(ckpt), classifier)
    # through init_cfg, as a config would load it
    net = pretrained('atto', dst, out_indices=-1, gap_before_final_norm=True)
    assert load_spy.missing == [] and load_spy.unexpected == []
    with torch.no_grad():
        pooled = net(images)[-1]
    assert torch.equal(pooled, our_features(classifier, images)['pooled'])


# ------------------------------------------------- what cannot be written
def fcmae_run_state(seed: int = 25) -> 'OrderedDict':
    """An FCMAE training checkpoint's state: encoder without output norm,
    decoder under ``neck.``, data preprocessor buffers."""
    state = OrderedDict((k, v) for k, v in full_state(ATTO, seed, False).items()
                        if not k.startswith('backbone.norm'))
    state['neck.mask_token'] = torch.zeros(1, 512, 1, 1)
    state['neck.proj.weight'] = torch.zeros(512, 320, 1, 1)
    state['data_preprocessor.mean'] = torch.zeros(3, 1, 1)
    return state


@pytest.mark.parametrize('layout', ['timm', 'huggingface', 'official'])
def test_fcmae_decoder_refused_in_one_line(tmp_path, layout):
    with pytest.raises(ExportError) as err:
        write_checkpoint(fcmae_run_state(), str(tmp_path / 'x'), layout)
    message = str(err.value)
    assert '\n' not in message
    assert f'the {layout} layout cannot hold neck.*' in message
    assert 'backbone_only' in message and 'data_preprocessor' not in message
    assert not (tmp_path / 'x').exists()


def test_fcmae_encoder_backbone_only(tmp_path, images):
    """--backbone-only: the encoder alone; timm/HF get a fresh final norm
    (the encoder has none), the stage features are the encoder's."""
    timm = pytest.importorskip('timm')
    state = fcmae_run_state()
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'iter_2.pth')
    layout = export_checkpoint(str(tmp_path / 'iter_2.pth'),
                               str(tmp_path / 'timm.pth'), 'timm',
                               backbone_only=True)
    assert layout == 'mmpretrain'
    timm_state = torch.load(tmp_path / 'timm.pth', weights_only=True)
    assert torch.equal(timm_state['head.norm.weight'], torch.ones(320))
    assert not any(k.startswith('head.fc') for k in timm_state)
    net = timm.create_model('convnextv2_atto', pretrained=False, num_classes=0)
    net.load_state_dict(timm_state, strict=True)
    with torch.no_grad():
        features = net.eval().forward_features(images)
    ours = our_features(
        OrderedDict(list(state.items()) + [
            ('backbone.norm3.weight', torch.ones(320)),
            ('backbone.norm3.bias', torch.zeros(320))]), images)
    assert_close(features, ours['maps'][-1])
    # the official layout keeps the FCMAE files' form: no final norm
    write_checkpoint(state, str(tmp_path / 'fcmae.pt'), 'official',
                     backbone_only=True)
    official = torch.load(tmp_path / 'fcmae.pt', weights_only=True)['model']
    assert not any(k.startswith(('norm.', 'head.')) for k in official)


def test_detector_refused_then_backbone(tmp_path):
    state = full_state(ATTO, seed=26, head=False)
    for i in range(3):  # per-stage output norms of a dense-prediction backbone
        width = ATTO['channels'][i]
        state[f'backbone.norm{i}.weight'] = torch.ones(width)
        state[f'backbone.norm{i}.bias'] = torch.zeros(width)
    state['neck.lateral_convs.0.conv.weight'] = torch.zeros(256, 40, 1, 1)
    state['rpn_head.rpn_conv.weight'] = torch.zeros(256, 256, 3, 3)
    state['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(81, 1024)
    with pytest.raises(ExportError, match=r'the timm layout cannot hold '
                       r'backbone\.norm0, backbone\.norm1, backbone\.norm2, '
                       r'neck\.\*, rpn_head\.\*, roi_head\.\*'):
        export_state(state, 'timm')
    out = export_state(state, 'timm', backbone_only=True)
    assert not any(k.startswith(('neck', 'rpn', 'roi', 'head.fc')) for k in out)
    assert torch.equal(out['head.norm.weight'], state['backbone.norm3.weight'])


def test_five_stages_refused_by_official():
    state = full_state(dict(depths=[1, 1, 1, 1, 1],
                            channels=[8, 16, 32, 64, 128]), seed=27, head=False)
    with pytest.raises(ExportError, match='official layout holds 4 stages'):
        export_state(state, 'official')


def load_tool():
    """tools/model_converters/mmconvnextv2_to_external.py as a module."""
    path = REPO / 'tools' / 'model_converters' / 'mmconvnextv2_to_external.py'
    return load_script(str(path))


def test_converter_tool(tmp_path, capsys):
    """The thin CLI: a refusal exits with one line; --backbone-only writes."""
    tool = load_tool()
    src = tmp_path / 'fcmae.pth'
    torch.save({'state_dict': fcmae_run_state()}, src)
    argv = [str(src), str(tmp_path / 'hf'), '--layout', 'huggingface']
    with pytest.raises(SystemExit) as exit_:
        tool.main(argv)
    message = str(exit_.value.code)
    assert message.startswith('error: the huggingface layout cannot hold neck.*')
    assert '\n' not in message
    tool.main(argv + ['--backbone-only'])
    assert 'as huggingface' in capsys.readouterr().out
    assert (tmp_path / 'hf' / 'model.safetensors').is_file()
