# ConvNeXt V2-femto fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: atto's (TRAINING.md gives atto only):
# 600 epochs, no warm-up, blr 2e-4, layer decay 0.9 'single', wd 0.3,
# drop path 0.1, no mixup / cutmix, label smoothing 0.2; EMA, AMP, batch 32 x 32.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in1k.py']

model = dict(
    backbone=dict(
        arch='femto',
        drop_path_rate=0.1,
        layer_decay_type='single',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_femto_1k_224_fcmae.pt')),
    head=dict(in_channels=384, loss=dict(label_smooth_val=0.2)),
    train_cfg=dict(augments=None),  # no mixup / cutmix
)
optim_wrapper = dict(
    optimizer=dict(lr=2e-4 * 1024 / 256, weight_decay=0.3),
    paramwise_cfg=dict(layer_decay_rate=0.9))

max_epochs = 600
param_scheduler = [  # no warm-up: cosine from the first iteration
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
