"""One predictor per task, behind one face.

Each predictor runs one of our configs with its checkpoint in the OpenMMLab
inferencer of its task (``mmdet.apis.DetInferencer``,
``mmseg.apis.MMSegInferencer``,
``mmpretrain.apis.ImageClassificationInferencer``): their pipelines, their
pre- and post-processing, their visualisers. Only the weights go through
:func:`~mmconvnextv2.apis.model_loading.load_model_checkpoint`.

The inferencers are asked to write nothing: the predictor chooses the names
of its files (``vis/<image>``, ``labels/<image stem>.png``) and has the
task's visualiser draw to that path. Images of C bands (a config loading
with ``LoadAnyImageFromFile``) reach the inferencer as arrays and are drawn
by their first three bands or the ``bands`` asked for
(:class:`~mmconvnextv2.apis.image_inputs.ImageReader`).
:func:`build_predictor` picks the predictor of a config's task.
"""
import contextlib
import io
import os
import os.path as osp
import time
import warnings
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

from ..utils.paths import is_image_file
from .image_inputs import ImageReader
from .model_loading import (TASK_NAMES, config_task, load_config,
                            load_model_checkpoint, model_meta, with_article)

Fields = Dict[str, Any]


class Predictor(metaclass=ABCMeta):
    """A model of one task, loaded once, predicting one image per call.

    Calling it with an image and an output folder draws the prediction into
    ``out_dir/vis`` and returns the image's JSON-ready record, the same shape
    for every task: ``image``, the task's :attr:`fields`, ``seconds`` and
    ``visualization`` (the drawing's path, or ``None``).

    Args:
        config: Config path (or a loaded ``Config``) of :attr:`task`.
        checkpoint: Any checkpoint this package reads: ours (tools/train.py),
            and for a classifier also official, timm, mmpretrain and Hugging
            Face files.
        device: ``'cpu'`` or ``'cuda'`` (``'cuda:N'``).
        config_name: How errors name the config (default: its path).
        bands: The bands drawn (see
            :class:`~mmconvnextv2.apis.image_inputs.ImageReader`).

    Raises:
        ValueError: no CUDA for a ``cuda`` device, a config of another task,
            a checkpoint that does not fit it, ``bands`` the model lacks.
    """

    #: ``'det'``, ``'seg'`` or ``'cls'``, as :func:`config_task` names it.
    task: str = ''
    #: The keys a record holds between ``image`` and ``seconds``.
    fields: Tuple[str, ...] = ()
    #: The drawing's file extension; ``None`` keeps the image's own.
    drawing_extension: Optional[str] = None

    def __init__(self, config: Union[str, Config], checkpoint: str,
                 device: str = 'cpu', config_name: Optional[str] = None,
                 bands: Optional[Sequence[int]] = None) -> None:
        if str(device).startswith('cuda') and not torch.cuda.is_available():
            raise ValueError(f'--device {device}: CUDA is not available here')
        self.config_name = config_name or (
            config if isinstance(config, str) else 'the config')
        self.cfg = load_config(config)
        task = config_task(self.cfg, self.config_name)
        if task != self.task:
            raise ValueError(
                f'{self.config_name} is {with_article(TASK_NAMES[task])} '
                f'config; {type(self).__name__} runs '
                f'{TASK_NAMES[self.task]} configs')
        self.checkpoint = str(checkpoint)
        self.device = str(device)
        self.scope = self.cfg.get('default_scope')
        channels = self.cfg.model.get('backbone', {}).get('in_channels', 3)
        self.reader = ImageReader(self.cfg, channels, bands)
        with DefaultScope.overwrite_default_scope(self.scope), \
                warnings.catch_warnings():  # "weights is None": they come next
            warnings.simplefilter('ignore')
            inferencer = self._build_inferencer()
        self.inferencer = self._prepared(inferencer)
        meta = load_model_checkpoint(
            self.inferencer.model, self.checkpoint, self.task,
            self.config_name, stem_rule=self.cfg.get('stem_rule', 'mean'))
        self.classes = self._use_meta(model_meta(self.cfg, meta))

    # ------------------------------------------------------ per task
    @abstractmethod
    def _build_inferencer(self) -> Any:
        """The task's OpenMMLab inferencer for ``self.cfg``, without weights
        (they are loaded next)."""

    @abstractmethod
    def _predict(self, image: str, out_dir: str, drawing: str) -> Fields:
        """The record's :attr:`fields` for ``image``; draw it to the path
        ``drawing`` (``self.reader`` gives the inferencer's input and the
        picture to draw on)."""

    def _use_meta(self, meta: Dict[str, Any]) -> Optional[tuple]:
        """Hand the class names (and palette) to the model; return the class
        names the predictions are named with."""
        model = self.inferencer.model
        current = dict(getattr(model, 'dataset_meta', None) or {})
        if meta.get('classes') is not None:
            current['classes'] = meta['classes']
            if meta.get('palette') is not None:
                current['palette'] = meta['palette']
        model.dataset_meta = current
        return current.get('classes')

    # ------------------------------------------------------ shared
    def _prepared(self, inferencer: Any) -> Any:
        """``inferencer`` in eval mode, without SyncBN off CUDA and without
        its own progress bar (:func:`run_inference` shows one)."""
        from mmengine.model import revert_sync_batchnorm
        if not self.device.startswith('cuda'):
            inferencer.model = revert_sync_batchnorm(inferencer.model)
        inferencer.show_progress = False
        inferencer.model.eval()
        return inferencer

    def class_name(self, label: int) -> Optional[str]:
        """The name of class ``label``; ``None`` without names or out of
        range."""
        if self.classes is None or not 0 <= label < len(self.classes):
            return None
        return str(self.classes[label])

    def drawing_path(self, image: str, out_dir: str) -> str:
        """Where the drawing of ``image`` goes: ``out_dir/vis/<image>``
        (with :attr:`drawing_extension` when set, ``.png`` for an array
        file)."""
        stem, extension = osp.splitext(osp.basename(image))
        if self.drawing_extension is not None:
            extension = self.drawing_extension
        elif not is_image_file(image):  # .npy
            extension = '.png'
        return osp.join(out_dir, 'vis', stem + extension)

    def __call__(self, image: str, out_dir: str) -> Dict[str, Any]:
        """Predict ``image``; draw it into ``out_dir/vis``; return its
        record (task files, such as label maps, go under ``out_dir`` too)."""
        drawing = self.drawing_path(image, out_dir)
        os.makedirs(osp.dirname(drawing), exist_ok=True)
        with DefaultScope.overwrite_default_scope(self.scope):
            start = time.perf_counter()
            fields = self._predict(image, out_dir, drawing)
            seconds = time.perf_counter() - start
        return dict(image=image, **fields, seconds=round(seconds, 4),
                    visualization=drawing if osp.isfile(drawing) else None)


