# ConvNeXt V2-huge: ImageNet-1K fine-tuning at 512x512 of the IN-22K
# intermediate model (stage 2; gives convnextv2_huge_22k_512_ema.pt).
# Recipe: the 384-px run of huge, convnext-v2-huge_fcmae-in22k-pre_64xb8-amp-30e_in1k-384px.py
# (30 epochs, lr 5e-5 at batch 512, layer decay 0.8 'group', wd 1e-8, no
# mixup / cutmix, EMA; drop path 0.4; batch 64 x 8), at 512 px.
# Starts from the stage-1 run's last checkpoint (its 21841-class head is not
# loaded): train convnext-v2-huge_fcmae-pre_32xb32-amp-90e_in22k.py first.
_base_ = ['./convnext-v2-huge_fcmae-in22k-pre_64xb8-amp-30e_in1k-384px.py']

# the 384-px pipelines with their crop and resize at 512
img_size = 512
train_pipeline = [
    dict(step, scale=img_size) if step.type == 'RandomResizedCrop' else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, scale=img_size) if step.type == 'Resize' else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
