"""Deterministic synthetic datasets in the COCO and ADE20K layouts.

Small enough to generate in seconds, structured enough to learn from: every
image is a textured floor with unlabelled grey clutter and a few coloured
shapes (circle, square, triangle, star) that may partly occlude each other.
The same scene generator feeds two datasets, read by the *real* upstream
dataset classes:

* ``coco/``: instance segmentation for ``mmdet.datasets.CocoDataset``::

      coco/train/000000.jpg ...   coco/val/000000.jpg ...
      coco/annotations/instances_{train,val}.json   (polygons, bbox, area)

* ``ade/``: semantic segmentation for ``mmseg.datasets.ADE20KDataset``::

      ade/images/{training,validation}/synthetic_000000.jpg
      ade/annotations/{training,validation}/synthetic_000000.png

  The label maps are uint8 with ``0`` for "other" (the unlabelled clutter,
  ignored after ADE20K's ``reduce_zero_label``) and, for the classes, their
  ADE20K ids (``ADE20K index + 1``): the real ``ADE20KDataset`` accepts a
  custom ``metainfo`` only when its class names are a subset of ADE20K's 150,
  and then maps ADE20K indices to the subset's. So the floor is ADE20K's
  ``floor``, circles are ``ball``, squares ``box``, triangles ``tent`` and
  stars ``flower``; configs pass :data:`ADE_METAINFO` and get 5 classes.

* ``unlabelled/000000.jpg ...`` (optional): a pool of images from the same
  scene distribution without any annotation, for FCMAE pre-training
  (mmpretrain's ``CustomDataset`` over a folder). Self-supervised learning
  pays off when this pool is much larger than the labelled training sets.

Generation is deterministic: image ``i`` of a split depends only on
``(seed, split, i)``, not on the number of images. Each dataset is written
into a temporary folder next to its destination and renamed into place when
complete; a dataset already complete with the same parameters is skipped.

Only numpy, OpenCV and PIL are used here (no OpenMMLab import).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

__all__ = [
    'SHAPES', 'COCO_METAINFO', 'ADE_METAINFO', 'ADE_LABEL_IDS', 'IGNORE_LABEL',
    'make_scene', 'make_synthetic_coco', 'make_synthetic_ade',
    'make_synthetic_unlabelled', 'make_synthetic_data'
]

#: The shape kinds, in COCO category order (category id = index + 1).
SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star')

#: Mean RGB colour of each shape kind (jittered per instance).
SHAPE_COLOURS: Dict[str, Tuple[int, int, int]] = {
    'circle': (215, 60, 55),
    'square': (55, 170, 75),
    'triangle': (50, 95, 215),
    'star': (230, 195, 40),
}

#: For ``CocoDataset(metainfo=...)``: category names and one colour each.
COCO_METAINFO: Dict[str, tuple] = dict(
    classes=SHAPES, palette=tuple(SHAPE_COLOURS[s] for s in SHAPES))

#: Semantic class names (a subset of ADE20K's), in the order of the new
#: label indices: floor, then the shapes in :data:`SHAPES` order.
ADE_CLASSES: Tuple[str, ...] = ('floor', 'ball', 'box', 'tent', 'flower')

#: The value written in the label PNGs for each of :data:`ADE_CLASSES`:
#: ADE20K's index of the name + 1 (checked against mmseg in the tests).
ADE_LABEL_IDS: Dict[str, int] = {
    'floor': 4, 'ball': 120, 'box': 42, 'tent': 115, 'flower': 67}

#: For ``ADE20KDataset(metainfo=...)``.
ADE_METAINFO: Dict[str, tuple] = dict(
    classes=ADE_CLASSES,
    palette=((140, 110, 90), ) + tuple(SHAPE_COLOURS[s] for s in SHAPES))

#: Label of unlabelled ("other") pixels; ``reduce_zero_label`` ignores it.
IGNORE_LABEL = 0

_SHAPE_TO_ADE = dict(zip(SHAPES, ADE_CLASSES[1:]))
_SPLIT_CODES = {'train': 1, 'val': 2, 'unlabelled': 3}
_FORMAT_VERSION = 1
_MARKER = '.complete.json'
_MIN_VISIBLE = 0.4  # an occluded shape keeps at least this share of its area


# --------------------------------------------------------------------- scene
def _shape_polygon(kind: str, cx: float, cy: float, r: float,
                   angle: float) -> np.ndarray:
    """Vertices ``(K, 2)`` (x, y) of a shape of circumradius ``r``."""
    if kind == 'circle':
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = np.full_like(t, r)
    elif kind == 'square':
        t = angle + np.arange(4) * np.pi / 2
        radii = np.full_like(t, r)
    elif kind == 'triangle':
        t = angle + np.arange(3) * 2 * np.pi / 3
        radii = np.full_like(t, r)
    elif kind == 'star':
        t = angle + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    else:
        raise ValueError(f'unknown shape {kind!r}')
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _fill(poly: np.ndarray, size: int) -> np.ndarray:
    """Rasterise a polygon (sub-pixel precise) into a bool ``(size, size)``."""
    mask = np.zeros((size, size), np.uint8)
    pts = np.round(poly * 16).astype(np.int32)[None]
    cv2.fillPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int,
                  channels: int = 1) -> np.ndarray:
    """Smooth noise in [0, 1], ``(size, size, channels)``."""
    coarse = rng.random((cells, cells, channels)).astype(np.float32)
    fine = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(fine.reshape(size, size, channels), 0, 1)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured floor: a muted colour, blotches, faint stripes and grain."""
    base = rng.uniform(95, 165) + rng.uniform(-20, 20, size=3)
    blotch = _smooth_noise(rng, size, int(rng.integers(3, 7)), 3) - 0.5
    y, x = np.mgrid[:size, :size].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    period = rng.uniform(6, 16)
    stripes = np.sin((x * np.cos(theta) + y * np.sin(theta)) * 2 * np.pi /
                     period)[..., None]
    grain = rng.normal(0, 6, size=(size, size, 3))
    img = base + 55 * blotch + 10 * stripes + grain
    return img.astype(np.float32)


