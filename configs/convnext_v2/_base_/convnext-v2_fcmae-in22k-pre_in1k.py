# ImageNet-1K fine-tuning of an IN-22K intermediate ConvNeXt V2 (stage 2 of
# FCMAE -> IN-22K -> IN-1K; ./convnext-v2_fcmae-pre_in22k.py is stage 1).
# Recipe: ConvNeXt V1's IN-22K -> IN-1K fine-tuning (facebookresearch/ConvNeXt
# TRAINING.md; the ConvNeXt V2 repository gives none): 30 epochs, no warm-up,
# AdamW lr 5e-5 at batch 512, weight decay 1e-8, layer decay 0.8 over the 12
# 'group' layer ids, head init 0.02 x 0.001, no mixup / cutmix, RandAugment,
# RandomErasing 0.25, label smoothing 0.1; EMA (the released files are EMA
# weights), AMP. Batch 16 GPUs x 32 at 224. Each size's config sets its
# arch, drop path and the stage-1 checkpoint (the backbone is read from the
# whole classifier; its 21841-class head is not loaded).
_base_ = ['./convnext-v2_fcmae-pre_in1k.py']

model = dict(
    backbone=dict(layer_decay_type='group'),
    train_cfg=dict(augments=None),  # no mixup / cutmix
)
optim_wrapper = dict(
    optimizer=dict(lr=5e-5, weight_decay=1e-8),
    paramwise_cfg=dict(layer_decay_rate=0.8))

max_epochs = 30
param_scheduler = [  # no warm-up: cosine from the first iteration
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
