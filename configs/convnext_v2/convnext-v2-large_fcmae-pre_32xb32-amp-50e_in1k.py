# ConvNeXt V2-large fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: base's, 50 epochs, decay 0.7, drop path 0.2 (our choice; not in TRAINING.md):
# 50 epochs, 10 warm-up epochs, blr 6.25e-4, layer decay 0.7 'group', wd 0.05,
# drop path 0.2, mixup 0.8 / cutmix 1.0, label smoothing 0.1; EMA, AMP, batch 32 x 32.
_base_ = ['./convnext-v2-base_fcmae-pre_32xb32-amp-100e_in1k.py']

model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_large_1k_224_fcmae.pt')),
    head=dict(in_channels=1536),
)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.7))

max_epochs = 50
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
