from .grn import GRN
from .visible_set import VisibleSet

__all__ = ['GRN', 'VisibleSet']
