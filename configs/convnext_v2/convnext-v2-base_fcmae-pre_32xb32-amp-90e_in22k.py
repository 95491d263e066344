# ConvNeXt V2-base: ImageNet-22K intermediate fine-tuning of the official FCMAE
# weights (stage 1 of FCMAE -> IN-22K -> IN-1K, which gave the released
# convnextv2_base_22k_*_ema.pt files; those stage-1 weights are not released).
# Schedule: _base_/convnext-v2_fcmae-pre_in22k.py (90 epochs, 5 warm-up, no EMA,
# no validation). Optimiser and regularisation: as
# convnext-v2-base_fcmae-pre_32xb32-amp-100e_in1k.py
# (layer decay 0.6 'group', blr 6.25e-4, drop path 0.1), batch 32 x 32.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in22k.py']

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.1,
        layer_decay_type='group',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_base_1k_224_fcmae.pt')),
    head=dict(in_channels=1024),
)
optim_wrapper = dict(
    optimizer=dict(lr=6.25e-4 * 1024 / 256),
    paramwise_cfg=dict(layer_decay_rate=0.6))
