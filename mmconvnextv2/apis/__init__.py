"""High-level APIs: inference on images and folders, ONNX export."""
from .export import *  # noqa: F401,F403
from .inference import *  # noqa: F401,F403
from .model_loading import *  # noqa: F401,F403
from .predictors import *  # noqa: F401,F403
