"""Fixtures for the checkpoint tests (helpers live in tests/helpers/checkpoints.py)."""
from typing import List

import pytest
from mmengine.runner import checkpoint as mm_checkpoint

from mmconvnextv2.checkpoint import loader


class LoadSpy:
    """Records what ``load_backbone_checkpoint`` hands to mmengine."""

    def __init__(self) -> None:
        self.calls: List[dict] = []

    @property
    def missing(self) -> List[str]:
        return self.calls[-1]['missing']

    @property
    def unexpected(self) -> List[str]:
        return self.calls[-1]['unexpected']


@pytest.fixture
def load_spy(monkeypatch) -> LoadSpy:
    """Spy on mmengine's ``load_state_dict`` as called by our loader."""
    spy = LoadSpy()
    original = mm_checkpoint.load_state_dict

    def recording(module, state_dict, strict=False, logger=None):
        own = set(module.state_dict())
        spy.calls.append(dict(missing=sorted(own - set(state_dict)),
                              unexpected=sorted(set(state_dict) - own)))
        return original(module, state_dict, strict=strict, logger=logger)

    monkeypatch.setattr(loader, 'load_state_dict', recording)
    return spy
