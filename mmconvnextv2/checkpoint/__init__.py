"""ConvNeXt V2 checkpoints of any known layout: read, recognise, convert, load.

``ConvNeXtV2(init_cfg=dict(type='Pretrained', checkpoint=...))`` goes through
:func:`load_backbone_checkpoint`, so a config may point at an official,
raw FCMAE, timm, mmpretrain, Hugging Face or our own file alike.
"""
from .io import (CheckpointMismatchError, CheckpointReadError,
                 UnsafeCheckpointError, read_checkpoint)
from .layouts import (LAYOUTS, backbone_part, convert_checkpoint,
                      convert_state, detect_layout, infer_arch, unwrap_state)
from .loader import (check_arch, check_decoder, load_backbone_checkpoint,
                     load_fcmae_checkpoint)

__all__ = [
    'LAYOUTS', 'read_checkpoint', 'CheckpointReadError',
    'CheckpointMismatchError',
    'UnsafeCheckpointError', 'unwrap_state', 'detect_layout',
    'convert_state', 'convert_checkpoint', 'backbone_part', 'infer_arch',
    'check_arch', 'check_decoder', 'load_backbone_checkpoint',
    'load_fcmae_checkpoint'
]
