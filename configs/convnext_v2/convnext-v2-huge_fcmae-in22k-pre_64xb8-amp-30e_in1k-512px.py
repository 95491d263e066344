# ConvNeXt V2-huge: ImageNet-1K fine-tuning at 512x512 of the IN-22K
# intermediate model (stage 2; gives convnextv2_huge_22k_512_ema.pt).
# Recipe: _base_/convnext-v2_fcmae-in22k-pre_in1k-384px.py
# (30 epochs, lr 5e-5 at batch 512, layer decay 0.8 'group', wd 1e-8, no
# mixup / cutmix, EMA) at 512 px; drop path 0.4; batch 64 x 8.
# Starts from the stage-1 run's last checkpoint (its 21841-class head is not
# loaded): train convnext-v2-huge_fcmae-pre_32xb32-amp-90e_in22k.py first.
_base_ = ['./_base_/convnext-v2_fcmae-in22k-pre_in1k-384px.py']

model = dict(
    backbone=dict(
        arch='huge',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='work_dirs/convnext-v2-huge_fcmae-pre_'
                      '32xb32-amp-90e_in22k/epoch_90.pth',
                      prefix='backbone.')),
    head=dict(in_channels=2816),
)
train_dataloader = dict(batch_size=8)
val_dataloader = dict(batch_size=8)
test_dataloader = val_dataloader

# the 384-px base's pipelines at 512
img_size = 512
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean],
                      interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand',
         min_area_ratio=0.02, max_area_ratio=1 / 3, fill_color=bgr_mean,
         fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size, backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
