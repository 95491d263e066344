"""High-level APIs: inference on images and folders, ONNX export."""
from .export import *  # noqa: F401,F403
from .inference import *  # noqa: F401,F403
