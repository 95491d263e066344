#!/usr/bin/env bash
# Create .venv at the repository root with the whole OpenMMLab stack, CPU ops compiled.
#
# Idempotent: re-running it on a ready .venv only re-installs this package.
# The compiled mmcv wheel is cached outside the clone ($MMCV_WHEEL_CACHE,
# default ~/.cache/mmconvnextv2) so that a second install takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
CACHE="${MMCV_WHEEL_CACHE:-$HOME/.cache/mmconvnextv2}"

# --- pins, and why ---------------------------------------------------------
# torch 2.14.1 / torchvision 0.29.1: the pair whose wheels match each other on this
#   machine (torch 2.13's CPU file cannot load PyPI's torchvision ops, which mmpretrain imports).
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
# mmcv 2.1.0: mmdet 3.3.0 and mmsegmentation 1.2.2 refuse mmcv>=2.2, and 2.1.0 is
#   published as source only, so we compile it (CPU ops) once and cache the wheel.
MMCV_VERSION=2.1.0
# setuptools >=77.0.3 (torch's floor) and <81: mmengine resolves `mmdet::`/`mmseg::`
#   config bases through pkg_resources, which setuptools 81 removed.
SETUPTOOLS_PIN='setuptools>=77.0.3,<81'
# The OpenMMLab releases this project is tested against (setup.py keeps the ranges).
OPENMMLAB_PINS=(mmengine==0.10.7 mmdet==3.3.0 mmsegmentation==1.2.2 mmpretrain==1.2.0)
# openmim 0.3.9 (the latest release): OpenMMLab's launcher, `mim train/test/run/
#   search mmconvnextv2 ...`, as users of the installed package call it.
# build 1.6.1: the standard builder, `python -m build`. tests/test_packaging
#   builds the wheel and sdist with both and runs mim on the installed wheel.
PACKAGING_PINS=(openmim==0.3.9 build==1.6.1)

# Every command's own output (pip's resolver, the mmcv compiler's warnings) goes to
# $LOG; the console gets one line per step, like the quickstart's board. A failed
# step prints its last lines and the log's path.
LOG="${INSTALL_LOG:-$ROOT/work_dirs/install.log}"
mkdir -p "$(dirname "$LOG")"
: > "$LOG"
log() { printf '[install %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
step() {  # step "what" command...: run quietly, one line to the console
  local what="$1" t0; shift; t0=$(date +%s)
  printf '\n### %s: %s\n' "$what" "$*" >> "$LOG"
  if ! "$@" >> "$LOG" 2>&1; then
    log "FAILED: $what; its last lines (the whole output: $LOG):"
    tail -n 25 "$LOG" >&2
    exit 1
  fi
  log "$what ($(( $(date +%s) - t0 )) s)"
}
start=$(date +%s)
log "full output in $LOG"

if [ ! -x "$VENV/bin/python" ]; then
  step "virtual environment $VENV" "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

step "pip, setuptools, wheel, ninja" "${PIP[@]}" install --upgrade pip "$SETUPTOOLS_PIN" wheel ninja psutil
step "torch and torchvision" "${PIP[@]}" install "${TORCH_PINS[@]}" "$SETUPTOOLS_PIN"

torch_tag=$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')
# CUDA ops when torch is a CUDA build, a GPU is visible and nvcc is there
# (MMCV_CUDA=0/1 overrides); the wheel is cached per kind, apart from the CPU one.
torch_cuda=$("$VENV/bin/python" -c 'import torch; print(torch.version.cuda or "" if torch.cuda.is_available() else "")')
if [ "${MMCV_CUDA:-auto}" = 1 ] || { [ "${MMCV_CUDA:-auto}" = auto ] && [ -n "$torch_cuda" ] \
    && command -v "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" nvcc >/dev/null 2>&1; }; then
  ops_kind="cu${torch_cuda//./}"; ops_device=cuda
  export FORCE_CUDA=1
else
  ops_kind=cpu; ops_device=cpu
fi
wheel_dir="$CACHE/mmcv-$MMCV_VERSION-torch$torch_tag-$ops_kind"
wheel=$(ls "$wheel_dir"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  log "building mmcv $MMCV_VERSION with $ops_kind ops (about 2 minutes on 2 cores for CPU ops)"
  src=$(mktemp -d)
  step "mmcv $MMCV_VERSION source" "${PIP[@]}" download --no-deps --no-build-isolation \
      --no-binary :all: "mmcv==$MMCV_VERSION" -d "$src"
  tar -xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
  # torch 2.14's headers need C++20; mmcv 2.1.0's setup.py hard-codes C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  # Speed only, same code: -g0 drops debug info (Python's CFLAGS add -g), and
  # torch's headers, which every op source includes, are parsed once into a
  # precompiled header instead of once per source (tools/mmcv_pch.py).
  export CFLAGS="${CFLAGS:-} -g0"
  step "precompiled torch header" "$VENV/bin/python" "$ROOT/tools/mmcv_pch.py" "$src/mmcv-$MMCV_VERSION"
  mkdir -p "$wheel_dir"
  tmp_out=$(mktemp -d)
  step "mmcv $MMCV_VERSION compiled" env MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" "${PIP[@]}" wheel \
      --no-deps --no-build-isolation "$src/mmcv-$MMCV_VERSION" -w "$tmp_out"
  # move into the cache only once complete: no half-written wheel is ever cached
  mv "$tmp_out"/mmcv-*.whl "$wheel_dir"/
  rm -rf "$src" "$tmp_out"
  wheel=$(ls "$wheel_dir"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
fi
step "mmcv from $wheel" "${PIP[@]}" install "$wheel" "$SETUPTOOLS_PIN"

step "mmengine, mmdet, mmsegmentation, mmpretrain" "${PIP[@]}" install "${OPENMMLAB_PINS[@]}" "$SETUPTOOLS_PIN"
# export extra: onnx 1.23.2 + onnxruntime 1.32.0, the versions tested here
# (tools/deployment/export_onnx.py and its parity tests)
step "mmconvnextv2 (editable; tests, export and docs extras)" \
    "${PIP[@]}" install -e "$ROOT[tests,export,docs]" "$SETUPTOOLS_PIN" \
    onnx==1.23.2 onnxruntime==1.32.0 "${PACKAGING_PINS[@]}"
# mmdet's requirements can upgrade setuptools silently: pin it again.
step "setuptools pin" "${PIP[@]}" install "$SETUPTOOLS_PIN"

step "the stack imports" "$VENV/bin/python" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, mmconvnextv2'
# the compiled ops run (on CUDA tensors for a CUDA build) and agree with torchvision
step "mmcv ops on $ops_device agree with torchvision" \
    "$VENV/bin/python" -m mmconvnextv2.devtools.ops_check --device "$ops_device"
step "mim" "$VENV/bin/mim" --version
touch "$VENV/.installed"
log "done in $(( $(date +%s) - start )) s"
