"""Does the FCMAE data pipeline keep the training step fed on large frames?

In one process, on a folder of frames (by default synthetic 1920x1080 JPEGs
of a natural-looking texture, in a temporary folder): the images/s of the
config's train dataloader, pointed at the folder as a user would
(``train_dataloader.dataset.data_root`` / ``data_prefix``, no ``ann_file``)
with the config's ``num_workers``; of its training step (``train_step``
through its optimiser wrapper) on random images of the batch's shape, and of
that step fed by the loader (the workers and the step share the machine);
the per-image time of each transform and of the collate (where the loader's
time goes); and the same with the loading swapped for
:class:`~mmconvnextv2.datasets.transforms.DraftLoadImageFromFile` (JPEGs
decoded at the crop's scale). Loader / step is 1 or more where the step is
fed.
"""
import contextlib
import copy
import gc
import os
import os.path as osp
import tempfile
from collections import Counter
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..runtime import prepare_config
from ..utils.benchmark import Stopwatch, time_turns
from ..utils.config import innermost_dataset
from ..utils.models import build_model
from ..utils.paths import list_images

__all__ = ['natural_frame', 'write_frames', 'point_at', 'draft_pipeline',
           'time_batches', 'transform_times', 'build_train_step',
           'benchmark_loader', 'format_report']

_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile',
            'CheckedLoadImageFromFile')
_CROPS = ('RandomResizedCrop', 'mmpretrain.RandomResizedCrop')


