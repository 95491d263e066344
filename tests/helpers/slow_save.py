"""Run tools/train.py with the atomic writer slowed down (test helper).

    python tests/helpers/slow_save.py MATCH tools/train.py ARGS...

Writes of a file whose name contains MATCH go in 1 MiB chunks, 50 ms apart,
after printing ``SLOW-SAVE <path>``: a test can kill the process mid-write.
"""
import os
import runpy
import sys
import time

from mmconvnextv2.utils import fileio as atomic

MATCH = sys.argv[1]
_write_all = atomic._write_all


def _slow_write_all(fd: int, data: memoryview) -> None:
    name = os.readlink(f'/proc/self/fd/{fd}')
    if MATCH not in name:
        return _write_all(fd, data)
    print(f'SLOW-SAVE {name}', flush=True)
    chunk = 1 << 20
    for start in range(0, len(data), chunk):
        _write_all(fd, data[start:start + chunk])
        time.sleep(0.05)


atomic._write_all = _slow_write_all
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name='__main__')
