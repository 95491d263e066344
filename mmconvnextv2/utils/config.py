"""Walking OpenMMLab config trees."""
from typing import Any, Iterator

__all__ = ['config_dicts', 'revert_sync_bn', 'innermost_dataset']


def config_dicts(node: Any) -> Iterator[dict]:
    """Every dict in a config tree (dicts, lists, tuples), parents first."""
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from config_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from config_dicts(value)


def revert_sync_bn(node: Any) -> int:
    """Replace every ``SyncBN`` norm type (torch's, and mmcv's ``MMSyncBN``)
    in a config tree by ``BN``; return how many were replaced."""
    found = [d for d in config_dicts(node)
             if d.get('type') in ('SyncBN', 'MMSyncBN')]
    for norm in found:
        norm['type'] = 'BN'
    return len(found)


def innermost_dataset(dataset: dict) -> dict:
    """The dataset config inside any wrappers (``RepeatDataset``,
    ``ClassBalancedDataset``, ...), which hold it under ``dataset``."""
    while isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset
