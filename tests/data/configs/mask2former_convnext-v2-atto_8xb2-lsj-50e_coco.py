# mmdet's Mask2Former (instance) with ConvNeXt V2-atto: only the backbone and
# the pixel decoder's input widths change.
_base_ = ['mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py']
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='atto',
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        init_cfg=None),  # random: tests never download
    panoptic_head=dict(in_channels=[40, 80, 160, 320]))
