# ImageNet-22K intermediate fine-tuning of an FCMAE-pre-trained ConvNeXt V2,
# stage 1 of FCMAE -> IN-22K -> IN-1K (the route of the released
# convnextv2_*_22k_*_ema.pt weights). The official ConvNeXt V2 repository gives
# no command for this stage, so:
# - schedule: ConvNeXt V1's IN-22K one (facebookresearch/ConvNeXt TRAINING.md):
#   90 epochs, 5 warm-up epochs, 21841 classes, no EMA, no evaluation;
# - optimiser, augmentation and regularisation: the IN-1K fine-tuning of
#   ./convnext-v2_fcmae-pre_in1k.py (RandAugment, RandomErasing 0.25, mixup
#   0.8 / cutmix 1.0, label smoothing 0.1, layer-wise lr decay, AMP); each
#   size's config takes lr, layer decay and drop path from its IN-1K config.
# Data: mmpretrain's ImageNet21k (class folders under data/imagenet21k/train,
# list in data/imagenet21k/meta/train.txt). Batch 32 GPUs x 32.
_base_ = ['./convnext-v2_fcmae-pre_in1k.py']

num_classes = 21841
data_preprocessor = dict(num_classes=num_classes)  # mixup / cutmix targets
model = dict(head=dict(num_classes=num_classes))

train_dataloader = dict(
    dataset=dict(type='ImageNet21k', data_root='data/imagenet21k',
                 split='train'))
# IN-22K has no validation split: train only
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

max_epochs = 90
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, save_best=None))
custom_hooks = []  # no EMA
