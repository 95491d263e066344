# ImageNet-1K fine-tuning of an FCMAE-pre-trained ConvNeXt V2: the official
# recipe (TRAINING.md) for base, which each size's config adjusts. Data: mmpretrain's
# ImageNet pipeline with RandAugment and RandomErasing (the official
# rand-m9-mstd0.5-inc1, reprob 0.25, crop 224/256 eval); 32 images per GPU.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ConvNeXtV2',
        arch='base',
        drop_path_rate=0.1,
        layer_decay_type='group',
        # the official file, converted on load (any known layout works)
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/convnext/'
            'convnextv2/pt_only/convnextv2_base_1k_224_fcmae.pt')),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1024,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        # official head_init_scale 0.001 on trunc_normal(0.02)
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5, bias=0.)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))

train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader

total_batch = 1024  # 32 GPUs x 32
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=6.25e-4 * total_batch / 256,
                   betas=(0.9, 0.999), weight_decay=0.05),
    # layer ids from ConvNeXtV2.get_layer_depth (its layer_decay_type);
    # 1-D parameters (norms, GRN gamma/beta, biases) get no weight decay
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.6, flat_decay_mult=0.0))

max_epochs = 100
warmup_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# keep the last 3 epochs and the best (EMA) top-1
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, save_best='auto'))
# official model_ema_decay 0.9999, evaluated
custom_hooks = [dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL')]
auto_scale_lr = dict(base_batch_size=total_batch)
