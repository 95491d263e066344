# ConvNeXt V2-H, FCMAE pre-trained then fine-tuned on ImageNet-22K (and 1K at
# 384 px), UperNet on ADE20K 640x640 crops: the paper's 57.0 mIoU setting.
# Inherits mmseg's ConvNeXt V1 640x640 UperNet config (pipelines, crop size,
# sliding window, schedule, AMP, stage-wise lr decay); only the backbone and
# head widths differ. CPU notes: see the 512x512 base-size config.
_base_ = [
    'mmseg::convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-640x640.py'
]

custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)

checkpoint_file = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/im22k/convnextv2_huge_22k_384_ema.pt'  # noqa

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='huge',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.4,
        gap_before_final_norm=False,
        with_cp=True,  # recompute blocks in backward: fits 2 images per GPU
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=[352, 704, 1408, 2816]),
    auxiliary_head=dict(in_channels=1408))
