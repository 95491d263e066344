"""Set-up of the swap package tests (helpers live in tests/helpers/swap.py)."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: the machine's cores are shared (see
    tests/test_downstream/conftest.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
