# As the base-size config, for ConvNeXt V2-huge (FCMAE pre-trained).
_base_ = ['./mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py']

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_huge_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        arch='huge',
        drop_path_rate=0.5,
        with_cp=True,  # recompute blocks in backward: fits 2 images per GPU
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    neck=dict(in_channels=[352, 704, 1408, 2816]))

