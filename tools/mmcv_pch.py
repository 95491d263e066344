"""Make mmcv's CPU-op build parse torch's headers once instead of 77 times.

Every one of mmcv 2.1.0's C++ sources starts by including
``pytorch_cpp_helper.hpp`` (torch/types.h, about 7 s of parsing per file on
this machine, C++20). This script, run by tools/install.sh on the unpacked
mmcv source before it is built:

1. writes ``mmcv/ops/csrc/common/mmcv_pch.hpp`` (the two headers every op
   source includes) and compiles it into a GCC precompiled header
   (``mmcv_pch.hpp.gch``), with the flags the extension build will use;
2. makes mmcv's setup.py force-include that header (``-include``) into every
   C++ source, and warn if a source could not use it (``-Winvalid-pch``).

The sources compile to the same code: the precompiled header holds what the
compiler would parse in each file anyway (include guards make the sources'
own includes no-ops). Usage: ``python tools/mmcv_pch.py MMCV_SOURCE_DIR``.
"""
import os
import os.path as osp
import subprocess
import sys
import sysconfig
import time

HEADERS = ('pytorch_cpp_helper.hpp', 'pytorch_device_registry.hpp')
# what mmcv's setup.py adds after the include dirs (torch's cpp_extension
# appends the last two)
POST_FLAGS = ['-std=c++20', '-DTORCH_API_INCLUDE_EXTENSION_H',
              '-DTORCH_EXTENSION_NAME=_ext']


def compile_flags(common: str) -> list:
    """The flags of the extension build's compile rule: distutils' compiler
    command (Python's CFLAGS plus $CFLAGS), the include dirs, the post flags."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler
    from torch.utils.cpp_extension import include_paths
    compiler = new_compiler()
    customize_compiler(compiler)
    includes = [common, *include_paths(), osp.join(sys.prefix, 'include'),
                sysconfig.get_paths()['include']]
    return [*compiler.compiler_so[1:], *(f'-I{d}' for d in includes)]


def main(source: str) -> None:
    common = osp.abspath(osp.join(source, 'mmcv', 'ops', 'csrc', 'common'))
    header = osp.join(common, 'mmcv_pch.hpp')
    with open(header, 'w') as f:
        f.write(''.join(f'#include "{h}"\n' for h in HEADERS))
    start = time.time()
    done = subprocess.run(['c++', *compile_flags(common), '-x', 'c++-header',
                           header, '-o', header + '.gch', *POST_FLAGS],
                          capture_output=True, text=True)
    if done.returncode:  # (torch's headers warn under -Wall: shown on failure)
        raise SystemExit(f'precompiling {header} failed:\n{done.stderr[-3000:]}')
    print(f'precompiled {header} in {time.time() - start:.0f} s')

    setup = osp.join(source, 'setup.py')
    with open(setup) as f:
        text = f.read()
    old = "extra_compile_args['cxx'] = ['-std=c++20']"
    if old not in text:
        raise SystemExit(f'{setup}: no line {old!r} to extend (run after the '
                         'C++20 patch, on mmcv 2.1.0)')
    new = (f"extra_compile_args['cxx'] = ['-std=c++20', '-include', "
           f"{header!r}, '-Winvalid-pch']")
    with open(setup, 'w') as f:
        f.write(text.replace(old, new))


if __name__ == '__main__':
    if len(sys.argv) != 2 or not osp.isdir(sys.argv[1]):
        raise SystemExit('usage: python tools/mmcv_pch.py MMCV_SOURCE_DIR')
    main(sys.argv[1])
