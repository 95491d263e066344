# FCMAE pre-training on a folder of your own unlabelled images.
#   python tools/train.py configs/fcmae/fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder.py \
#       --cfg-options train_dataloader.dataset.data_root=path/to/images
# Every image under data_root (any depth; jpg/png/bmp/...) is used. Then point a
# downstream config's backbone at the result, e.g.
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<this config>/iter_5000.pth
# (the backbone reads our FCMAE checkpoints as they are: same module, same names).
# For another size change `model.backbone.arch`; the decoder follows it.
_base_ = ['./fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py']

crop_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=crop_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/my_images/',
        with_label=False,
        pipeline=train_pipeline))

max_iters = 5000
optim_wrapper = dict(optimizer=dict(lr=1.5e-4 * 32 / 256 * 4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='CosineAnnealingLR', T_max=max_iters - 250, eta_min=0.,
         by_epoch=False, begin=250, end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=32)
