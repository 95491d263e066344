# ConvNeXt V2-huge fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: large's with layer decay 0.8 (our choice; not in TRAINING.md):
# 50 epochs, 10 warm-up epochs, blr 6.25e-4, layer decay 0.8 'group', wd 0.05,
# drop path 0.2, mixup 0.8 / cutmix 1.0, label smoothing 0.1; EMA, AMP, batch 32 x 32.
_base_ = ['./convnext-v2-large_fcmae-pre_32xb32-amp-50e_in1k.py']

model = dict(
    backbone=dict(
        arch='huge',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_huge_1k_224_fcmae.pt')),
    head=dict(in_channels=2816),
)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
