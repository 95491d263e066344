# Mask R-CNN + FPN, ConvNeXt V2-B initialised from its FCMAE pre-training,
# COCO 3x (36 epochs) with the multi-scale + crop augmentation of mmdet's
# ConvNeXt V1 Mask R-CNN, AdamW lr 1e-4 wd 0.05, layer-wise lr decay, AMP.
# Everything not stated here comes from that upstream config.
_base_ = [
    'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'
]

custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)

# The official FCMAE weights (encoder only, dense layout); the backbone's
# loader converts any ConvNeXt V2 layout (official, raw FCMAE, timm,
# mmpretrain, Hugging Face, ours) on load. For a checkpoint of ours written
# by FCMAE pre-training, point `checkpoint` at it; add prefix='backbone.' to
# read only the backbone of a whole-model checkpoint.
checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_base_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='base',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.4,
        gap_before_final_norm=False,  # dense maps, each with its own norm
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    neck=dict(in_channels=[128, 256, 512, 1024]))

# GRN gamma/beta and all norms are 1-D, so the constructor gives them no
# weight decay. num_layers=12: ConvNeXt's 12 layer ids when stage 3 has 27
# blocks (6 when it has 9 or fewer).
optim_wrapper = dict(
    paramwise_cfg=dict(decay_rate=0.95, decay_type='layer_wise',
                       num_layers=12))
