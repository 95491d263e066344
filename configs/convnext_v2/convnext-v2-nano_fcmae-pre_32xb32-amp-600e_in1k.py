# ConvNeXt V2-nano fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: tiny's optimiser, 600 epochs (our choice; not in TRAINING.md):
# 600 epochs, no warm-up, blr 8e-4, layer decay 0.9 'single', wd 0.05,
# drop path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.2; EMA, AMP, batch 32 x 32.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in1k.py']

model = dict(
    backbone=dict(
        arch='nano',
        drop_path_rate=0.1,
        layer_decay_type='single',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_nano_1k_224_fcmae.pt')),
    head=dict(in_channels=640, loss=dict(label_smooth_val=0.2)),
)
optim_wrapper = dict(
    optimizer=dict(lr=8e-4 * 1024 / 256, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.9))

max_epochs = 600
param_scheduler = [  # no warm-up: cosine from the first iteration
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
