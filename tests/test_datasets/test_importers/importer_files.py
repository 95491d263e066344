"""Small files in each import format, written by the tests: images with
random pixels (no two alike unless asked), and the helpers the importer
tests share."""
import hashlib
import json
import os
import os.path as osp
import zlib
from types import ModuleType
from typing import Any, Dict, List, Sequence, Set, Tuple

import numpy as np
import pytest
from PIL import Image
from helpers.tools import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'import_dataset.py')

#: The bad-record kinds each format's test provokes (together: all kinds).
EXPECTED_KINDS: Dict[str, Set[str]] = {
    'via': {'polygon', 'outside', 'empty', 'shape', 'no-class',
            'unknown-class', 'path-refused', 'image-missing',
            'image-unreadable', 'duplicate', 'val-only-class',
            'unused-class'},
    'coco': {'polygon', 'outside', 'no-class', 'image-size', 'duplicate',
             'image-missing', 'shape'},
    'labelme': {'shape', 'path-refused', 'image-size', 'polygon',
                'no-class'},
    'voc': {'outside', 'shape', 'no-class', 'image-size', 'empty'},
    'masks': {'mask', 'image-size', 'image-missing', 'val-only-class'},
    'folders': {'image-unreadable', 'duplicate', 'val-only-class',
                'unknown-class'},
}


def write_image(path: str, width: int = 48, height: int = 32,
                mode: str = 'RGB') -> str:
    """An image of random pixels, seeded by its path (so two paths never
    share content)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.encode()))
    shape = (height, width) if mode == 'L' else (height, width, 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def write_bytes(path: str, data: bytes) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def write_json(path: str, data: Any) -> str:
    return write_bytes(path, json.dumps(data).encode())


def write_label_map(path: str, values: np.ndarray, mode: str = 'L') -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = Image.fromarray(values.astype(np.uint8))
    (img.convert('RGB') if mode == 'RGB' else img).save(path)
    return path


def tree_digest(folder: str) -> Dict[str, str]:
    """Relative path -> sha1 of every file under ``folder`` (to show that an
    import changed nothing there)."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = osp.join(root, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = hashlib.sha1(
                    f.read()).hexdigest()
    return out


def load_tool() -> ModuleType:
    return load_script(TOOL)


def assert_bad_records(result, fmt: str,
                       expect: Sequence[Tuple[str, str, str]]) -> None:
    """The import's bad records are exactly ``expect`` (``(file, record,
    part of why)``, one line each, any order), of the kinds the format's
    test provokes."""
    assert set(result.bad.kinds()) == EXPECTED_KINDS[fmt]
    lines = [str(item) for item in result.bad]
    for file, record, why in expect:
        assert any(line.startswith(f'{file}: {record}: ') and why in line
                   for line in lines), (file, record, why, lines)
    assert len(lines) == len(expect), lines


def assert_strict_fails(args: List[str], out: str) -> None:
    """The tool with ``args --out out --strict`` exits with 2 and writes
    nothing."""
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(args + ['--out', out, '--strict'])
    assert exit_info.value.code == 2
    assert not osp.exists(out)


def read_json(path: str) -> Any:
    with open(path) as f:
        return json.load(f)