def _clutter(rng: np.random.Generator, img: np.ndarray,
             other: np.ndarray) -> None:
    """Draw unlabelled grey lines and rings (in place); mark them in
    ``other``."""
    size = img.shape[0]
    for _ in range(int(rng.integers(1, 4))):
        layer = np.zeros((size, size), np.uint8)
        thick = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            p1 = tuple(int(v) for v in rng.integers(0, size, 2))
            p2 = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(layer, p1, p2, 1, thick)
        else:
            centre = tuple(int(v) for v in rng.integers(0, size, 2))
            axes = tuple(
                int(v) for v in rng.integers(size // 16, size // 5, 2))
            cv2.ellipse(layer, centre, axes, float(rng.uniform(0, 180)), 0,
                        360, 1, thick)
        drawn = layer.astype(bool)
        img[drawn] = rng.uniform(40, 220)
        other |= drawn


def _has_hole(mask: np.ndarray) -> bool:
    contours, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return hierarchy is not None and bool((hierarchy[0][:, 3] >= 0).any())


def _place_shapes(rng: np.random.Generator, size: int,
                  count: int) -> List[Tuple[str, np.ndarray]]:
    """Choose up to ``count`` shapes, painted in order (later ones on top),
    such that each keeps >= ``_MIN_VISIBLE`` of its area visible and no
    visible part has a hole (COCO polygons cannot express holes)."""
    shapes: List[Tuple[str, np.ndarray]] = []
    for _ in range(count):
        for _attempt in range(20):
            kind = SHAPES[int(rng.integers(len(SHAPES)))]
            r = rng.uniform(0.08, 0.2) * size
            cx, cy = rng.uniform(r * 0.6, size - r * 0.6, 2)
            mask = _fill(
                _shape_polygon(kind, cx, cy, r, rng.uniform(0, 2 * np.pi)),
                size)
            if mask.sum() < 30 or any(
                    m[int(cy), int(cx)] for _, m in shapes):
                continue  # too small, or its centre is hidden already
            trial = shapes + [(kind, mask)]
            visible = _visible_masks(trial)
            if all(v.sum() >= _MIN_VISIBLE * m.sum() and not _has_hole(v)
                   for v, (_, m) in zip(visible, trial)):
                shapes = trial
                break
    return shapes


def _visible_masks(
        shapes: Sequence[Tuple[str, np.ndarray]]) -> List[np.ndarray]:
    """The part of each mask not covered by the shapes painted after it."""
    covered = np.zeros_like(shapes[0][1]) if shapes else None
    visible = []
    for _, mask in reversed(shapes):
        visible.append(mask & ~covered)
        covered = covered | mask
    return visible[::-1]


def make_scene(rng: np.random.Generator, size: int = 128,
               max_shapes: int = 5) -> dict:
    """One synthetic scene.

    Args:
        rng: The random source (consumed).
        size: Side of the square image in pixels.
        max_shapes: At most this many shapes (at least 2 are attempted).

    Returns:
        dict with ``img`` (uint8 RGB ``(size, size, 3)``), ``instances``
        (list of ``(kind, visible bool mask)``, painting order),
        ``full_masks`` (each shape's mask before occlusion) and ``other``
        (bool mask of the unlabelled clutter not covered by shapes).
    """
    if size < 32:
        raise ValueError(f'size must be at least 32 pixels, got {size}')
    img = _background(rng, size)
    other = np.zeros((size, size), bool)
    _clutter(rng, img, other)
    shapes = _place_shapes(rng, size, int(rng.integers(2, max_shapes + 1)))
    for kind, mask in shapes:
        colour = np.array(SHAPE_COLOURS[kind], np.float32)
        colour = colour + rng.uniform(-25, 25, size=3)
        shade = 0.8 + 0.4 * _smooth_noise(rng, size, 4)  # soft lighting
        img[mask] = (colour * shade[mask]).reshape(-1, 3)
        other &= ~mask
    img = cv2.GaussianBlur(img, (3, 3), 0.6)  # soften the aliased edges
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    visible = _visible_masks(shapes)
    return dict(img=img,
                instances=[(k, v) for (k, _), v in zip(shapes, visible)],
                full_masks=[m for _, m in shapes],
                other=other)


def _scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _SPLIT_CODES[split], index])


