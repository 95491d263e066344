"""Run the ``--help`` of several scripts in one Python process.

``python help_texts.py ROOT OUT.json SCRIPT...`` runs each ``ROOT/SCRIPT``
as ``__main__`` with the argument ``--help`` (its folder first on
``sys.path``, as ``python SCRIPT`` has it) and writes
``{script: [exit code, stdout, stderr]}`` to ``OUT.json``. The scripts share
the process, so the heavy imports most of them start with (torch,
OpenMMLab) are paid once. Standard library only: it runs by its file path,
without the package on ``sys.path``.
"""
import contextlib
import io
import json
import os.path as osp
import runpy
import sys
from typing import List, Tuple

__all__ = ['run_help', 'main']


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run_help(script: str, root: str) -> Tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``python ROOT/SCRIPT --help``,
    run in this process."""
    path = osp.join(root, script)
    saved_argv, saved_path = sys.argv, list(sys.path)
    out, err = io.StringIO(), io.StringIO()
    sys.argv = [path, '--help']
    sys.path.insert(0, osp.dirname(osp.abspath(path)))
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        code = _exit_code(e.code)
    except BaseException as e:  # a script that fails on import, say
        code = 1
        err.write(f'{type(e).__name__}: {e}\n')
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return code, out.getvalue(), err.getvalue()


def main(argv: List[str]) -> None:
    root, out, *scripts = argv
    texts = {script: run_help(script, root) for script in scripts}
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(texts, f)


if __name__ == '__main__':
    main(sys.argv[1:])