def _spectral_noise(rng: np.random.Generator, height: int, width: int,
                    exponent: float) -> np.ndarray:
    """Unit-variance noise whose amplitude falls as ``1 / f ** exponent``."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freq = np.hypot(fx, fy)
    freq[0, 0] = 1.
    spectrum = (rng.standard_normal(freq.shape)
                + 1j * rng.standard_normal(freq.shape)) / freq ** exponent
    spectrum[0, 0] = 0.
    noise = np.fft.irfft2(spectrum, s=(height, width))
    return ((noise - noise.mean()) / noise.std()).astype(np.float32)


def natural_frame(rng: np.random.Generator, width: int = 1920,
                  height: int = 1080) -> np.ndarray:
    """An RGB uint8 frame with the statistics that make JPEGs of photos
    costly to decode: 1/f luminance, a few hard-edged regions, slowly
    varying colour and sensor grain."""
    from PIL import Image, ImageDraw
    shapes = Image.new('F', (width, height), 0.)
    draw = ImageDraw.Draw(shapes)
    for _ in range(int(rng.integers(6, 14))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx = rng.uniform(0.02, 0.2) * width
        ry = rng.uniform(0.02, 0.2) * height
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([cx - rx, cy - ry, cx + rx, cy + ry],
              fill=float(rng.normal(0., 1.2)))
    luma = _spectral_noise(rng, height, width, 1.) + np.asarray(shapes)
    chroma = [np.asarray(Image.fromarray(
        _spectral_noise(rng, max(height // 8, 2), max(width // 8, 2), 1.5),
        'F').resize((width, height), Image.BILINEAR)) for _ in range(2)]
    tint = np.stack([chroma[0], chroma[1], -chroma[0] - chroma[1]], -1)
    rgb = (rng.uniform(90, 160, 3).astype(np.float32) + 35 * luma[..., None]
           + 12 * tint + rng.normal(0., 2., (height, width, 1)))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_frames(folder: str, count: int, width: int = 1920,
                 height: int = 1080, quality: int = 90,
                 seed: int = 0) -> List[str]:
    """Write ``count`` JPEG frames (:func:`natural_frame`) into ``folder``;
    return their paths."""
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = osp.join(folder, f'frame_{index:05d}.jpg')
        Image.fromarray(natural_frame(rng, width, height)).save(
            path, quality=quality)
        paths.append(path)
    return paths


def _frame_sizes(paths: Sequence[str]) -> List[str]:
    """The distinct ``WxH`` of the images, most frequent first."""
    from PIL import Image
    sizes: Counter = Counter()
    for path in paths:
        with Image.open(path) as img:
            sizes['{}x{}'.format(*img.size)] += 1
    return [size for size, _ in sizes.most_common()]


def point_at(cfg: Config, folder: str, workers: Optional[int] = None,
             batch_size: Optional[int] = None) -> Config:
    """A prepared copy of ``cfg`` whose train dataset reads every image under
    ``folder`` (``data_root`` set, ``data_prefix`` and any ``ann_file``
    emptied), with ``workers`` / ``batch_size`` where given."""
    cfg = copy.deepcopy(cfg)
    loader = cfg.train_dataloader
    dataset = innermost_dataset(loader.dataset)
    dataset['data_root'] = folder
    dataset['data_prefix'] = ''
    if dataset.get('ann_file'):
        dataset['ann_file'] = ''
    if workers is not None:
        loader['num_workers'] = workers
    if not loader.get('num_workers'):
        loader['persistent_workers'] = False
    if batch_size is not None:
        loader['batch_size'] = batch_size
    prepare_config(cfg)
    return cfg


def draft_pipeline(pipeline: Sequence[dict]) -> Optional[List[dict]]:
    """``pipeline`` with its image loading replaced by a
    ``DraftLoadImageFromFile`` given the arguments of the
    ``RandomResizedCrop`` right after it; None when no crop follows the
    loading directly (another transform between them could change the
    geometry the reduced decode relies on)."""
    steps = [dict(step) for step in pipeline]
    for index, (load, crop) in enumerate(zip(steps, steps[1:])):
        if load.get('type') in _LOADERS and crop.get('type') in _CROPS:
            args = {k: v for k, v in load.items() if k != 'type'}
            args.update({k: crop[k] for k in ('crop_ratio_range',
                                              'aspect_ratio_range')
                         if k in crop})
            steps[index] = dict(type='DraftLoadImageFromFile',
                                crop_size=crop['scale'], **args)
            return steps
    return None


@contextlib.contextmanager
def _running(cfg: Config) -> Iterator[Tuple[Any, Iterator[dict]]]:
    """The train dataloader of ``cfg`` and an endless iterator over it; on
    exit its workers are shut down (the loader's dataset and collate stay
    usable)."""
    from mmengine.runner import Runner

    def endless() -> Iterator[dict]:
        while True:
            yield from loader

    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches = endless()
    try:
        yield loader, batches
    finally:
        batches.close()
        if getattr(loader, '_iterator', None) is not None:
            loader._iterator = None  # a persistent workers' iterator
        gc.collect()


def _drain(loader: Any, batches: Iterator[dict]) -> None:
    """Take what the workers have prefetched, so that what is timed next is
    what they make meanwhile."""
    for _ in range(loader.num_workers * (loader.prefetch_factor or 0)):
        next(batches)


def time_batches(batches: Iterator[dict], loader: Any, count: int,
                 warmup: int) -> float:
    """Seconds for ``count`` batches of a started loader, after ``warmup``
    batches (worker start-up) and its prefetched ones."""
    for _ in range(warmup):
        next(batches)
    _drain(loader, batches)
    with Stopwatch() as watch:
        for _ in range(count):
            next(batches)
    return watch.seconds


def _inner(dataset: Any) -> Any:
    while not hasattr(dataset, 'pipeline') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def _names(transforms: Sequence[Any]) -> List[str]:
    names = [type(t).__name__ for t in transforms]
    return [f'{n} ({i + 1})' if names.count(n) > 1 else n
            for i, n in enumerate(names)]


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch on one thread, as in a dataloader worker."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@_one_thread()
def transform_times(loaders: Dict[str, Any],
                    count: int) -> Dict[str, Dict[str, Any]]:
    """Per loader: milliseconds per image of each transform of its pipeline
    and of its collate, run in this process as a worker runs them (one torch
    thread) on ``count`` images after one untimed image, the loaders taking
    turns on each image; and how many images each decode scale served."""
    datasets = {name: _inner(loader.dataset)
                for name, loader in loaders.items()}
    count = min([count] + [len(d) for d in datasets.values()])
    spent = {name: dict.fromkeys(_names(d.pipeline.transforms) + ['collate'],
                                 0.) for name, d in datasets.items()}
    scales: Dict[str, Counter] = {name: Counter() for name in loaders}
    packed: Dict[str, List[dict]] = {name: [] for name in loaders}
    for index in range(-1, count):  # -1: the untimed first image
        for name, dataset in datasets.items():
            results = dataset.get_data_info(max(index, 0))
            for label, transform in zip(spent[name],
                                        dataset.pipeline.transforms):
                with Stopwatch() as watch:
                    results = transform(results)
                scale = results.pop('decode_scale', None)
                if index >= 0:
                    spent[name][label] += watch.seconds
                    scales[name].update([f'1/{scale}'] if scale else [])
            if index >= 0:
                packed[name].append(results)
    for name, loader in loaders.items():
        loader.collate_fn(packed[name])  # its first call sets up
        with Stopwatch() as watch:
            loader.collate_fn(packed[name])
        spent[name]['collate'] = watch.seconds
    return {name: dict(ms={k: 1000 * v / count for k, v in times.items()},
                       images=count, decode_scales=dict(scales[name]))
            for name, times in spent.items()}


@contextlib.contextmanager
def _quiet_log() -> Iterator[None]:
    """mmengine's INFO lines (per-parameter init and optimiser settings)
    held back."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    try:
        yield
    finally:
        logger.setLevel(level)


