"""Every checkpoint layout loads into ConvNeXtV2 through init_cfg, completely
and with identical tensors; detection, conversion and error messages."""
from collections import OrderedDict

import pytest
import torch
from helpers.checkpoints import (ATTO, TINY, export_fcmae_raw, export_hf,
                                export_official, export_timm,
                                minkowski_from_dense, pretrained,
                                random_backbone_state, randomize_)

from mmconvnextv2.checkpoint import (LAYOUTS, convert_checkpoint,
                                     detect_layout, infer_arch,
                                     read_checkpoint)
from mmconvnextv2.models import ConvNeXtV2, FCMAEDecoder

FINAL = 'norm3.'


def assert_loaded(model: ConvNeXtV2, expected, skip_final_norm=False):
    """Every backbone tensor of ``model`` equals ``expected`` (our keys)."""
    own = model.state_dict()
    for key, value in expected.items():
        if skip_final_norm and key.startswith(FINAL):
            continue
        assert torch.equal(own[key], value.to(own[key].dtype)), key


@pytest.fixture(scope='module')
def tiny_state():
    return random_backbone_state(TINY, seed=1)


@pytest.fixture(scope='module')
def tiny_head():
    gen = torch.Generator().manual_seed(2)
    return OrderedDict(weight=torch.randn(5, 64, generator=gen),
                       bias=torch.randn(5, generator=gen))


# ------------------------------------------------------------- (a) official
def test_official_dense(tmp_path, load_spy, tiny_state, tiny_head):
    official = export_official(tiny_state, tiny_head)
    assert official['stages.0.0.grn.gamma'].shape == (1, 1, 1, 32)
    torch.save({'model': official}, tmp_path / 'convnextv2_tiny.pt')
    assert detect_layout(official) == 'official'
    full = convert_checkpoint({'model': official})
    assert full['backbone.stages.0.0.grn.gamma'].shape == (32,)
    assert torch.equal(full['head.fc.weight'], tiny_head['weight'])
    model = pretrained(TINY, tmp_path / 'convnextv2_tiny.pt')
    assert load_spy.missing == [] and load_spy.unexpected == []
    assert_loaded(model, tiny_state)
    assert model.stages[0][0].grn.gamma.shape == (32,)


def test_official_fcmae_dense_lacks_only_final_norm(tmp_path, load_spy,
                                                   tiny_state):
    official = export_official(
        OrderedDict((k, v) for k, v in tiny_state.items()
                    if not k.startswith(FINAL)))
    torch.save({'model': official}, tmp_path / 'convnextv2_fcmae.pt')
    model = pretrained(TINY, tmp_path / 'convnextv2_fcmae.pt',
                       out_indices=(0, 1, 2, 3))
    assert load_spy.missing == [f'norm{i}.{p}' for i in range(4)
                                for p in ('bias', 'weight')]
    assert_loaded(model, tiny_state, skip_final_norm=True)


# ------------------------------------------------------- (b) raw FCMAE ckpt
def test_minkowski_kernel_convention():
    """Package conversion agrees with the loop-spelled Minkowski order and
    is the exact inverse of it (non-symmetric kernels, so a transpose shows)."""
    dense = {'downsample_layers.1.1.weight': torch.randn(16, 8, 2, 2),
             'stages.0.0.depthwise_conv.weight': torch.randn(8, 1, 7, 7)}
    assert not torch.equal(dense['stages.0.0.depthwise_conv.weight'],
                           dense['stages.0.0.depthwise_conv.weight'].mT)
    raw = {
        'encoder.downsample_layers.1.1.kernel': minkowski_from_dense(
            dense['downsample_layers.1.1.weight'], depthwise=False),
        'encoder.stages.0.0.dwconv.kernel': minkowski_from_dense(
            dense['stages.0.0.depthwise_conv.weight'], depthwise=True),
        'encoder.stages.0.0.grn.gamma': torch.zeros(1, 32),
    }
    assert raw['encoder.downsample_layers.1.1.kernel'].shape == (4, 8, 16)
    assert raw['encoder.stages.0.0.dwconv.kernel'].shape == (49, 8)
    # spot check one entry against the convention, by hand
    k = raw['encoder.stages.0.0.dwconv.kernel']
    assert k[2 * 7 + 5, 3] == dense['stages.0.0.depthwise_conv.weight'][3, 0, 5, 2]
    full = convert_checkpoint(raw)
    for key, value in dense.items():
        assert torch.equal(full['backbone.' + key], value), key


