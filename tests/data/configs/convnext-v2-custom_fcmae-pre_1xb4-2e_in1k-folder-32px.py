# The tiny fine-tuning recipe (layer decay 'single', Mixup/CutMix, label
# smoothing, EMA, AMP wrapper), shrunk for a CPU test: a 4-stage backbone of
# width 8-64, 2 classes, 32x32 images, batch 4, 2 epochs. The data root is
# given on the command line (train/<wnid>/*.png, val/<wnid>/*.png).
_base_ = [
    '../../../configs/convnext_v2/convnext-v2-tiny_fcmae-pre_32xb32-amp-300e_in1k.py'
]
classes = ('n01440764', 'n01443537')

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, depths=[1, 1, 2, 1], channels=[8, 16, 32, 64]),
        drop_path_rate=0.1,
        init_cfg=None),  # random: tests never download
    head=dict(num_classes=len(classes), in_channels=64))
data_preprocessor = dict(num_classes=len(classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    dataset=dict(data_root='', metainfo=dict(classes=classes),
                 pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    dataset=dict(data_root='', metainfo=dict(classes=classes),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

max_epochs = 2
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=1,
         end=max_epochs, T_max=max_epochs - 1, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=1))
