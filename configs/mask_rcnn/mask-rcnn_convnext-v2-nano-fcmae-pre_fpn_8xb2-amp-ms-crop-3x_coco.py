# As the base-size config, for ConvNeXt V2-nano (FCMAE pre-trained).
_base_ = ['./mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py']

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_nano_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        arch='nano',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    neck=dict(in_channels=[80, 160, 320, 640]))

# 6 layer ids (the third stage has 8 blocks); 0.9 per id puts the stem's lr
# at about half the head's, as 0.95 does over the 12 ids of the larger sizes.
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.9, num_layers=6))