def test_official_fcmae_raw(tmp_path, load_spy, tiny_state):
    decoder = FCMAEDecoder(in_channels=64, embed_dims=16, patch_size=32)
    dec_state = OrderedDict((k, v.clone())
                            for k, v in decoder.state_dict().items())
    randomize_(dec_state.items(), seed=3)
    raw = export_fcmae_raw(tiny_state, dec_state)
    assert raw['encoder.stages.0.0.grn.gamma'].shape == (1, 32)
    assert raw['decoder.0.grn.gamma'].shape == (1, 1, 1, 64)
    assert raw['mask_token'].shape == (1, 16, 1, 1)
    assert detect_layout(raw) == 'official_fcmae_raw'
    ckpt = {'model': raw, 'epoch': 799, 'optimizer': {}}
    full = convert_checkpoint(ckpt)
    neck = OrderedDict((k[len('neck.'):], v) for k, v in full.items()
                       if k.startswith('neck.'))
    assert neck.keys() == dec_state.keys()
    for key, value in dec_state.items():
        assert torch.equal(neck[key], value), key
    decoder.load_state_dict(neck, strict=True)

    torch.save(ckpt, tmp_path / 'checkpoint-799.pth')
    model = pretrained(TINY, tmp_path / 'checkpoint-799.pth',
                       norm_outputs=False)
    assert load_spy.missing == [] and load_spy.unexpected == []
    assert_loaded(model, tiny_state, skip_final_norm=True)


# ------------------------------------------------------------------ (c) timm
def test_timm(tmp_path, load_spy):
    timm = pytest.importorskip('timm')
    net = timm.create_model('convnextv2_atto', pretrained=False, num_classes=7)
    randomize_(net.state_dict().items(), seed=4)
    timm_state = net.state_dict()
    assert timm_state['stages.0.blocks.0.mlp.fc1.weight'].dim() == 4
    assert detect_layout(timm_state) == 'timm'
    torch.save(timm_state, tmp_path / 'timm_atto.pth')
    model = pretrained('atto', tmp_path / 'timm_atto.pth')
    assert load_spy.missing == [] and load_spy.unexpected == []
    full = convert_checkpoint(timm_state)
    head = {k.split('.')[-1]: v for k, v in full.items() if k.startswith('head.')}
    exported = export_timm(model.state_dict(), head, conv_mlp=True)
    assert exported.keys() == timm_state.keys()
    for key, value in timm_state.items():
        assert torch.equal(exported[key], value), key


# ----------------------------------------------------------- (d) mmpretrain
def test_mmpretrain(tmp_path, load_spy):
    from mmpretrain.models import ConvNeXt
    net = ConvNeXt(arch=dict(TINY), use_grn=True, layer_scale_init_value=0.)
    randomize_(net.state_dict().items(), seed=5)
    state = OrderedDict(('backbone.' + k, v) for k, v in net.state_dict().items())
    state['head.fc.weight'] = torch.randn(5, 64)
    state['head.fc.bias'] = torch.randn(5)
    assert detect_layout(state) == 'mmpretrain'
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'mmpretrain.pth')
    model = pretrained(TINY, tmp_path / 'mmpretrain.pth')
    assert load_spy.missing == [] and load_spy.unexpected == []
    assert_loaded(model, net.state_dict())


# ------------------------------------------------------------------ (e) ours
@pytest.mark.parametrize('prefixed', [True, False])
def test_ours(tmp_path, load_spy, tiny_state, prefixed):
    state = OrderedDict((('backbone.' if prefixed else '') + k, v)
                        for k, v in tiny_state.items())
    if prefixed:  # a whole FCMAE model: neck keys pass through conversion
        state['neck.mask_token'] = torch.randn(1, 16, 1, 1)
    assert detect_layout(state) == 'mmpretrain'
    full = convert_checkpoint(state)
    assert all(k.startswith(('backbone.', 'neck.')) for k in full)
    torch.save({'state_dict': state}, tmp_path / 'ours.pth')
    model = pretrained(TINY, tmp_path / 'ours.pth')
    assert load_spy.missing == [] and load_spy.unexpected == []
    assert_loaded(model, tiny_state)


