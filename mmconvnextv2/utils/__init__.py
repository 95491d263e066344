"""One copy of each small helper the package, its tools and tests share."""
from .benchmark import Stopwatch, synchronize, time_turns
from .config import config_dicts, innermost_dataset, revert_sync_bn
from .display import display_rgb, parse_bands
from .errors import exit_on_reported_errors, one_line, reported_errors
from .fileio import (POINTER, TMP_MARK, AtomicWriteError, read_json,
                     read_pointer, write_atomically, write_json,
                     write_via_temp)
from .loss_step import det_inputs, loss_step, reid_inputs, seg_inputs
from .models import build_model, quiet_init
from .paths import IMAGE_EXTENSIONS, is_image_file, is_remote, list_images

__all__ = [
    'Stopwatch', 'synchronize', 'time_turns', 'config_dicts',
    'innermost_dataset', 'revert_sync_bn', 'display_rgb', 'parse_bands',
    'exit_on_reported_errors',
    'one_line', 'reported_errors', 'POINTER', 'TMP_MARK', 'AtomicWriteError',
    'read_json', 'read_pointer', 'write_atomically', 'write_json',
    'write_via_temp',
    'build_model', 'quiet_init', 'det_inputs', 'loss_step', 'reid_inputs',
    'seg_inputs', 'IMAGE_EXTENSIONS', 'is_image_file',
    'is_remote', 'list_images'
]
