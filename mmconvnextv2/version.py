"""The version of mmconvnextv2, read by ``setup.py`` (without importing the
package) and exported as ``mmconvnextv2.__version__``."""

__version__ = '0.1.0'


def parse_version_info(version: str) -> tuple:
    """``'1.2.3rc1'`` -> ``(1, 2, 3, 'rc1')``: integers, then any suffix."""
    parts = []
    for part in version.split('.'):
        if part.isdigit():
            parts.append(int(part))
        else:
            head = len(part) - len(part.lstrip('0123456789'))
            if head:
                parts.append(int(part[:head]))
            parts.append(part[head:])
    return tuple(parts)


version_info = parse_version_info(__version__)
