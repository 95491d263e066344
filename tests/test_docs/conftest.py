"""Shared by the docs tests: the repository root."""
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def repo_root() -> str:
    return ROOT
