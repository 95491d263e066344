# ConvNeXt V2-huge: ImageNet-22K intermediate fine-tuning of the official FCMAE
# weights (stage 1 of FCMAE -> IN-22K -> IN-1K, which gave the released
# convnextv2_huge_22k_*_ema.pt files; those stage-1 weights are not released).
# Schedule: _base_/convnext-v2_fcmae-pre_in22k.py (90 epochs, 5 warm-up, no EMA,
# no validation). Optimiser and regularisation: as
# convnext-v2-huge_fcmae-pre_32xb32-amp-50e_in1k.py
# (layer decay 0.8 'group', blr 6.25e-4, drop path 0.2), batch 32 x 32.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in22k.py']

model = dict(
    backbone=dict(
        arch='huge',
        drop_path_rate=0.2,
        layer_decay_type='group',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_huge_1k_224_fcmae.pt')),
    head=dict(in_channels=2816),
)
optim_wrapper = dict(
    optimizer=dict(lr=6.25e-4 * 1024 / 256),
    paramwise_cfg=dict(layer_decay_rate=0.8))
