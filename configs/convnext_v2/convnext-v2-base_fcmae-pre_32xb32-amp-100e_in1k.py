# ConvNeXt V2-base fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: official (TRAINING.md):
# 100 epochs, 20 warm-up epochs, blr 6.25e-4, layer decay 0.6 'group', wd 0.05,
# drop path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.1; EMA, AMP, batch 32 x 32.
# (the _base_ recipe is base's; the schedule is there)
_base_ = ['./_base_/convnext-v2_fcmae-pre_in1k.py']

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.1,
        layer_decay_type='group',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_base_1k_224_fcmae.pt')),
    head=dict(in_channels=1024, loss=dict(label_smooth_val=0.1)),
)
optim_wrapper = dict(
    optimizer=dict(lr=6.25e-4 * 1024 / 256, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.6))
