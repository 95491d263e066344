"""Shared by the docs tests: the repository root and one ``--help`` cache
for the whole test session (each tool's ``--help`` runs once)."""
import os.path as osp
import sys

import pytest

from mmconvnextv2.utils.doc_commands import HelpCache

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def repo_root() -> str:
    return ROOT


@pytest.fixture(scope='session')
def help_cache() -> HelpCache:
    return HelpCache(ROOT, python=sys.executable)
