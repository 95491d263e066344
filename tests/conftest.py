"""Shared test set-up: register our modules and keep torch single-threaded-ish."""
import torch

import mmconvnextv2  # noqa: F401  (registers modules in mmpretrain's registries)

torch.set_num_threads(2)
