"""ConvNeXt V2 and FCMAE for OpenMMLab.

Importing this package registers our modules into mmpretrain's registries, so
mmdet/mmseg configs reach them as ``type='mmpretrain.ConvNeXtV2'`` after
``custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)``.

It also lets torch's weights-only loader read the few mmengine and numpy types
that mmengine writes into every training checkpoint (its message-hub buffers,
numpy scalars), so that the stock OpenMMLab loaders (mmdet's
``DetInferencer`` / ``init_detector``, mmseg's ``MMSegInferencer`` /
``init_model``, mmpretrain's inferencers and ``get_model``) read the
checkpoints of tools/train.py in a process that only loaded our config. It is
an allow-list of those types, not ``weights_only=False``: no code of a file's
choosing runs (see :func:`mmconvnextv2.runtime.trust_mmengine_checkpoints`).
"""
from . import checkpoint  # noqa: F401  (its errors are reported in one line)
from . import engine  # noqa: F401  (registers the checkpoint and image hooks)
from .datasets import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403  (registers the modules)
from .runtime import trust_mmengine_checkpoints
from .config_prefix import register_config_prefix
from .version import __version__, version_info  # noqa: F401

trust_mmengine_checkpoints()
register_config_prefix()  # `_base_ = ['mmconvnextv2::<folder>/<config>.py']`
