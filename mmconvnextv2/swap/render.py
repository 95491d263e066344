"""The written config: a short file that inherits the original and states
only what the swap changes, as config Python."""
from typing import Any, List

from .plan import SwapResult

__all__ = ['format_value', 'render']


def format_value(value: Any, indent: int = 0, column: int = 0,
                 width: int = 79) -> str:
    """``value`` as config Python (``dict(k=v)``, lists, tuples) starting at
    ``column`` of a line indented by ``indent``: on that line when it fits in
    ``width`` columns, else one item per line, indented 4 more."""
    if isinstance(value, dict):
        named = all(isinstance(k, str) and k.isidentifier() for k in value)
        heads = [f'{k}=' if named else f'{k!r}: ' for k in value]
        values = list(value.values())
        opening, closing = ('dict(', ')') if named else ('{', '}')
    elif isinstance(value, (list, tuple)):
        heads, values = [''] * len(value), list(value)
        opening, closing = ('[', ']') if isinstance(value, list) else ('(', ')')
    else:
        return repr(value)
    trail = ',' if isinstance(value, tuple) and len(value) == 1 else ''
    flat = [h + format_value(v, indent + 4, width=10**6)
            for h, v in zip(heads, values)]
    on_one_line = opening + ', '.join(flat) + trail + closing
    if column + len(on_one_line) <= width:
        return on_one_line
    pad = ' ' * (indent + 4)
    items = [pad + h + format_value(v, indent + 4, indent + 4 + len(h), width)
             for h, v in zip(heads, values)]
    return opening + '\n' + ',\n'.join(items) + trail + closing


def _wrap_comment(lines: List[str], width: int = 79) -> List[str]:
    """Comment lines cut at spaces to ``width`` columns (``#   `` goes on)."""
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(' ', 0, width)
            if cut <= 4:
                break
            out.append(line[:cut])
            line = '#   ' + line[cut + 1:]
        out.append(line)
    return out


def render(result: SwapResult) -> str:
    """The written config: a header, ``_base_`` and the changed values."""
    arch = result.arch if isinstance(result.arch, str) else 'custom'
    lines = [
        f'# ConvNeXt V2-{arch} swapped into {result.base}',
        '# (tools/misc/swap_backbone.py); everything else is inherited.',
        '# Changed: ' + ', '.join(dict.fromkeys(c.name for c in result.changes)),
    ]
    lines = _wrap_comment(lines)
    lines += [f'_base_ = [{result.base!r}]', '']
    for key, value in result.overrides.items():
        lines += [f'{key} = {format_value(value, 0, len(key) + 3)}', '']
    for note in result.notes:
        lines += _wrap_comment([f'# Note: {note}'])
    return '\n'.join(lines) + '\n'