def test_prefix_selects_backbone_of_a_detector(tmp_path, load_spy, tiny_state):
    state = OrderedDict(('backbone.' + k, v) for k, v in tiny_state.items())
    state['neck.lateral_convs.0.conv.weight'] = torch.randn(4, 8, 1, 1)
    state['rpn_head.rpn_conv.weight'] = torch.randn(4, 4, 3, 3)
    torch.save({'state_dict': state}, tmp_path / 'det.pth')
    model = pretrained(TINY, tmp_path / 'det.pth', prefix='backbone')
    assert load_spy.missing == [] and load_spy.unexpected == []
    assert_loaded(model, tiny_state)
    with pytest.raises(ValueError, match="no keys under the prefix 'student.'"):
        pretrained(TINY, tmp_path / 'det.pth', prefix='student.')


# -------------------------------------------------------------------- (f) HF
def _hf_model(with_head: bool):
    transformers = pytest.importorskip('transformers')
    config = transformers.ConvNextV2Config(
        depths=TINY['depths'], hidden_sizes=TINY['channels'], num_labels=5,
        layer_norm_eps=1e-6)
    cls = (transformers.ConvNextV2ForImageClassification if with_head
           else transformers.ConvNextV2Model)
    model = cls(config).eval()
    randomize_(model.state_dict().items(), seed=6)
    return model


@pytest.mark.parametrize('with_head', [True, False])
@pytest.mark.parametrize('file_name', ['model.safetensors', 'pytorch_model.bin'])
def test_huggingface(tmp_path, load_spy, with_head, file_name):
    hf = _hf_model(with_head)
    hf_state = hf.state_dict()
    if file_name == 'model.safetensors':
        hf.save_pretrained(tmp_path)
    else:
        try:
            hf.save_pretrained(tmp_path, safe_serialization=False)
        except (TypeError, ValueError):  # releases that only write safetensors
            torch.save(hf_state, tmp_path / file_name)
    path = tmp_path / file_name
    assert path.is_file()
    read = read_checkpoint(str(path))
    assert detect_layout(read) == 'huggingface'
    model = pretrained(TINY, path)
    assert load_spy.missing == [] and load_spy.unexpected == []
    prefix = 'convnextv2.' if with_head else ''
    full = convert_checkpoint(read)
    head = {k.split('.')[-1]: v for k, v in full.items() if k.startswith('head.')}
    assert bool(head) == with_head
    exported = export_hf(model.state_dict(), head, prefix=prefix)
    assert exported.keys() == hf_state.keys()
    for key, value in hf_state.items():
        assert torch.equal(exported[key], value), key
    # the directory save_pretrained wrote is accepted too
    assert read_checkpoint(str(tmp_path)).keys() == read.keys()


# ------------------------------------------------------------- misc / errors
def test_layouts_listed():
    assert set(LAYOUTS) == {'official', 'official_fcmae_raw', 'timm',
                            'mmpretrain', 'huggingface'}


def test_infer_arch(tiny_state):
    assert infer_arch(tiny_state) == (TINY['depths'], TINY['channels'])
    with pytest.raises(ValueError, match='no ConvNeXt V2 backbone weights'):
        infer_arch({'foo.weight': torch.zeros(1)})


def test_unwrap_module_prefix(tiny_state):
    official = export_official(tiny_state)
    wrapped = {'state_dict': OrderedDict(('module.' + k, v)
                                         for k, v in official.items())}
    full = convert_checkpoint(wrapped)
    assert 'backbone.downsample_layers.0.0.weight' in full
    assert 'backbone.norm3.weight' in full


