"""ConvNeXt V2 and FCMAE for OpenMMLab.

Importing this package registers our modules into mmpretrain's registries, so
mmdet/mmseg configs reach them as ``type='mmpretrain.ConvNeXtV2'`` after
``custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)``.
"""
from .datasets import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403  (registers the modules)

__version__ = '0.1.0'
