"""Split records into train and val by a seeded fraction, optionally keeping
frames that share a name prefix on one side.

The prefix of a file name is its path without the extension and without the
trailing frame number (and the separators before it): ``video3image0012.jpg``
-> ``video3image``, ``scan12_004.png`` -> ``scan12``, ``seq1/0007.png`` ->
``seq1/``. Near-duplicate frames of one sequence then never end up on both
sides.
"""
import posixpath
import random
import re
from collections import defaultdict
from typing import Any, Dict, List, Tuple

from .records import DatasetImportError

__all__ = ['name_prefix', 'split_by_fraction']

_FRAME_NUMBER = re.compile(r'[\s._-]*\d+[\s._-]*$')


def name_prefix(file_name: str) -> str:
    """``file_name`` without its extension and trailing frame number."""
    stem = posixpath.splitext(file_name.replace('\\', '/'))[0]
    return _FRAME_NUMBER.sub('', stem)


def split_by_fraction(items: List[Any], names: List[str], fraction: float,
                      seed: int = 0, group_by_prefix: bool = False
                      ) -> Tuple[List[Any], List[Any]]:
    """``(train, val)``: about ``fraction`` of ``items`` in val, the same
    for the same ``seed``, ``names`` and ``fraction``.

    Args:
        items: What is split (any objects), in any order.
        names: Their file names (the order of the split does not depend on
            the order of ``items``).
        fraction: Share of val, in [0, 1).
        seed: Seed of the shuffle.
        group_by_prefix: Keep items with the same :func:`name_prefix`
            together; val then holds whole groups, as close to the fraction
            as they allow.

    Raises:
        DatasetImportError: The fraction is out of range, or the groups
            cannot give both sides at least one image.
    """
    if not 0 <= fraction < 1:
        raise DatasetImportError(
            f'--val-fraction must be in [0, 1), got {fraction}')
    groups: Dict[str, List[int]] = defaultdict(list)
    for index, name in enumerate(names):
        key = name_prefix(name) if group_by_prefix else name
        groups[key].append(index)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    target = round(fraction * len(items))
    if fraction > 0 and len(items) >= 2:
        target = max(target, 1)
    in_val = set()
    count = 0
    for key in keys:
        size = len(groups[key])
        if abs(count + size - target) < abs(count - target):
            in_val.update(groups[key])
            count += size
    if target and (count == 0 or count == len(items)):
        largest = max(len(group) for group in groups.values())
        raise DatasetImportError(
            f'cannot split {len(items)} images into train and val with '
            f'--val-fraction {fraction}: they form {len(groups)} name '
            f'group(s), the largest of {largest} images; use another '
            f'fraction, --val, or no --group-by-prefix')
    train = [item for i, item in enumerate(items) if i not in in_val]
    val = [item for i, item in enumerate(items) if i in in_val]
    return train, val
