# mmdet's Faster R-CNN with ConvNeXt V2-atto: only the backbone and the
# neck's input widths change.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch='atto',
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        init_cfg=None),  # random: tests never download
    neck=dict(in_channels=[40, 80, 160, 320]))