def test_unknown_layout_and_convnext_v1():
    with pytest.raises(ValueError, match='not a ConvNeXt V2 checkpoint'):
        detect_layout({'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)})
    with pytest.raises(ValueError, match='holds no tensors'):
        detect_layout({})
    v1 = {'downsample_layers.0.0.weight': torch.zeros(8, 3, 4, 4),
          'stages.0.0.dwconv.weight': torch.zeros(8, 1, 7, 7),
          'stages.0.0.gamma': torch.zeros(8)}
    with pytest.raises(ValueError, match='ConvNeXt V1'):
        detect_layout(v1)


def test_wrong_size_names_both_archs(tmp_path):
    official = export_official(random_backbone_state(ATTO, seed=7))
    torch.save({'model': official}, tmp_path / 'convnextv2_atto.pt')
    with torch.device('meta'):  # a base-sized model without the memory
        with pytest.raises(ValueError) as info:
            pretrained('base', tmp_path / 'convnextv2_atto.pt')
    message = str(info.value)
    assert 'convnextv2_atto.pt' in message
    assert "depths [2, 2, 6, 2] and channels [40, 80, 160, 320] (arch 'atto')" \
        in message
    assert ("the model is arch 'base' with depths [3, 3, 27, 3] and channels "
            '[128, 256, 512, 1024]') in message


def test_wrong_size_custom_arch(tmp_path, tiny_state):
    torch.save(export_official(tiny_state), tmp_path / 'tiny.pt')
    with pytest.raises(ValueError, match=r"channels \[8, 16, 32, 64\], but the "
                       r"model is arch 'atto'"):
        pretrained('atto', tmp_path / 'tiny.pt')


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        read_checkpoint(str(tmp_path / 'nowhere.pth'))
    (tmp_path / 'garbage.pth').write_text('not a checkpoint')
    with pytest.raises(ValueError, match='could not read checkpoint'):
        read_checkpoint(str(tmp_path / 'garbage.pth'))
    (tmp_path / 'garbage.safetensors').write_bytes(b'\x00' * 16)
    with pytest.raises(ValueError, match='could not read safetensors'):
        read_checkpoint(str(tmp_path / 'garbage.safetensors'))
    with pytest.raises(FileNotFoundError, match='holds none of'):
        read_checkpoint(str(tmp_path))


def test_training_checkpoint_with_python_objects(tmp_path, tiny_state):
    """mmengine runner and official training files hold non-tensor objects
    (message hub buffers, numpy scalars, argparse args): still readable."""
    import argparse

    import numpy as np
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    ckpt = {'state_dict': OrderedDict(('backbone.' + k, v)
                                      for k, v in tiny_state.items()),
            'meta': {'seed': np.int64(3), 'loss': np.float32(0.5),
                     'message_hub': {'log_scalars': {'loss': buffer}}},
            'args': argparse.Namespace(lr=1e-3)}
    torch.save(ckpt, tmp_path / 'epoch_1.pth')
    read = read_checkpoint(str(tmp_path / 'epoch_1.pth'))
    assert read['meta']['seed'] == 3
    assert read['args'].lr == 1e-3
    assert 'HistoryBuffer' in repr(read['meta']['message_hub']['log_scalars'])
    assert convert_checkpoint(read).keys() == {
        'backbone.' + k for k in tiny_state}


class UnknownObject:
    """A class a checkpoint may hold that the reader does not know."""


def test_malicious_pickle_is_not_run(tmp_path, capsys):
    """A global outside the allow-list is never called while reading: an
    unknown class is read as an opaque placeholder, a function that can only
    be there to run something makes the file refused."""
    class Payload:
        def __reduce__(self):
            return (print, ('PAYLOAD RAN',))

    torch.save({'state_dict': {'x': torch.zeros(1)}, 'other': UnknownObject()},
               tmp_path / 'other.pth')
    read = read_checkpoint(str(tmp_path / 'other.pth'))
    assert 'opaque' in repr(read['other'])
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'evil': Payload()},
               tmp_path / 'evil.pth')
    with pytest.raises(ValueError, match='would call builtins.print'):
        read_checkpoint(str(tmp_path / 'evil.pth'))
    assert 'PAYLOAD RAN' not in capsys.readouterr().out