class DetectionPredictor(Predictor):
    """An mmdet detector: boxes (and masks) from ``score_thr`` on.

    Args:
        score_thr: Drawn and listed only from this score on.
        Others: As :class:`Predictor`.
    """

    task = 'det'
    fields = ('detections', )

    def __init__(self, config: Union[str, Config], checkpoint: str,
                 device: str = 'cpu', config_name: Optional[str] = None,
                 score_thr: float = 0.3,
                 bands: Optional[Sequence[int]] = None) -> None:
        self.score_thr = score_thr
        super().__init__(config, checkpoint, device, config_name, bands)

    def _build_inferencer(self) -> Any:
        from mmdet.apis import DetInferencer
        return DetInferencer(model=self.cfg, weights=None, device=self.device,
                             show_progress=False)

    def _use_meta(self, meta: Dict[str, Any]) -> Optional[tuple]:
        classes = super()._use_meta(meta)
        # DetInferencer hands the meta to its visualiser at __init__ only
        model = self.inferencer.model
        self.inferencer.visualizer.dataset_meta = model.dataset_meta
        return classes

    def _predict(self, image: str, out_dir: str, drawing: str) -> Fields:
        # no out_dir: mmdet writes neither its drawing nor its predictions
        inputs, picture = self.reader(image)
        sample, = self.inferencer(inputs,
                                  return_datasamples=True)['predictions']
        self.inferencer.visualizer.add_datasample(
            osp.basename(image), picture, sample, draw_gt=False,
            pred_score_thr=self.score_thr, out_file=drawing)
        pred = self.inferencer.pred2dict(sample)
        detections = [
            dict(label=pred['labels'][i],
                 **{'class': self.class_name(pred['labels'][i])},
                 score=score, bbox=pred['bboxes'][i],
                 **({'mask': pred['masks'][i]} if 'masks' in pred else {}))
            for i, score in enumerate(pred['scores'])
            if score >= self.score_thr
        ]
        return dict(detections=detections)


