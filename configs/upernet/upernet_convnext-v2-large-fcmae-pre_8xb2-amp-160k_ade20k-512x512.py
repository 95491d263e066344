# As the base-size config, for ConvNeXt V2-large (FCMAE pre-trained).
_base_ = ['./upernet_convnext-v2-base-fcmae-pre_8xb2-amp-160k_ade20k-512x512.py']

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_large_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        arch='large',
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=[192, 384, 768, 1536]),
    auxiliary_head=dict(in_channels=768))
