# FCMAE pre-training of ConvNeXt V2 on ImageNet-1K: the official recipe
# (TRAINING.md): AdamW (0.9, 0.95), wd 0.05, lr 1.5e-4 x batch / 256, 40 warm-up
# epochs then cosine, batch 4096, RandomResizedCrop(224, 0.2-1) + flip, AMP.
# Data pipeline: mmpretrain's MAE ImageNet set-up, which is exactly that.
# The decoder's input width, the patch size and the predicted channels follow
# from the backbone (FCMAE fills them in): a size's config states its arch only.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs512_mae.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)

model = dict(
    type='FCMAE',
    mask_ratio=0.6,
    backbone=dict(
        type='ConvNeXtV2',
        arch='base',  # each size's config overrides arch
        out_indices=-1,
        gap_before_final_norm=False,
        norm_outputs=False),  # the FCMAE encoder has no output norm
    neck=dict(type='FCMAEDecoder', embed_dims=512, depth=1),
    head=dict(
        type='MAEPretrainHead',
        norm_pix=False,  # official default (norm_pix_loss off)
        loss=dict(type='PixelReconstructionLoss', criterion='L2')))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95),
        weight_decay=0.05),
    # as the official add_weight_decay: no decay on 1-D params (norms, GRN) and biases
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0))

max_epochs = 800
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 40, eta_min=0.,
         by_epoch=True, begin=40, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
resume = True
auto_scale_lr = dict(base_batch_size=4096)
