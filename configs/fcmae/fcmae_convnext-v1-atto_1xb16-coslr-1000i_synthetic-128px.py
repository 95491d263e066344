# The ConvNeXt V1 twin of the quickstart's FCMAE pre-training: the same data,
# budget, optimiser and seed; the encoder built from ConvNeXt V1 blocks (no GRN,
# LayerScale initialised at 1e-6). The FCMAE decoder is unchanged. Used by the
# feature-collapse study (`make collapse`):
#   python tools/train.py configs/fcmae/fcmae_convnext-v1-atto_1xb16-coslr-1000i_synthetic-128px.py
_base_ = ['./fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py']

model = dict(backbone=dict(block_type='v1'))
