# ConvNeXt V2-tiny: ImageNet-1K fine-tuning at 384x384 of the IN-22K
# intermediate model (stage 2; gives convnextv2_tiny_22k_384_ema.pt).
# Recipe: _base_/convnext-v2_fcmae-in22k-pre_in1k-384px.py
# (30 epochs, lr 5e-5 at batch 512, layer decay 0.8 'group', wd 1e-8, no
# mixup / cutmix, EMA); drop path 0.1; batch 32 x 16.
# Starts from the stage-1 run's last checkpoint (its 21841-class head is not
# loaded): train convnext-v2-tiny_fcmae-pre_32xb32-amp-90e_in22k.py first.
_base_ = ['./_base_/convnext-v2_fcmae-in22k-pre_in1k-384px.py']

model = dict(
    backbone=dict(
        arch='tiny',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='work_dirs/convnext-v2-tiny_fcmae-pre_'
                      '32xb32-amp-90e_in22k/epoch_90.pth',
                      prefix='backbone.')),
    head=dict(in_channels=768),
)
