from .grn import GRN
from .norm import LayerNorm2d
from .visible_set import VisibleSet

__all__ = ['GRN', 'LayerNorm2d', 'VisibleSet']