# ---------------------------------------------------------------- annotation
def mask_to_polygons(mask: np.ndarray) -> List[List[float]]:
    """Outer contours of a bool mask as COCO polygons ``[x0, y0, x1, ...]``
    (each with at least 3 points), in pixel-centre coordinates + 0.5."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        contour = contour.reshape(-1, 2).astype(np.float64) + 0.5
        if len(contour) >= 3 and cv2.contourArea(
                contour.astype(np.float32)) > 0:
            polygons.append([round(float(v), 2) for v in contour.ravel()])
    return polygons


def _coco_annotations(instances, image_id: int,
                      next_id: int) -> List[dict]:
    annotations = []
    for kind, mask in instances:
        polygons = mask_to_polygons(mask)
        if not polygons:
            continue
        ys, xs = np.nonzero(mask)
        x0, y0 = int(xs.min()), int(ys.min())
        w, h = int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1
        annotations.append(dict(
            id=next_id + len(annotations), image_id=image_id,
            category_id=SHAPES.index(kind) + 1, segmentation=polygons,
            area=float(mask.sum()), bbox=[x0, y0, w, h], iscrowd=0))
    return annotations


def _semantic_label(scene: dict) -> np.ndarray:
    label = np.full(scene['img'].shape[:2], ADE_LABEL_IDS['floor'], np.uint8)
    label[scene['other']] = IGNORE_LABEL
    for kind, mask in scene['instances']:
        label[mask] = ADE_LABEL_IDS[_SHAPE_TO_ADE[kind]]
    return label


# -------------------------------------------------------------------- writing
def _params(seed: int, num_train: int, num_val: int, size: int) -> dict:
    return dict(version=_FORMAT_VERSION, seed=int(seed),
                num_train=int(num_train), num_val=int(num_val),
                size=int(size))


def _is_complete(path: str, params: dict) -> bool:
    try:
        with open(osp.join(path, _MARKER), encoding='utf-8') as f:
            return json.load(f) == params
    except (OSError, ValueError):
        return False


def _write_atomically(dest: str, params: dict, write) -> str:
    """Run ``write(tmp_dir)`` and rename ``tmp_dir`` to ``dest``, unless
    ``dest`` is complete with ``params`` already. An incomplete or different
    ``dest`` is replaced."""
    dest = osp.abspath(dest)
    if _is_complete(dest, params):
        return dest
    parent = osp.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(dest)}.tmp-', dir=parent)
    try:
        write(tmp)
        with open(osp.join(tmp, _MARKER), 'w', encoding='utf-8') as f:
            json.dump(params, f)
        if osp.exists(dest):
            if _is_complete(dest, params):  # another process finished first
                shutil.rmtree(tmp)
                return dest
            stale = tempfile.mkdtemp(
                prefix=f'.{osp.basename(dest)}.old-', dir=parent)
            os.replace(dest, osp.join(stale, 'old'))
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not _is_complete(dest, params):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # lost a benign race
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _save_jpg(img: np.ndarray, path: str) -> None:
    Image.fromarray(img).save(path, quality=92)


def make_synthetic_coco(out_dir: str, seed: int = 0, num_train: int = 32,
                        num_val: int = 8, size: int = 128) -> str:
    """Write the COCO-format instance dataset to ``out_dir`` (e.g.
    ``data/synthetic/coco``) and return its absolute path."""
    params = _params(seed, num_train, num_val, size)

    def write(root: str) -> None:
        os.makedirs(osp.join(root, 'annotations'))
        categories = [dict(id=i + 1, name=n, supercategory='shape')
                      for i, n in enumerate(SHAPES)]
        for split, count in (('train', num_train), ('val', num_val)):
            os.makedirs(osp.join(root, split))
            images, annotations = [], []
            for i in range(count):
                scene = make_scene(_scene_rng(seed, split, i), size)
                name = f'{i:06d}.jpg'
                _save_jpg(scene['img'], osp.join(root, split, name))
                images.append(dict(id=i + 1, file_name=name, width=size,
                                   height=size))
                annotations += _coco_annotations(
                    scene['instances'], i + 1, len(annotations) + 1)
            coco = dict(
                info=dict(description='mmconvnextv2 synthetic shapes',
                          version=str(_FORMAT_VERSION)),
                licenses=[], images=images, annotations=annotations,
                categories=categories)
            with open(osp.join(root, 'annotations',
                               f'instances_{split}.json'), 'w') as f:
                json.dump(coco, f)

    return _write_atomically(out_dir, params, write)


def make_synthetic_ade(out_dir: str, seed: int = 0, num_train: int = 32,
                       num_val: int = 8, size: int = 128) -> str:
    """Write the ADE20K-layout semantic dataset to ``out_dir`` (e.g.
    ``data/synthetic/ade``) and return its absolute path."""
    params = _params(seed, num_train, num_val, size)
    # a different stream than the COCO images: the two sets are independent
    seed_ade = seed + 7919

    def write(root: str) -> None:
        for split, folder, count in (('train', 'training', num_train),
                                     ('val', 'validation', num_val)):
            img_dir = osp.join(root, 'images', folder)
            ann_dir = osp.join(root, 'annotations', folder)
            os.makedirs(img_dir)
            os.makedirs(ann_dir)
            for i in range(count):
                scene = make_scene(_scene_rng(seed_ade, split, i), size)
                stem = f'synthetic_{i:06d}'
                _save_jpg(scene['img'], osp.join(img_dir, stem + '.jpg'))
                Image.fromarray(_semantic_label(scene), mode='L').save(
                    osp.join(ann_dir, stem + '.png'))

    return _write_atomically(out_dir, params, write)


def make_synthetic_unlabelled(out_dir: str, seed: int = 0, num: int = 512,
                              size: int = 128) -> str:
    """Write ``num`` unannotated images to ``out_dir`` (e.g.
    ``data/synthetic/unlabelled``), none of them in the labelled sets;
    return its absolute path."""
    params = dict(_params(seed, 0, 0, size), num_unlabelled=int(num))

    def write(root: str) -> None:
        for i in range(num):
            scene = make_scene(_scene_rng(seed, 'unlabelled', i), size)
            _save_jpg(scene['img'], osp.join(root, f'{i:06d}.jpg'))

    return _write_atomically(out_dir, params, write)


def make_synthetic_data(out_dir: str = 'data/synthetic', seed: int = 0,
                        num_train: int = 32, num_val: int = 8,
                        size: int = 128,
                        which: Optional[Sequence[str]] = ('coco', 'ade'),
                        num_unlabelled: int = 0) -> Dict[str, str]:
    """Write ``out_dir/coco`` and/or ``out_dir/ade`` (and
    ``out_dir/unlabelled`` when ``num_unlabelled`` > 0); return their paths.

    Args:
        out_dir: Parent folder of the datasets.
        seed: Seed of everything drawn.
        num_train: Training images per dataset.
        num_val: Validation images per dataset.
        size: Side of the square images in pixels (>= 32).
        which: ``'coco'`` and/or ``'ade'``.
        num_unlabelled: Images in the unannotated pool (0: none).
    """
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be positive, got '
                         f'{num_train} and {num_val}')
    if num_unlabelled < 0:
        raise ValueError(f'num_unlabelled must be >= 0, got {num_unlabelled}')
    if size < 32:
        raise ValueError(f'size must be at least 32 pixels, got {size}')
    writers = dict(coco=make_synthetic_coco, ade=make_synthetic_ade)
    unknown = set(which) - set(writers)
    if unknown:
        raise ValueError(f'unknown datasets {sorted(unknown)}; '
                         f'choose from {sorted(writers)}')
    paths = {name: writers[name](osp.join(out_dir, name), seed, num_train,
                                 num_val, size) for name in which}
    if num_unlabelled:
        paths['unlabelled'] = make_synthetic_unlabelled(
            osp.join(out_dir, 'unlabelled'), seed, num_unlabelled, size)
    return paths
