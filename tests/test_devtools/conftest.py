"""Shared by the dev-tooling tests: the repository root, one ``--help``
cache for the whole test session (each tool's ``--help`` runs once) and a
cache of given ``--help`` texts."""
import os.path as osp
import sys

import pytest

from mmconvnextv2.devtools.command_checks import HelpCache

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def repo_root() -> str:
    return ROOT


@pytest.fixture(scope='session')
def help_cache() -> HelpCache:
    return HelpCache(ROOT, python=sys.executable)


class FakeHelps(HelpCache):
    """``--help`` texts given, not run; a script without one fails."""

    def __init__(self, texts):
        super().__init__('.')
        self.table = texts

    def text(self, script):
        if script not in self.table:
            raise RuntimeError(f'{script} --help exited 1: boom')
        return self.table[script]


@pytest.fixture
def fake_helps():
    """:class:`FakeHelps` of ``{script: help text}``."""
    return FakeHelps
