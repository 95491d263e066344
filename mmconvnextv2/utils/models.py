"""Building a model from a config."""
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

__all__ = ['build_model', 'quiet_init']


def build_model(cfg: Config, init: bool = True) -> torch.nn.Module:
    """Build (and by default initialise) ``cfg.model`` in the config's scope,
    without leaving that scope set for the caller."""
    from mmengine.registry import MODELS
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        with MODELS.switch_scope_and_registry(cfg.get('default_scope')) \
                as models:
            model = models.build(cfg.model)
        if init:
            model.init_weights()
    return model


def quiet_init(model: torch.nn.Module) -> None:
    """Initialise ``model`` without mmengine's per-parameter INFO log."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
