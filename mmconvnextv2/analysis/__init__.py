"""Studies that drive the tools: one child-tool runner, schedules, metric
and log readers, summaries (mean +- std, tables, plots)."""

from .feature_collapse import channel_distance, feature_collapse  # noqa: F401
