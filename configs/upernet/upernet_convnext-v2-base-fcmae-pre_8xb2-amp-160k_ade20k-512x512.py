# UperNet + FCN auxiliary head, ConvNeXt V2-B initialised from its FCMAE
# pre-training, ADE20K 512x512, 160k iterations (8 GPUs x 2 images), AdamW
# lr 1e-4 wd 0.05, stage-wise lr decay 0.9, 1500 linear warm-up iterations
# then poly, AMP, sliding-window inference, SyncBN in the heads: all from
# mmseg's ConvNeXt V1 UperNet config, which is inherited; only the backbone
# differs.
#
# On CPU: a single-process run reverts SyncBN to BN by itself (mmengine does
# so when not distributed); AmpOptimWrapper needs a GPU, so there override
# the optimizer wrapper as configs/upernet/*_synthetic-*.py does. A
# distributed CPU (gloo) run also needs plain BN in the heads:
#   --cfg-options model.decode_head.norm_cfg.type=BN \
#       model.auxiliary_head.norm_cfg.type=BN env_cfg.dist_cfg.backend=gloo
# (the top-level `norm_cfg` of the base file is substituted when the file is
# read, so overriding `norm_cfg` alone changes nothing).
_base_ = [
    'mmseg::convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
]

custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)

# The official FCMAE weights (encoder only, dense layout); any ConvNeXt V2
# layout is converted on load.
checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/pt_only/convnextv2_base_1k_224_fcmae.pt'  # noqa

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='base',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.4,
        gap_before_final_norm=False,  # dense maps, each with its own norm
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)))
