"""Run a trained model on images: what tools/infer.py and
tools/deployment/export_onnx.py share.

The models are built and run by the OpenMMLab inferencers
(``mmdet.apis.DetInferencer``, ``mmseg.apis.MMSegInferencer``,
``mmpretrain.apis.ImageClassificationInferencer``): their pipelines, their
pre- and post-processing, their visualisers. Only the weights go through this
package's checkpoint reader (:mod:`mmconvnextv2.checkpoint`), so that

* a classifier config also takes the official, timm, mmpretrain and Hugging
  Face files directly (their layouts are converted on load), and
* a checkpoint of another task or another size fails with one line naming it,
  instead of loading non-strictly into a model that then predicts noise.
"""
import contextlib
import io
import os
import os.path as osp
import sys
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ..checkpoint import (backbone_part, check_arch, convert_state,
                         detect_layout, read_checkpoint, unwrap_state)
from ..runtime import drop_pretrained
from ..utils.config import innermost_dataset
from ..utils.fileio import write_json
from ..utils.paths import IMAGE_EXTENSIONS, is_image_file

# the config's default scope -> the task this module serves
SCOPE_TASKS = {'mmdet': 'det', 'mmseg': 'seg', 'mmpretrain': 'cls'}
TASK_NAMES = {
    'det': 'detection (mmdet)',
    'seg': 'semantic segmentation (mmseg)',
    'cls': 'image classification (mmpretrain)',
    'fcmae': 'FCMAE pre-training',
    'backbone': 'backbone-only',
}


# --------------------------------------------------------------- the config
def load_config(config: Union[str, Config]) -> Config:
    """Read a config (importing its ``custom_imports``), without the
    ``Pretrained`` initialisations: the weights come from the checkpoint."""
    cfg = config.copy() if isinstance(config, Config) else Config.fromfile(
        config)
    drop_pretrained(cfg.get('model', {}))
    return cfg


def config_task(cfg: Config, name: str = 'config') -> str:
    """``'det'``, ``'seg'`` or ``'cls'`` from the config's scope and model.

    Raises:
        ValueError: a config of another kind (FCMAE pre-training, ...).
    """
    scope = cfg.get('default_scope')
    task = SCOPE_TASKS.get(scope)
    model_type = str(cfg.get('model', {}).get('type', ''))
    if task == 'cls' and model_type.split('.')[-1] != 'ImageClassifier':
        task = None
    if task is None:
        raise ValueError(
            f'{name} builds a {model_type or "?"} model (scope {scope!r}); '
            'inference and export serve detection (mmdet), segmentation '
            '(mmseg) and classification (mmpretrain ImageClassifier) '
            'configs' + ('; to look at FCMAE reconstructions use '
                         'tools/misc/visualize_fcmae.py'
                         if 'FCMAE' in model_type else ''))
    return task


