# ConvNeXt V2-base: ImageNet-22K intermediate fine-tuning of the official FCMAE
# weights (stage 1 of FCMAE -> IN-22K -> IN-1K, which gave the released
# convnextv2_base_22k_*_ema.pt files; those stage-1 weights are not released).
# Schedule: _base_/convnext-v2_fcmae-pre_in22k.py (90 epochs, 5 warm-up, no EMA,
# no validation). Optimiser and regularisation: as
# convnext-v2-base_fcmae-pre_32xb32-amp-100e_in1k.py
# (layer decay 0.6 'group', blr 6.25e-4, drop path 0.1), batch 32 x 32: those
# of the _base_ recipe, which is base's, so this config changes nothing in it.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in22k.py']