class SegmentationPredictor(Predictor):
    """An mmseg segmentor: a label map per image, written to
    ``out_dir/labels/<image stem>.png`` (16-bit past 255 classes)."""

    task = 'seg'
    fields = ('label_map', 'shape', 'classes_present')

    def _build_inferencer(self) -> Any:
        from mmseg.apis import MMSegInferencer
        return MMSegInferencer(model=self.cfg, weights=None,
                               device=self.device)

    def _predict(self, image: str, out_dir: str, drawing: str) -> Fields:
        # no out_dir: mmseg writes neither its drawing nor its label map
        inputs, picture = self.reader(image)
        sample = self.inferencer(inputs, return_datasamples=True)
        vis, = self.inferencer.visualize([picture], [sample], return_vis=True)
        mmcv.imwrite(mmcv.rgb2bgr(vis), drawing)
        label_map = sample.pred_sem_seg.numpy().data[0]
        path = self.write_label_map(label_map, image, out_dir)
        present, counts = np.unique(label_map, return_counts=True)
        return dict(
            label_map=path, shape=list(label_map.shape),
            classes_present=[
                {'label': int(label), 'class': self.class_name(int(label)),
                 'fraction': round(float(n) / label_map.size, 6)}
                for label, n in zip(present, counts)])

    @staticmethod
    def write_label_map(label_map: np.ndarray, image: str,
                        out_dir: str) -> str:
        """Save ``label_map`` as ``out_dir/labels/<image stem>.png``: 8-bit,
        or 16-bit when a label is past 255. Returns the path."""
        folder = osp.join(out_dir, 'labels')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder,
                        osp.splitext(osp.basename(image))[0] + '.png')
        dtype = np.uint8 if label_map.max(initial=0) < 256 else np.uint16
        Image.fromarray(label_map.astype(dtype)).save(path)
        return path


class ClassificationPredictor(Predictor):
    """An mmpretrain ``ImageClassifier``: the ``topk`` classes by score,
    drawn as PNG.

    Args:
        topk: How many classes to list.
        Others: As :class:`Predictor`.
    """

    task = 'cls'
    fields = ('topk', )
    drawing_extension = '.png'

    def __init__(self, config: Union[str, Config], checkpoint: str,
                 device: str = 'cpu', config_name: Optional[str] = None,
                 topk: int = 5,
                 bands: Optional[Sequence[int]] = None) -> None:
        self.topk = topk
        super().__init__(config, checkpoint, device, config_name, bands)

    def _build_inferencer(self) -> Any:
        from mmpretrain.apis import ImageClassificationInferencer
        return ImageClassificationInferencer(model=self.cfg, pretrained=False,
                                             device=self.device)

    def _use_meta(self, meta: Dict[str, Any]) -> Optional[tuple]:
        classes = meta.get('classes')
        if classes is not None:
            self.inferencer.classes = classes
            self.inferencer.model._dataset_meta = dict(classes=classes)
        return classes

    def _predict(self, image: str, out_dir: str, drawing: str) -> Fields:
        inputs, picture = self.reader(image)
        with contextlib.redirect_stdout(io.StringIO()):  # its own bar
            sample, = self.inferencer(inputs, return_datasamples=True)
        scores = sample.pred_score.detach().cpu().numpy()
        order = np.argsort(-scores, kind='stable')[:self.topk]
        topk = [{'label': int(i), 'class': self.class_name(int(i)),
                 'score': float(scores[i])} for i in order]
        self.visualizer.visualize_cls(
            picture, sample,
            classes=self.inferencer.classes, draw_gt=False,
            name=osp.splitext(osp.basename(image))[0], out_file=drawing)
        return dict(topk=topk)

    @property
    def visualizer(self) -> Any:
        """mmpretrain's visualiser (the inferencer makes one only when it
        draws itself)."""
        if self.inferencer.visualizer is None:
            from mmpretrain.visualization import UniversalVisualizer
            self.inferencer.visualizer = UniversalVisualizer()
        return self.inferencer.visualizer


#: The predictor of each task :func:`config_task` names.
PREDICTORS = {
    cls.task: cls
    for cls in (DetectionPredictor, SegmentationPredictor,
                ClassificationPredictor)
}


def build_predictor(config: Union[str, Config], checkpoint: str,
                    device: str = 'cpu', score_thr: float = 0.3,
                    topk: int = 5,
                    bands: Optional[Sequence[int]] = None) -> Predictor:
    """The predictor of the config's task (its default scope and model).

    Args:
        config: Config path (or a loaded ``Config``).
        checkpoint: The trained weights (see :class:`Predictor`).
        device: ``'cpu'`` or ``'cuda'`` (``'cuda:N'``).
        score_thr: Detection: drawn and listed only from this score on.
        topk: Classification: how many classes to list.
        bands: The bands drawn (see
            :class:`~mmconvnextv2.apis.image_inputs.ImageReader`).

    Raises:
        ValueError: a config of another kind (FCMAE pre-training, ...), or
            what :class:`Predictor` raises.
    """
    name = config if isinstance(config, str) else 'the config'
    cfg = load_config(config)
    task = config_task(cfg, name)
    options = {'det': dict(score_thr=score_thr),
               'cls': dict(topk=topk)}.get(task, {})
    return PREDICTORS[task](cfg, checkpoint, device, config_name=name,
                            bands=bands, **options)


__all__ = [
    'Predictor', 'DetectionPredictor', 'SegmentationPredictor',
    'ClassificationPredictor', 'PREDICTORS', 'build_predictor'
]