def dataset_meta(cfg: Config) -> Dict[str, Any]:
    """Class names (and palette) of the config's test dataset: its dataset
    class's ``METAINFO`` updated by the config's ``metainfo``."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset', {}) if isinstance(loader, dict) else {}
    dataset = innermost_dataset(dataset)
    meta: Dict[str, Any] = {}
    if dataset.get('type'):
        from mmengine.registry import DATASETS
        scope = cfg.get('default_scope')
        with DefaultScope.overwrite_default_scope(scope):
            with DATASETS.switch_scope_and_registry(scope) as registry:
                try:
                    cls = registry.get(dataset['type'])
                except KeyError:
                    cls = None
        meta.update(getattr(cls, 'METAINFO', None) or {})
    meta.update(dataset.get('metainfo') or {})
    return {k: v for k, v in meta.items() if k in ('classes', 'palette')}


# ----------------------------------------------------------- the checkpoint
def _a(noun: str) -> str:
    return ('an ' if noun[0] in 'aeiou' else 'a ') + noun


def checkpoint_task(state: Dict[str, Tensor]) -> str:
    """The task a converted (our layout) state dict was trained for."""
    roots = {k.split('.', 1)[0] for k in state}
    if roots & {'rpn_head', 'roi_head', 'bbox_head', 'mask_head'}:
        return 'det'
    if 'decode_head' in roots:
        return 'seg'
    if 'head' in roots:
        return 'cls'
    if 'neck' in roots and any(k.startswith(('neck.mask_token', 'neck.pred.',
                                             'neck.decoder.')) for k in state):
        return 'fcmae'
    return 'backbone'


def read_model_state(filename: str) -> Tuple[Dict[str, Tensor], dict]:
    """Read a checkpoint of any known layout with the project's reader and
    convert it to our layout; return (state dict, the checkpoint's ``meta``)."""
    ckpt = read_checkpoint(filename, map_location='cpu')
    state = unwrap_state(ckpt)
    try:
        layout = detect_layout(state)
    except ValueError as err:
        raise ValueError(f'checkpoint {filename}: {err}') from err
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    return convert_state(state, layout), meta


def load_model_checkpoint(model: nn.Module, filename: str, task: str,
                          config_name: str = 'the config') -> dict:
    """Load a whole-model checkpoint into ``model`` (a ``task`` model),
    strictly: same task, same backbone size, every weight present with the
    model's shape. Returns the checkpoint's ``meta`` (may be empty).

    Raises:
        ValueError: another task, another size, missing or mis-shaped weights
            (each names the checkpoint and what differs).
    """
    state, meta = read_model_state(filename)
    found = checkpoint_task(state)
    if found != task:
        hint = {
            'backbone': ' (only a backbone: fine-tune it with tools/train.py '
                        'first, or export it with --what backbone)',
            'fcmae': ' (a pre-training checkpoint: fine-tune it with '
                     'tools/train.py first, or export it with --what backbone)'
        }.get(found, '')
        raise ValueError(
            f'checkpoint {filename} holds {_a(TASK_NAMES[found])} '
            f'model{hint}, but {config_name} is {_a(TASK_NAMES[task])} '
            'config')
    check_arch(model.backbone, backbone_part(state), filename)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model '
              f'{tuple(own[k].shape)}' for k in own
              if k in state and state[k].shape != own[k].shape]
    if missing or shapes:
        problems = []
        if missing:
            problems.append(f'{len(missing)} weight(s) missing, e.g. '
                            f'{", ".join(missing[:3])}')
        if shapes:
            problems.append('shapes differ (another number of classes?): '
                            + '; '.join(shapes[:3]))
        raise ValueError(f'checkpoint {filename} does not fit {config_name}: '
                         + '; '.join(problems))
    model.load_state_dict(
        OrderedDict((k, v) for k, v in state.items() if k in own), strict=True)
    return meta


def model_meta(cfg: Config, checkpoint_meta: dict) -> Dict[str, Any]:
    """Class names and palette: the checkpoint's when it saved them (a
    training run does), else the config's dataset's."""
    meta = dataset_meta(cfg)
    saved = checkpoint_meta.get('dataset_meta') or {}
    if saved.get('classes'):
        meta = {k: v for k, v in saved.items() if k in ('classes', 'palette')}
    if 'classes' in meta:
        meta['classes'] = tuple(meta['classes'])
    return meta


# ---------------------------------------------------------------- the inputs
def _check_image(path: str) -> None:
    from PIL import Image, UnidentifiedImageError
    if not is_image_file(path):
        raise ValueError(f'input {path!r} is not an image (extension '
                         f'{osp.splitext(path)[1] or "none"!r}; images are '
                         f'{", ".join(IMAGE_EXTENSIONS)})')
    try:
        with Image.open(path) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f'input {path!r} is not a readable image: '
                         f'{err}') from err


def collect_images(inputs: Sequence[str]) -> Tuple[List[str], bool]:
    """The image files of ``inputs`` (images and folders; a folder stands for
    the images directly inside it, sorted). Returns (paths, whether a folder
    was given).

    Raises:
        FileNotFoundError: an input that does not exist.
        ValueError: a file that is not an image, a folder without images,
            two images of the same file name (their outputs would collide).
    """
    images: List[str] = []
    folder = False
    for item in inputs:
        if osp.isdir(item):
            folder = True
            found = sorted(
                osp.join(item, name) for name in os.listdir(item)
                if is_image_file(name)
                and osp.isfile(osp.join(item, name)))
            if not found:
                raise ValueError(f'folder {item!r} holds no images '
                                 f'({", ".join(IMAGE_EXTENSIONS)})')
            images += found
        elif osp.isfile(item):
            images.append(item)
        else:
            raise FileNotFoundError(f'input not found: {item!r}')
    seen: Dict[str, str] = {}
    for path in images:
        _check_image(path)
        stem = osp.splitext(osp.basename(path))[0]
        if stem in seen and seen[stem] != path:
            raise ValueError(f'inputs {seen[stem]!r} and {path!r} have the '
                             'same file name: their outputs would overwrite '
                             'each other')
        seen[stem] = path
    return images, folder


