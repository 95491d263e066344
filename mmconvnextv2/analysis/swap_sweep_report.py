"""The swap family sweep's table (:mod:`.swap_sweep` measures the rows):
the rate of families swapped and checked, the failures, the skipped
families and one row per family, in Markdown."""
from typing import Dict, List, Sequence

__all__ = ['markdown']


def _detail(row: Dict) -> str:
    """The detail column: size and changes of a pass, else the reason."""
    if row['status'] == 'ok':
        detail = (f'{row["params"] / 1e6:.1f}M params, {row["size"]} px, '
                  f'{len(row["changed"])} fields changed'
                  + (f', trained {row["trained"]}'
                     if row.get('trained', 'model') != 'model' else ''))
    else:
        detail = row.get('reason', '')
        if row.get('original_step'):
            detail += f' (original on CPU: {row["original_step"]})'
    return detail.replace('|', '\\|')


def _summary(rows: List[Dict], size: int, retry: Sequence[int]) -> List[str]:
    """The rate, the failures and the skipped families, as lines."""
    built = [r for r in rows if r['status'] != 'skipped']
    ok = [r for r in built if r['status'] == 'ok']
    rate = len(ok) / len(built) if built else 0.
    failures = [r for r in built if r['status'] != 'ok']
    lines = [
        f'Swapped (ConvNeXt V2-atto) and checked (CPU build + one loss step, '
        f'batch 2, {size} px, or {" / ".join(map(str, retry))} px where '
        f'{size} is too small for the head): **{len(ok)} / {len(built)} families = '
        f'{100 * rate:.1f}%** of those whose original model builds on CPU '
        f'({len(rows) - len(built)} of {len(rows)} families skipped: their '
        'original does not build here or the folder has no model config).',
        '',
        f'Failures ({len(failures)}):', '']
    lines += [f'- {r["family"]}: {r["status"]}: {r.get("reason", "")}'
              + (f' (original on CPU: {r["original_step"]})'
                 if r.get('original_step') else '') for r in failures]
    lines += ['', 'Skipped:', '']
    lines += [f'- {r["family"]}: {r.get("reason", "")}'
              for r in rows if r['status'] == 'skipped']
    return lines


def markdown(rows: List[Dict], size: int, retry: Sequence[int]) -> str:
    """The table, its rate and the failures."""
    table = ['| family | config | result | detail |', '|---|---|---|---|']
    table += [f'| {r["family"]} | {(r.get("config") or "").split("/", 1)[-1]} '
              f'| {r["status"]} | {_detail(r)} |' for r in rows]
    return '\n'.join(_summary(rows, size, retry) + [''] + table) + '\n'
