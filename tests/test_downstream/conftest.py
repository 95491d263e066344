"""One intra-op thread for the downstream tests.

The machine's 2 cores are shared with other jobs; with 2 threads, each of the
backbone's many small ops waits at a barrier for a descheduled thread, which
made an atto forward/backward 60x slower (4.6 s instead of 0.07 s)."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