# ------------------------------------------------------------ the predictor
class Predictor:
    """One of our det / seg / cls configs and a checkpoint, run by the
    OpenMMLab inferencer of the config's task.

    Args:
        config: Config path (or a loaded ``Config``).
        checkpoint: Any checkpoint this package reads: ours (tools/train.py),
            and for a classifier also official, timm, mmpretrain and Hugging
            Face files.
        device: ``'cpu'`` or ``'cuda'`` (``'cuda:N'``).
        score_thr: Detection: drawn and listed only from this score on.
        topk: Classification: how many classes to list.
    """

    def __init__(self, config: Union[str, Config], checkpoint: str,
                 device: str = 'cpu', score_thr: float = 0.3,
                 topk: int = 5) -> None:
        if str(device).startswith('cuda') and not torch.cuda.is_available():
            raise ValueError(f'--device {device}: CUDA is not available here')
        self.config_name = config if isinstance(config, str) else 'the config'
        self.cfg = load_config(config)
        self.task = config_task(self.cfg, self.config_name)
        self.checkpoint = str(checkpoint)
        self.device = str(device)
        self.score_thr = score_thr
        self.topk = topk
        self.scope = self.cfg.get('default_scope')
        with DefaultScope.overwrite_default_scope(self.scope):
            self.inferencer = self._build()
        model = self.inferencer.model
        meta = load_model_checkpoint(model, self.checkpoint, self.task,
                                     self.config_name)
        self._set_meta(model_meta(self.cfg, meta))

    def _build(self) -> Any:
        import warnings
        from mmengine.model import revert_sync_batchnorm
        with warnings.catch_warnings():  # "weights is None": they come next
            warnings.simplefilter('ignore')
            if self.task == 'det':
                from mmdet.apis import DetInferencer
                inferencer = DetInferencer(model=self.cfg, weights=None,
                                           device=self.device,
                                           show_progress=False)
            elif self.task == 'seg':
                from mmseg.apis import MMSegInferencer
                inferencer = MMSegInferencer(model=self.cfg, weights=None,
                                             device=self.device)
            else:
                from mmpretrain.apis import ImageClassificationInferencer
                inferencer = ImageClassificationInferencer(
                    model=self.cfg, pretrained=False, device=self.device)
        if not self.device.startswith('cuda'):
            inferencer.model = revert_sync_batchnorm(inferencer.model)
        inferencer.show_progress = False  # run_inference shows its own
        inferencer.model.eval()
        return inferencer

    def _set_meta(self, meta: Dict[str, Any]) -> None:
        inferencer, model = self.inferencer, self.inferencer.model
        self.classes = meta.get('classes')
        if self.task == 'cls':
            if self.classes is not None:
                inferencer.classes = self.classes
                model._dataset_meta = dict(classes=self.classes)
            return
        current = dict(getattr(model, 'dataset_meta', None) or {})
        if self.classes is not None:
            current['classes'] = self.classes
            if meta.get('palette') is not None:
                current['palette'] = meta['palette']
        model.dataset_meta = current
        if self.task == 'det':  # DetInferencer hands it over at __init__
            inferencer.visualizer.dataset_meta = current
        self.classes = current.get('classes')

    def _class_name(self, label: int) -> Optional[str]:
        if self.classes is None or not 0 <= label < len(self.classes):
            return None
        return str(self.classes[label])

    def __call__(self, image: str, out_dir: str) -> Dict[str, Any]:
        """Predict ``image``; draw it into ``out_dir/vis``; return its
        JSON-ready record (label maps are written to ``out_dir/labels``)."""
        with DefaultScope.overwrite_default_scope(self.scope):
            return self._predict(image, out_dir)

    def _predict(self, image: str, out_dir: str) -> Dict[str, Any]:
        name = osp.basename(image)
        stem = osp.splitext(name)[0]
        vis_dir = osp.join(out_dir, 'vis')
        os.makedirs(vis_dir, exist_ok=True)
        record: Dict[str, Any] = dict(image=image)
        start = time.perf_counter()
        if self.task == 'det':
            result = self.inferencer(image, out_dir=out_dir,
                                     pred_score_thr=self.score_thr,
                                     no_save_pred=True)
            pred = result['predictions'][0]
            keep = [i for i, s in enumerate(pred['scores'])
                    if s >= self.score_thr]
            record['detections'] = [
                dict(label=pred['labels'][i],
                     **{'class': self._class_name(pred['labels'][i])},
                     score=pred['scores'][i], bbox=pred['bboxes'][i],
                     **({'mask': pred['masks'][i]} if 'masks' in pred else {}))
                for i in keep
            ]
            vis = osp.join(vis_dir, name)
        elif self.task == 'seg':
            result = self.inferencer(image, out_dir=out_dir)
            label_map = np.asarray(result['predictions'])
            # mmseg also wrote the map as out_dir/pred/<counter>_pred.png;
            # ours is named after the image (and is 16-bit past 255 classes)
            numbered = osp.join(out_dir, 'pred', str(
                self.inferencer.num_pred_imgs - 1).zfill(8) + '_pred.png')
            if osp.isfile(numbered):
                os.remove(numbered)
                if not os.listdir(osp.dirname(numbered)):
                    os.rmdir(osp.dirname(numbered))
            labels_dir = osp.join(out_dir, 'labels')
            os.makedirs(labels_dir, exist_ok=True)
            label_path = osp.join(labels_dir, stem + '.png')
            from PIL import Image
            dtype = np.uint8 if label_map.max(initial=0) < 256 else np.uint16
            Image.fromarray(label_map.astype(dtype)).save(label_path)
            present, counts = np.unique(label_map, return_counts=True)
            record['label_map'] = label_path
            record['shape'] = list(label_map.shape)
            record['classes_present'] = [
                {'label': int(lab), 'class': self._class_name(int(lab)),
                 'fraction': round(float(n) / label_map.size, 6)}
                for lab, n in zip(present, counts)]
            vis = osp.join(vis_dir, name)
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # its own bar
                result = self.inferencer(image, show_dir=vis_dir)
            scores = np.asarray(result[0]['pred_scores'])
            order = np.argsort(-scores, kind='stable')[:self.topk]
            record['topk'] = [
                {'label': int(i), 'class': self._class_name(int(i)),
                 'score': float(scores[i])} for i in order]
            vis = osp.join(vis_dir, stem + '.png')
        record['seconds'] = round(time.perf_counter() - start, 4)
        record['visualization'] = vis if osp.isfile(vis) else None
        return record


