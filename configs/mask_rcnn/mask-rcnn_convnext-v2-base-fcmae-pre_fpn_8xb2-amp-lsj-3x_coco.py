# As mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py with
# large-scale jitter instead of multi-scale + crop: resize 0.1-2.0 of
# 1024x1024, crop 1024x1024, pad every batch to 1024x1024 (mmdet's LSJ idiom,
# configs/common/lsj-100e_coco-instance.py, as in its ConvNeXt-V2 project).
_base_ = ['./mask-rcnn_convnext-v2-base-fcmae-pre_fpn_8xb2-amp-ms-crop-3x_coco.py']

image_size = (1024, 1024)

model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)
    ]))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
