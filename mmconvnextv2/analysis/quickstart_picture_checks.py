"""Which of the quickstart's pictures the main job on your data can draw
for its images (:mod:`.quickstart_data_run`).

The stock test drawings decode each validation image with OpenCV as 8-bit
colour (mmdet's and mmseg's visualisation hooks) or take the loaded tensor
as an RGB image (mmpretrain's); a frame they cannot draw would fail the
test run, so for such data the tests draw nothing and the result picture
is left out, with one line saying why. The FCMAE reconstruction
(``tools/misc/visualize_fcmae.py``) is tried; on images other than 8-bit
colour its failure leaves that picture out, with one line, and the job's
table stands.
"""
import os.path as osp
from typing import List, Optional, Sequence

from mmconvnextv2.datasets.dataset_info import DatasetInfo

from .quickstart_pictures import visualise_reconstruction
from .quickstart_split import split_images
from .runner import ToolError, say

__all__ = ['drawing_problem', 'result_drawing', 'reconstruction_pictures']


def _kind(info: DatasetInfo) -> str:
    return f'{info.channels}-band {info.dtype}'


def drawing_problem(info: DatasetInfo) -> Optional[str]:
    """Why the stock test drawing cannot draw ``info``'s validation images
    (None when it can: 8-bit colour, or an image OpenCV decodes)."""
    if not info.any_channels:
        return None
    if info.task == 'cls':
        return ("mmpretrain's test drawing takes the loaded images as RGB; "
                f'these are {_kind(info)}')
    import mmcv
    name = split_images(info, 'val')[0]
    path = osp.join(info.root, info.paths['val']['img'], name)
    with open(path, 'rb') as f:
        if mmcv.imfrombytes(f.read()) is not None:
            return None
    hooks = {'det': 'mmdet', 'seg': 'mmseg'}[info.task]
    return (f"{hooks}'s test drawing decodes the images with OpenCV as 8-bit "
            f'colour, which cannot read {name} ({_kind(info)})')


def result_drawing(info: DatasetInfo, picture: str) -> Optional[str]:
    """The tests' ``--show-dir`` (``vis``), or None after one printed line
    naming why ``picture`` is left out (:func:`drawing_problem`)."""
    why = drawing_problem(info)
    if why is None:
        return 'vis'
    say(f'no {picture}: {why}')
    return None


def reconstruction_pictures(work: str, fcmae_config: str, checkpoint: str,
                            info: DatasetInfo, size: int,
                            bands: Optional[Sequence[int]] = None
                            ) -> List[str]:
    """``[fcmae_reconstruction.png]`` on the training images (``bands``:
    see :func:`.quickstart_pictures.visualise_reconstruction`); for images
    other than 8-bit colour, ``[]`` after one printed line when the tool
    fails on them.

    Raises:
        ToolError: The tool failed on 8-bit colour images.
    """
    images = osp.join(info.root, info.paths['train']['img'])
    try:
        return [visualise_reconstruction(work, fcmae_config, checkpoint,
                                         images, size, bands)]
    except ToolError as err:
        if not info.any_channels:
            raise
        say(f'no fcmae_reconstruction.png: tools/misc/visualize_fcmae.py '
            f'failed on these {_kind(info)} images (its output: {err.log})')
        return []
