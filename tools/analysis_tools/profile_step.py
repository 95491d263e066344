"""Profile one training step of a config's model, per module.

    python tools/analysis_tools/profile_step.py CONFIG [CONFIG ...] \
        [--size 128] [--batch 2] [--steps 3] [--depth 2] [--threads 1]

Prints a Markdown table per config: the step, forward and backward times,
and each module's forward time (module depth ``--depth`` below the model).
"""
import argparse
from typing import List, Optional

import torch
from mmengine.config import Config

import mmconvnextv2  # noqa: F401  (registers the backbone)
from mmconvnextv2.analysis.step_profile import format_profile, profile_step


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--depth', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for config in args.configs:
        profile = profile_step(Config.fromfile(config), args.size, args.batch,
                               args.steps, args.depth)
        print(format_profile(config, profile), end='\n\n', flush=True)


if __name__ == '__main__':
    main()
