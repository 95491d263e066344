# ConvNeXt V2-huge fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: base's, 50 epochs, decay 0.8, drop path 0.2 (our choice; not in TRAINING.md):
# 50 epochs, 10 warm-up epochs, blr 6.25e-4, layer decay 0.8 'group', wd 0.05,
# drop path 0.2, mixup 0.8 / cutmix 1.0, label smoothing 0.1; EMA, AMP, batch 32 x 32.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in1k.py']

model = dict(
    backbone=dict(
        arch='huge',
        drop_path_rate=0.2,
        layer_decay_type='group',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_huge_1k_224_fcmae.pt')),
    head=dict(in_channels=2816, loss=dict(label_smooth_val=0.1)),
)
optim_wrapper = dict(
    optimizer=dict(lr=6.25e-4 * 1024 / 256, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.8))

max_epochs = 50
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
