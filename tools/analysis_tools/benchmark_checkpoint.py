"""What atomic checkpoints cost: mmengine's plain save against ours, one process.

Both write the same checkpoint dict (a config's model weights, its AdamW
state after one step, meta) through ``mmengine.runner.save_checkpoint``:
once with mmengine's local backend (``open(path, 'wb').write``), once with
``backend='atomic_local'`` (temporary file, fsync, rename, folder fsync),
which :class:`~mmconvnextv2.engine.AtomicCheckpointHook` uses. The two take
turns in every round; the script prints each one's median time, the extra
milliseconds per checkpoint and the ratio.

Example::

    python tools/analysis_tools/benchmark_checkpoint.py \
        configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py --rounds 7
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint

import mmconvnextv2  # noqa: F401  (registers the 'atomic_local' backend)
from mmconvnextv2.runtime import drop_pretrained
from mmconvnextv2.utils import build_model, time_turns

BACKENDS = {'mmengine (plain)': dict(backend='local'),
            'ours (atomic)': dict(backend='atomic_local')}


def make_checkpoint(config: str) -> dict:
    """The dict a Runner would save after one AdamW step of ``config``'s
    model (random weights; the optimizer state doubles the size, as in
    training)."""
    cfg = Config.fromfile(config)
    drop_pretrained(cfg.model)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = build_model(cfg, init=False)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optim.step()
    return dict(meta=dict(epoch=0, iter=1), state_dict=model.state_dict(),
                optimizer=optim.state_dict())


def benchmark(checkpoint: dict, folder: str, rounds: int,
              warmup: int = 1) -> Dict[str, List[float]]:
    """Seconds per save of each backend; they take turns in every round."""
    def save(i: int, backend: dict) -> Callable[[], None]:
        path = osp.join(folder, f'ckpt_{i}.pth')
        return lambda: save_checkpoint(checkpoint, path, backend_args=backend)

    return time_turns({name: save(i, backend) for i, (name, backend)
                       in enumerate(BACKENDS.items())}, rounds, warmup)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='any config of this project')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--dir', default=None,
                        help='folder to write in (default: a temporary one; '
                        'put it on the filesystem your work_dirs live on)')
    args = parser.parse_args(argv)
    checkpoint = make_checkpoint(args.config)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        times = benchmark(checkpoint, folder, args.rounds)
        size = os.path.getsize(osp.join(folder, 'ckpt_0.pth')) / 2**20
    plain = statistics.median(times['mmengine (plain)'])
    print(f'{osp.basename(args.config)}: checkpoint of {size:.1f} MiB '
          f'(weights + AdamW state), {args.rounds} rounds, median')
    for name, t in times.items():
        med = statistics.median(t)
        print(f'{name:18s} {med * 1000:8.1f} ms  ({min(t) * 1000:.1f} to '
              f'{max(t) * 1000:.1f})  {med / plain:5.2f}x plain')
    extra = statistics.median(times['ours (atomic)']) - plain
    print(f'atomic saving costs {extra * 1000:+.1f} ms per checkpoint')


if __name__ == '__main__':
    main()