def run_inference(config: str, checkpoint: str, inputs: Sequence[str],
                  out_dir: str, device: str = 'cpu', score_thr: float = 0.3,
                  topk: int = 5, progress: Optional[bool] = None) -> dict:
    """Predict every image of ``inputs`` (files and folders); write one
    drawing per image under ``out_dir/vis``, the label maps of a segmentation
    config under ``out_dir/labels`` and every prediction into
    ``out_dir/predictions.json``. Returns what the JSON holds.

    ``progress`` (default: when a folder or several images are given) prints
    a progress bar.
    """
    images, folder = collect_images(inputs)
    predictor = Predictor(config, checkpoint, device, score_thr, topk)
    os.makedirs(out_dir, exist_ok=True)
    if progress is None:
        progress = folder or len(images) > 1
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(images), file=sys.stdout)
    records = []
    for image in images:
        records.append(predictor(image, out_dir))
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stdout.write('\n')
    summary = dict(
        task=predictor.task, config=config, checkpoint=str(checkpoint),
        classes=list(predictor.classes) if predictor.classes is not None
        else None,
        score_thr=score_thr if predictor.task == 'det' else None,
        images=records)
    write_json(osp.join(out_dir, 'predictions.json'), summary, indent=1)
    return summary


__all__ = [
    'SCOPE_TASKS', 'TASK_NAMES', 'IMAGE_EXTENSIONS', 'load_config',
    'config_task', 'dataset_meta', 'checkpoint_task', 'read_model_state',
    'load_model_checkpoint', 'model_meta', 'collect_images', 'Predictor',
    'run_inference'
]
