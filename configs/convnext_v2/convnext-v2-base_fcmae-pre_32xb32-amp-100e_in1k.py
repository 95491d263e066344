# ConvNeXt V2-base fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: official (TRAINING.md):
# 100 epochs, 20 warm-up epochs, blr 6.25e-4, layer decay 0.6 'group', wd 0.05,
# drop path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.1; EMA, AMP, batch 32 x 32.
# The _base_ recipe is base's: this config changes nothing in it.
_base_ = ['./_base_/convnext-v2_fcmae-pre_in1k.py']
