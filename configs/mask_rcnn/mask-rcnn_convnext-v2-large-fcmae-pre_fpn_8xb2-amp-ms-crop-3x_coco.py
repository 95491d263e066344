# As the base-size config, for ConvNeXt V2-large (FCMAE pre-trained).
_base_ = ['./mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py']

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_large_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.5,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    neck=dict(in_channels=[192, 384, 768, 1536]))

