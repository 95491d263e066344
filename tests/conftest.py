"""Shared test set-up: register our modules; every test starts in mmpretrain's
default scope (tests that build mmdet/mmseg models set theirs), so a scope
set by one test never leaks into the next.

Threads: the machine's 2 cores, or one per pytest-xdist worker (``-n 2``),
for this process and the tools it starts (OMP_NUM_THREADS)."""
import os

import pytest
import torch
from mmengine.registry import init_default_scope

import mmconvnextv2  # noqa: F401  (registers modules in mmpretrain's registries)

if 'PYTEST_XDIST_WORKER' in os.environ:
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
else:
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    init_default_scope('mmpretrain')


def pytest_configure(config):
    """Register the ``slow`` marker for every test folder (tests that train
    or take more than ~10 s; still in the default run)."""
    config.addinivalue_line(
        'markers', 'slow: trains or takes more than ~10 s (still in the '
        'default run; deselect with -m "not slow")')


def pytest_collection_modifyitems(config, items):
    """Files with a ``slow`` test first, each file's tests in their order:
    pytest-xdist (``--dist loadfile``) hands out files in this order, so
    the long ones start early and the short ones fill the workers' ends."""
    slow_files = {item.path for item in items
                  if item.get_closest_marker('slow')}
    items.sort(key=lambda item: item.path not in slow_files)


# fixtures shared by several folders
from helpers.trained import trained  # noqa: E402,F401
