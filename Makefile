# The README's commands. Each installs the environment first when .venv is missing.
#   make quickstart   FCMAE pre-training -> Mask R-CNN + UperNet -> mAP / mIoU table
#   make test         the test suite
#   make payoff       the seeded FCMAE payoff study of the quickstart's setting
#   make collapse     ConvNeXt V1 vs V2 feature collapse under FCMAE
#   make codesign     V1-FCMAE vs V2-FCMAE vs random init, downstream, over seeds
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install quickstart payoff collapse codesign test docs clean

$(VENV)/.installed: setup.py tools/install.sh
	bash tools/install.sh

install: $(VENV)/.installed

quickstart: install
	$(PY) tools/quickstart.py $(ARGS)

payoff: install
	$(PY) tools/quickstart.py --payoff $(ARGS)

collapse: install
	$(PY) tools/analysis_tools/collapse_study.py $(ARGS)

codesign: install
	$(PY) tools/analysis_tools/codesign_study.py $(ARGS)

# two pytest-xdist workers, each test file whole on one (its module fixtures
# made once); PYTEST_ARGS="-n 0" runs in one process
test: install
	$(PY) -m pytest tests -q -ra --durations=15 -n 2 --dist loadfile $(PYTEST_ARGS)

docs: install
	$(PY) -m sphinx -b html -W --keep-going -n docs docs/_build/html

clean:
	rm -rf work_dirs/quickstart
