# FCMAE pre-training of ConvNeXt V2-atto on the synthetic images (CPU friendly):
# the official recipe's model and optimiser, a short iteration budget, 128x128
# crops (a 4x4 grid of 32x32 patches, 6 of 16 visible), a learning rate for
# batch 16. It reads the unlabelled pool (no image of it is in the labelled
# sets); make the data first:
#   python tools/misc/make_synthetic_data.py --num-unlabelled 1024
_base_ = ['./fcmae_convnext-v2-atto_8xb512-amp-coslr-800e_in1k.py']

data_root = 'data/synthetic/'
crop_size = 128
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=crop_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    # a small folder: iterate without restarting the workers every epoch
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',  # a folder of unlabelled images
        data_root=data_root,
        data_prefix='unlabelled',
        with_label=False,
        pipeline=train_pipeline))

max_iters = 1000
warmup_iters = 50
optim_wrapper = dict(
    type='OptimWrapper',  # AMP needs a GPU; `tools/train.py --amp` turns it on
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, diff_rank_seed=True)
resume = False
auto_scale_lr = dict(base_batch_size=16)
