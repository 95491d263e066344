# ConvNeXt V2-pico fine-tuned on ImageNet-1K from the official FCMAE weights.
# Recipe: atto's (TRAINING.md gives atto only), inherited from the atto config.
_base_ = ['./convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py']

model = dict(
    backbone=dict(
        arch='pico',
        init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/'
                      'convnextv2/pt_only/convnextv2_pico_1k_224_fcmae.pt')),
    head=dict(in_channels=512),
)
