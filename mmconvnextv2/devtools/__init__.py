"""Developer tooling, apart from the runtime: the documentation's command
and config checker (:mod:`.doc_commands`) and the check of mmcv's compiled
ops that the install runs (:mod:`.ops_check`). No product module imports
this package; each module runs with ``python -m mmconvnextv2.devtools.<name>``.
"""
