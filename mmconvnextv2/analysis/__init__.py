"""Studies that drive the tools: one child-tool runner, schedules, metric
and log readers, summaries (mean +- std, tables, plots)."""

from .collapse_metric import channel_distance  # noqa: F401
from .feature_collapse import feature_collapse  # noqa: F401
