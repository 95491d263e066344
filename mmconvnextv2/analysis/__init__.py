"""The studies: the lab beside the toolkit. They drive the tools
(``tools/train.py``, ``tools/test.py`` ...) and measure; no product module
imports them (tests/test_analysis/test_layering.py), and they ship in the
wheel so that an installed package runs them too (``tools/analysis_tools/``,
``tools/quickstart.py``). What they found lives in ``docs/`` and in the
files they write, not here.

* the shared machinery: :mod:`.runner` (the child-tool runner),
  :mod:`.schedule` (jobs on workers), :mod:`.progress` (the console board),
  :mod:`.results` (metric and log readers), :mod:`.summary` (mean +- std,
  tables, plots);
* the payoff study (:mod:`.payoff`) and the quickstart on it
  (:mod:`.quickstart` the plan, :mod:`.quickstart_run`,
  :mod:`.quickstart_report`, :mod:`.quickstart_collapse`,
  :mod:`.quickstart_pictures`, :mod:`.quickstart_sweep` the learning-rate
  sweep; on your own data :mod:`.quickstart_data` the plan,
  :mod:`.quickstart_split` what it trains on, :mod:`.quickstart_data_run`);
* feature collapse (:mod:`.collapse_metric`, :mod:`.collapse_backbones`,
  :mod:`.collapse_taps`, :mod:`.collapse_report`, :mod:`.feature_collapse`)
  and the V1-vs-V2 collapse study (:mod:`.collapse_frames`,
  :mod:`.collapse_pretrain`, :mod:`.collapse_study`,
  :mod:`.collapse_study_report`);
* the codesign study (:mod:`.codesign`, :mod:`.codesign_report`);
* the swap family sweep (:mod:`.swap_sweep`, :mod:`.swap_sweep_report`);
* measurements: :mod:`.benchmarks`, :mod:`.fcmae_flops`, :mod:`.step_profile`,
  the GPU check (:mod:`.gpu_check`, :mod:`.gpu_items`,
  :mod:`.gpu_train_steps`, :mod:`.gpu_timing`) and the kill check
  (:mod:`.kill_resume`).
"""
