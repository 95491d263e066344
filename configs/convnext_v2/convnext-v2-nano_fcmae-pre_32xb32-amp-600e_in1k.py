# ConvNeXt V2-nano fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: tiny's optimiser, 600 epochs (our choice; not in TRAINING.md):
# 600 epochs, no warm-up, blr 8e-4, layer decay 0.9 'single', wd 0.05,
# drop path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.2; EMA, AMP, batch 32 x 32.
_base_ = ['./convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py']

model = dict(
    backbone=dict(
        arch='nano',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_nano_1k_224_fcmae.pt')),
    head=dict(in_channels=640),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]),
)
optim_wrapper = dict(optimizer=dict(lr=8e-4 * 1024 / 256, weight_decay=0.05))
