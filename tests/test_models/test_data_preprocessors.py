"""The C-channel data preprocessors: the stock classes (mmpretrain's
SelfSupDataPreprocessor, mmdet's DetDataPreprocessor) with mean / std of C
values, value for value; padding and batch augments kept; refusals in one
line."""
import pytest
import torch
from mmdet.registry import MODELS as DET_MODELS
from mmdet.structures import DetDataSample
from mmpretrain.registry import MODELS

import mmconvnextv2  # noqa: F401  (registers them)

DET = dict(_scope_='mmdet', type='AnyChannelDetDataPreprocessor')


def frames(channels: int, n: int = 2, size: int = 20) -> torch.Tensor:
    """uint16 frames with values above 255, a different scale per band."""
    g = torch.Generator().manual_seed(channels)
    x = torch.randint(0, 4000, (n, channels, size, size), generator=g)
    x = x * torch.arange(1, channels + 1).view(1, -1, 1, 1)
    return x.to(torch.uint16)


def stats(channels: int):
    mean = [100.0 * (c + 1) for c in range(channels)]
    std = [10.0 + 5 * c for c in range(channels)]
    view = (1, channels, 1, 1)
    return mean, std, torch.tensor(mean).view(view), \
        torch.tensor(std).view(view)


@pytest.mark.parametrize('channels', [1, 2, 4, 16])
def test_selfsup_normalises_c_channels(channels):
    mean, std, m, s = stats(channels)
    pre = MODELS.build(dict(type='AnyChannelSelfSupDataPreprocessor',
                            mean=mean, std=std))
    x = frames(channels)
    out = pre(dict(inputs=x, data_samples=None))['inputs']
    assert out.dtype == torch.float32
    assert torch.allclose(out, (x.float() - m) / s)
    views = pre(dict(inputs=[x, x[:, :, :8, :8]], data_samples=None))
    assert torch.allclose(views['inputs'][1],
                          (x[:, :, :8, :8].float() - m) / s)


@pytest.mark.parametrize('channels', [1, 4, 16])
def test_det_normalises_pads_and_augments(channels):
    mean, std, m, s = stats(channels)
    pre = DET_MODELS.build(dict(
        DET, mean=mean, std=std, pad_size_divisor=32, pad_value=7,
        batch_augments=[
            dict(type='BatchFixedSizePad', size=(64, 64))]))
    x = frames(channels)
    samples = [DetDataSample(metainfo=dict(img_shape=(20, 20)))
               for _ in range(2)]
    out = pre(dict(inputs=list(x), data_samples=samples), training=True)
    assert out['inputs'].shape == (2, channels, 64, 64)
    assert torch.allclose(out['inputs'][:, :, :20, :20], (x.float() - m) / s)
    assert torch.all(out['inputs'][:, :, 20:32, :32] == 7)  # divisor pad
    assert torch.all(out['inputs'][:, :, 32:] == 0)  # the batch augment's
    assert out['data_samples'][0].batch_input_shape == (64, 64)


def test_three_values_are_the_stock_behaviour():
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    kwargs = dict(mean=[1., 2., 3.], std=[4., 5., 6.], bgr_to_rgb=True,
                  pad_size_divisor=8)
    ours = DET_MODELS.build(dict(DET, **kwargs))
    x = list(frames(3))
    assert torch.equal(ours(dict(inputs=x))['inputs'],
                       DetDataPreprocessor(**kwargs)(dict(inputs=x))['inputs'])


@pytest.mark.parametrize('kwargs, message', [
    (dict(mean=[0.] * 4), 'give mean and std both, or neither'),
    (dict(mean=[0.] * 4, std=[1.] * 3), 'mean has 4 and std 3 value(s); '
     'give 1 to 16, one per channel, as many for both'),
    (dict(mean=[0.] * 17, std=[1.] * 17), 'mean has 17 and std 17'),
    (dict(mean=[0.] * 4, std=[1.] * 4, bgr_to_rgb=True),
     'bgr_to_rgb=True swaps channels 0 and 2 of RGB images, but mean has 4 '
     'value(s): set it False'),
])
def test_bad_arguments_refused(kwargs, message):
    with pytest.raises(ValueError) as err:
        DET_MODELS.build(dict(DET, **kwargs))
    assert message in str(err.value) and '\n' not in str(err.value)


def test_input_of_other_channels_refused():
    mean, std, _, _ = stats(4)
    pre = MODELS.build(dict(type='AnyChannelSelfSupDataPreprocessor',
                            mean=mean, std=std))
    with pytest.raises(ValueError, match=r'normalises 4 channel\(s\), but an '
                       'input image has 3: set mean and std'):
        pre(dict(inputs=frames(3), data_samples=None))
