# As the base-size config, for ConvNeXt V2-tiny (FCMAE pre-trained).
_base_ = ['./upernet_convnext-v2-base-fcmae-pre_8xb2-amp-160k_ade20k-512x512.py']

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_tiny_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        arch='tiny',
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))

# as mmseg's ConvNeXt-T UperNet: the decay exponent counts 6 layers, not 12
optim_wrapper = dict(paramwise_cfg=dict(num_layers=6))
