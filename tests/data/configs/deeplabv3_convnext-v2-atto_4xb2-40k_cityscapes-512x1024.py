# mmseg's DeepLabV3 with ConvNeXt V2-atto: only the backbone and the heads'
# input widths change (stage 4 for the ASPP head, stage 3 for the FCN one),
# and the segmentor's ResNet-only `pretrained` shortcut is cleared (mmseg
# hands it to the backbone; ConvNeXtV2 takes init_cfg, as mmseg's own
# ConvNeXt configs do).
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='atto',
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        init_cfg=None),  # random: tests never download
    decode_head=dict(in_channels=320),
    auxiliary_head=dict(in_channels=160))
