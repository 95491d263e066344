"""Python source text from config values, for the configs that
:mod:`.config_writer` writes: literals, nested dicts / lists / tuples
wrapped to fit the line, names and expressions (:class:`Code`), and ``#``
comments."""
import textwrap
from typing import Any, List

__all__ = ['WIDTH', 'Code', 'source', 'comment', 'assign']

#: The longest line written (as PEP 8 and yapf in OpenMMLab).
WIDTH = 79

# --------------------------------------------------------------------------
class Code(str):
    """Source text written as it is: a variable name or an expression."""


def _flat(value: Any) -> str:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_flat(v)}'
                                   for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(_flat(v) for v in value) + ']'
    if isinstance(value, tuple):
        inner = ', '.join(_flat(v) for v in value)
        return f'({inner},)' if len(value) == 1 else f'({inner})'
    if isinstance(value, float):  # significant digits: small bands' stats
        return repr(float(f'{value:.10g}'))
    return repr(value)


def source(value: Any, indent: int = 0, used: int = 0) -> str:
    """``value`` (dicts, lists, tuples, :class:`Code`, literals) as Python
    source. A container that does not fit in the line (``used`` columns
    taken) continues on lines ``indent + 4`` deep, as many items to a line
    as fit; an item that fits on no line is wrapped the same way."""
    flat = _flat(value)
    if used + len(flat) < WIDTH or not isinstance(value, (dict, list, tuple)) \
            or isinstance(value, Code) or not value:
        return flat
    pad = indent + 4
    if isinstance(value, dict):
        pairs = [(f'{k}=', v) for k, v in value.items()]
        opening, closing = 'dict(', ')'
    else:
        pairs = [('', v) for v in value]
        opening, closing = ('[', ']') if isinstance(value, list) else (
            '(', ',)' if len(value) == 1 else ')')
    lines: List[str] = []
    packed: List[str] = []  # flat items of the current line
    for prefix, item in pairs:
        text = prefix + _flat(item)
        if pad + len(text) + 2 >= WIDTH:  # a line of its own, wrapped
            if packed:
                lines.append(', '.join(packed))
                packed = []
            lines.append(prefix + source(item, pad, pad + len(prefix)))
        elif packed and pad + len(', '.join(packed + [text])) + 2 >= WIDTH:
            lines.append(', '.join(packed))
            packed = [text]
        else:
            packed.append(text)
    if packed:
        lines.append(', '.join(packed))
    return opening + '\n' + ',\n'.join(' ' * pad + line
                                       for line in lines) + closing


def comment(text: str) -> List[str]:
    """``text`` as ``#`` lines of at most :data:`WIDTH` columns (a line
    that starts with a space, a command, is kept as it is)."""
    lines = []
    for paragraph in text.split('\n'):
        lines += [paragraph] if paragraph.startswith(' ') else \
            textwrap.wrap(paragraph, WIDTH - 2, break_on_hyphens=False) or ['']
    return [f'# {line}'.rstrip() for line in lines]


def assign(name: str, value: Any, note: str = '') -> str:
    """``name = value``, after ``note`` as comment lines (if any)."""
    lines = comment(note) if note else []
    lines.append(f'{name} = ' + source(value, 0, len(name) + 3))
    return '\n'.join(lines)
