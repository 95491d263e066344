"""Studies that drive the tools: one child-tool runner, schedules, metric
and log readers, summaries (mean +- std, tables, plots)."""