def build_train_step(cfg: Config, device: str) -> Callable[[dict], None]:
    """One training step of ``cfg``'s model (with the config's data
    preprocessor) through ``cfg.optim_wrapper``: ``step(batch)``."""
    from mmengine.optim import build_optim_wrapper
    cfg = copy.deepcopy(cfg)
    if cfg.get('data_preprocessor') is not None:
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    with _quiet_log(), \
            DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = build_model(cfg).to(device).train()
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return lambda batch: model.train_step(batch, wrapper)


def _random_batch(batch: dict) -> dict:
    """``batch`` (collated by ``default_collate``, as FCMAE's preprocessor
    needs) with random images of its shape and type."""
    return dict(batch, inputs=torch.randint_like(batch['inputs'], 0, 256))


def _step_rate(step: Callable[[], None], batch_size: int, steps: int,
               warmup: int, device: str) -> Dict[str, float]:
    seconds = time_turns({'step': step}, steps, warmup, device)['step']
    total = sum(seconds)
    return dict(images_per_s=steps * batch_size / total,
                seconds_per_step=total / steps, steps=steps)


def _machine(device: str) -> Dict[str, Any]:
    return dict(cpu_count=os.cpu_count(),
                usable_cpus=len(os.sched_getaffinity(0)),
                torch_threads=torch.get_num_threads(), torch=torch.__version__,
                device=torch.cuda.get_device_name() if device == 'cuda'
                else 'cpu')


def _measure(cfgs: Dict[str, Config], step: Callable[[dict], None],
             batches: int, rounds: int, warmup: int, steps: int,
             profile: int, fed: bool, device: str) -> Dict[str, Any]:
    """Each train dataloader of ``cfgs``, one running at a time, in
    ``rounds`` turns: its rate and (first round, where ``fed``) the step fed
    by it; then, with the workers stopped, the transform times and the step
    alone on random images."""
    batch_size = next(iter(cfgs.values())).train_dataloader.batch_size
    seconds = dict.fromkeys(cfgs, 0.)
    results: Dict[str, Dict[str, Any]] = {name: {} for name in cfgs}
    loaders, template = {}, None
    for round_ in range(rounds):
        for name, cfg in cfgs.items():
            with _running(cfg) as (loaders[name], stream):
                if template is None:
                    template = next(stream)
                    step(template)  # warm-up
                seconds[name] += time_batches(stream, loaders[name], batches,
                                              warmup)
                if fed and not round_:
                    _drain(loaders[name], stream)
                    results[name]['fed_step'] = _step_rate(
                        lambda s=stream: step(next(s)), batch_size, steps, 0,
                        device)
    times = transform_times(loaders, profile)
    random_batch = _random_batch(template)
    alone = _step_rate(lambda: step(random_batch), batch_size, steps, 1,
                       device)
    for name, result in results.items():
        rate = batches * rounds * batch_size / seconds[name]
        result.update(loader=dict(images_per_s=rate, batches=batches * rounds,
                                  seconds=seconds[name]),
                      ratio=rate / alone['images_per_s'],
                      transforms=times[name])
    return dict(crop_size=list(template['inputs'][0].shape[-2:]),
                step=alone, pipelines=results)


