"""Set-up of the swap package tests (helpers live in tests/helpers/swap.py)."""
from typing import Callable, Dict, Tuple

import pytest
import torch

from mmconvnextv2.swap import SwapResult

from helpers.swap import CASES, swap


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: the machine's cores are shared (see
    tests/test_downstream/conftest.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='session')
def swapped_atto(tmp_path_factory) -> Callable[[str], Tuple[str, SwapResult]]:
    """``swapped_atto(kind)``: the atto swap of ``CASES[kind]`` (the written
    config's path and the result), made once per session: the field tests
    and the one-step checks read the same swap (the swap probes the stock
    model on CPU, a ViT-L for one). Read only: a test that edits the config
    copies it."""
    root = tmp_path_factory.mktemp('swapped')
    made: Dict[str, Tuple[str, SwapResult]] = {}

    def get(kind: str) -> Tuple[str, SwapResult]:
        if kind not in made:
            made[kind] = swap(CASES[kind][0], str(root / kind), arch='atto')
        return made[kind]
    return get
