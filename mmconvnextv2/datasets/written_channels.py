"""The parts of a written config (:mod:`.config_writer`) that its images'
channels decide. For 8-bit colour images (``dataset.json``: 3 channels,
uint8) they are the stock ones: RGB mean and std, the parent's loading and
transforms. For any other images (:attr:`DatasetInfo.any_channels`: grey,
16-bit, float, multi-band) they are the edits of
:func:`~.channel_configs.set_image_channels`, written out: the backbone's
``in_channels``, ``LoadAnyImageFromFile``, no RGB-only transform, and the
parent's data preprocessor (or its C-channel replacement) with the bands'
mean and std and no channel swap.
"""
import functools
from typing import Any, List, Optional

from ..config_prefix import resolve_config
from .channel_configs import adapt_pipeline, adapt_preprocessor
from .config_text import assign
from .dataset_info import DatasetInfo

__all__ = ['PARENTS', 'normalisation', 'norm_note', 'backbone', 'pipelines']

#: The shipped config each task's written config inherits.
PARENTS = {
    'det': 'mmconvnextv2::mask_rcnn/'
           'mask-rcnn_convnext-v2-atto_fpn_synthetic.py',
    'seg': 'mmconvnextv2::upernet/'
           'upernet_convnext-v2-atto_synthetic-128x128.py',
    'cls': 'mmconvnextv2::convnext_v2/'
           'convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k.py',
    'fcmae': 'mmconvnextv2::fcmae/'
             'fcmae_convnext-v2-atto_1xb16-coslr-1000i_synthetic-128px.py',
}


def normalisation(info: DatasetInfo, task: str) -> dict:
    """The data preprocessor's keys: mean and std, and for C-channel data
    the C-channel preprocessor of the parent's (no channel swap)."""
    if not info.any_channels:
        return dict(mean=list(info.mean), std=list(info.std))
    return adapt_preprocessor(_parent_preprocessor(task), info.mean,
                              info.std)


@functools.lru_cache(maxsize=None)
def _parent_preprocessor(task: str) -> dict:
    """The data preprocessor config of ``task``'s parent config."""
    from mmengine.config import Config
    cfg = Config.fromfile(resolve_config(PARENTS[task]))
    return dict((cfg.get('model') or {}).get('data_preprocessor') or
                cfg.get('data_preprocessor') or {})


def norm_note(info: DatasetInfo) -> str:
    """The comment above the normalisation."""
    if not info.any_channels:
        return ('the training images\' per-channel mean and std (RGB, '
                '0-255) from dataset.json')
    return (f'the training images\' mean and std for each of their '
            f'{info.channels} band(s) ({info.dtype}) from dataset.json')


def backbone(info: DatasetInfo, **keys: Any) -> dict:
    """The backbone's keys: ``keys``, and ``in_channels`` for C-channel
    data."""
    if info.any_channels:
        keys['in_channels'] = info.channels
    return keys


def _pipeline(info: DatasetInfo, pipeline: List[dict]) -> List[dict]:
    """``pipeline``, for C-channel data loading the images as they are,
    without RGB-only or 8-bit-only transforms (:func:`adapt_pipeline`)."""
    return adapt_pipeline(pipeline, info.channels, dtype=info.dtype,
                          mean=info.mean, std=info.std) \
        if info.any_channels else pipeline


def pipelines(info: DatasetInfo, train: List[dict],
              test: Optional[List[dict]] = None, note: str = '') -> List[str]:
    """The ``train_pipeline`` (after ``note`` and what the channels
    changed) and ``test_pipeline`` (if given) statements."""
    given = [train] if test is None else [train, test]
    channel_note = _pipeline_note(info, *given)
    statements = [assign('train_pipeline', _pipeline(info, train), '; '.join(
        n for n in (note, channel_note) if n))]
    if test is not None:
        statements.append(assign('test_pipeline', _pipeline(info, test)))
    return statements


def _pipeline_note(info: DatasetInfo, *pipelines: List[dict]) -> str:
    """What the C-channel edits of ``pipelines`` changed ('' for RGB)."""
    if not info.any_channels:
        return ''
    changes: List[str] = []
    for pipeline in pipelines:
        adapt_pipeline(pipeline, info.channels, changes, dtype=info.dtype,
                       mean=info.mean, std=info.std)
    return (f'{info.channels}-band {info.dtype} images, loaded as they are'
            + ''.join(f'; {c}' for c in dict.fromkeys(changes)))