def benchmark_loader(config: str, images: Optional[str] = None,
                     frames: int = 64, frame_size: Tuple[int, int] = (1920,
                                                                      1080),
                     workers: Optional[int] = None,
                     batch_size: Optional[int] = None, batches: int = 4,
                     rounds: int = 2, warmup: int = 2, steps: int = 3,
                     profile: int = 16, draft: bool = True, fed: bool = True,
                     device: Optional[str] = None) -> Dict[str, Any]:
    """The loader against the step for ``config`` (see the module docstring).

    Args:
        config: An FCMAE config file.
        images: A folder of frames; None writes ``frames`` synthetic JPEGs
            of ``frame_size`` (w, h) into a temporary folder.
        workers: Loader workers; None: the config's ``num_workers``.
        batch_size: None: the config's.
        batches / rounds / warmup: Each loader is timed over ``rounds``
            turns of ``batches`` batches, after ``warmup`` batches.
        steps: Training steps timed, alone (after one warm-up step) and
            fed by each loader.
        profile: Images the per-transform times are taken on.
        draft: Also measure the pipeline with ``DraftLoadImageFromFile``.
        fed: Also time the step fed by the loader.
        device: Where the step runs; None: CUDA if there is one.
    """
    from mmengine.utils.dl_utils import set_multi_processing
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    raw = Config.fromfile(config)
    # as the Runner sets up training (fork, OpenCV threads)
    set_multi_processing(**raw.get('env_cfg', {}).get('mp_cfg', {}))
    with contextlib.ExitStack() as stack:
        folder = images
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(
                prefix='loader_benchmark_'))
            write_frames(folder, frames, *frame_size)
        paths = list_images(folder)
        cfg = point_at(raw, folder, workers, batch_size)
        report: Dict[str, Any] = dict(
            config=config, images=images, synthetic=images is None,
            frames=len(paths), frame_sizes=_frame_sizes(paths),
            batch_size=cfg.train_dataloader.batch_size,
            workers=cfg.train_dataloader.get('num_workers', 0),
            config_workers=raw.train_dataloader.get('num_workers', 0),
            machine=_machine(device))
        cfgs = {'config': cfg}
        pipeline = innermost_dataset(cfg.train_dataloader.dataset).pipeline
        drafted = draft_pipeline(pipeline) if draft else None
        if draft and drafted is None:
            report['draft_skipped'] = ('no RandomResizedCrop directly after '
                                       'the image loading')
        if drafted is not None:
            cfgs['draft'] = copy.deepcopy(cfg)
            innermost_dataset(cfgs['draft'].train_dataloader.dataset)[
                'pipeline'] = drafted
        report.update(_measure(cfgs, build_train_step(cfg, device), batches,
                               rounds, warmup, steps, profile, fed, device))
    return report


_TITLES = {'config': "the config's pipeline",
           'draft': 'with DraftLoadImageFromFile'}


def format_report(report: Dict[str, Any]) -> str:
    """The report as Markdown: the set-up, a table of loader and step
    rates per pipeline, and the per-transform times."""
    machine, step = report['machine'], report['step']
    source = (f'{report["frames"]} synthetic JPEG frames (temporary folder)'
              if report['synthetic'] else
              f'{report["frames"]} images under {report["images"]}')
    workers = report['workers']
    whose = ("the config's" if workers == report['config_workers']
             else f"the config has {report['config_workers']}")
    lines = [
        f'# FCMAE data pipeline against the training step: '
        f'{report["config"]}', '',
        f'- frames: {source}, {", ".join(report["frame_sizes"])}',
        f'- batch {report["batch_size"]}, crops '
        f'{"x".join(map(str, report["crop_size"]))}; loader workers: '
        f'{workers} ({whose})',
        f'- machine: {machine["cpu_count"]} CPUs ({machine["usable_cpus"]} '
        f'usable), torch {machine["torch"]}, {machine["torch_threads"]} '
        f'thread(s) in the main process, step on {machine["device"]}',
        f'- training step (train_step through the config\'s optim wrapper, '
        f'random images): {step["images_per_s"]:.1f} img/s '
        f'({step["seconds_per_step"]:.2f} s per step, {step["steps"]} steps '
        f'after 1 warm-up)', '',
        '| pipeline | loader img/s | loader / step | step fed by the loader '
        'img/s |', '|---|---:|---:|---:|']
    for key, result in report['pipelines'].items():
        fed = result.get('fed_step')
        cells = [_TITLES.get(key, key),
                 f'{result["loader"]["images_per_s"]:.1f}',
                 f'{result["ratio"]:.2f}',
                 f'{fed["images_per_s"]:.1f}' if fed else '-']
        lines.append('| ' + ' | '.join(cells) + ' |')
    if report.get('draft_skipped'):
        lines.append(f'\n(no reduced decode: {report["draft_skipped"]})')
    lines += ['', 'Per image, in the main process on one torch thread as in a '
              'worker (ms):', '']
    for key, result in report['pipelines'].items():
        timed = result['transforms']
        parts = ' | '.join(f'{name} {ms:.1f}'
                           for name, ms in timed['ms'].items())
        scales = ', '.join(f'{n} at {s}' for s, n in
                           sorted(timed['decode_scales'].items()))
        lines.append(f'- {_TITLES.get(key, key)}: {parts}'
                     + (f' (decoded: {scales})' if scales else ''))
    return '\n'.join(lines)
