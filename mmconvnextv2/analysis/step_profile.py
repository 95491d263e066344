"""Where a training step's time goes, per module.

Each module down to ``depth`` levels below the model has its ``forward``
and ``loss`` methods wrapped by a timer (heads are called through ``loss``,
which calls ``forward`` directly: hooks would miss them; a call nested in
one already timed for the same module is not counted twice); the whole step
(data preprocessing, forward, backward) is timed around it. Backward time is not
split by module (autograd runs it outside the modules' hooks): the report
gives it as one line.
"""
import time
from collections import defaultdict
from typing import Dict, List, Tuple

import torch
from mmengine.config import Config

from ..utils.loss_step import det_inputs, seg_inputs
from ..utils.models import build_model, quiet_init
from ..utils.config import revert_sync_bn

__all__ = ['profile_step', 'format_profile']


def _timed_modules(model: torch.nn.Module, depth: int
                   ) -> List[Tuple[str, torch.nn.Module]]:
    return [(name, module) for name, module in model.named_modules()
            if name and name.count('.') < depth
            and name != 'data_preprocessor']


def _time_methods(module: torch.nn.Module, name: str,
                  spent: Dict[str, float]) -> None:
    """Wrap ``module.forward`` / ``module.loss`` (instance attributes) so
    that their outermost calls add their wall time to ``spent[name]``."""
    active = [False]
    for method in ('forward', 'loss'):
        original = getattr(module, method, None)
        if original is None:
            continue

        def timed(*args, _original=original, **kwargs):
            if active[0]:
                return _original(*args, **kwargs)
            active[0] = True
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
                active[0] = False

        setattr(module, method, timed)


def _inputs(cfg: Config, size: int, batch: int) -> dict:
    model = cfg.model
    shapes = [(size, size)] * batch
    if cfg.get('default_scope') == 'mmseg':
        return seg_inputs(shapes, model.decode_head.num_classes)
    heads = model.get('roi_head', {})
    num_classes = heads.get('bbox_head', {}).get('num_classes', 80)
    return det_inputs(shapes, num_classes)


def profile_step(cfg: Config, size: int = 128, batch: int = 2,
                 steps: int = 3, depth: int = 2) -> Dict:
    """Mean seconds per training step of ``cfg.model`` on ``batch`` random
    ``size`` x ``size`` inputs (after one warm-up step): the whole step, the
    forward, and each module's forward."""
    cfg = cfg.copy()
    revert_sync_bn(cfg.model)
    model = build_model(cfg, init=False)
    quiet_init(model)
    model.train()
    spent: Dict[str, float] = defaultdict(float)
    for name, module in _timed_modules(model, depth):
        _time_methods(module, name, spent)
    data = _inputs(cfg, size, batch)
    totals = defaultdict(float)
    for step in range(steps + 1):
        if step == 1:
            spent.clear()
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        batch_data = model.data_preprocessor(data, True)
        forward_start = time.perf_counter()
        losses = model(**batch_data, mode='loss')
        loss, _ = model.parse_losses(losses)
        backward_start = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
        if step:
            totals['step'] += end - start
            totals['forward'] += backward_start - forward_start
            totals['backward'] += end - backward_start
    return dict(step=totals['step'] / steps,
                forward=totals['forward'] / steps,
                backward=totals['backward'] / steps,
                modules={k: v / steps for k, v in spent.items()},
                size=size, batch=batch, threads=torch.get_num_threads())


def format_profile(name: str, profile: Dict) -> str:
    """A Markdown table: module, forward ms, share of the step."""
    step = profile['step']
    lines = [f'### {name}: {step * 1e3:.0f} ms per step '
             f'({profile["batch"]} x {profile["size"]} px, '
             f'{profile["threads"]} thread(s))', '',
             '| part | ms | share of the step |', '|---|---:|---:|']
    rows = [('forward (all)', profile['forward']),
            ('backward (all)', profile['backward'])]
    rows += sorted(((f'  forward {k}', v) for k, v in
                    profile['modules'].items()), key=lambda r: -r[1])
    for label, seconds in rows:
        lines.append(f'| {label} | {seconds * 1e3:.1f} | '
                     f'{100 * seconds / step:.0f}% |')
    return '\n'.join(lines)
