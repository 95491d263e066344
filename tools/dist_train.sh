#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NPROC [train.py args]
# One process per GPU; on a CPU-only machine the processes talk over gloo.
#
# Elastic restarts: when a worker dies (out-of-memory kill, lost node, a
# collective that timed out), torchrun stops the group and starts it again,
# up to MAX_RESTARTS times (default 3); the restarted group resumes by itself
# from the newest readable checkpoint of the work dir.
#
# Several nodes: run the same command on every node with NNODES (default 1),
# NODE_RANK (0 on the node at MASTER_ADDR, which hosts the rendezvous),
# MASTER_ADDR (default 127.0.0.1) and PORT (default 29500) set alike, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=node0 tools/dist_train.sh CONFIG 8   # on node0
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=node0 tools/dist_train.sh CONFIG 8   # on node1
# The nodes meet through torchrun's c10d rendezvous at MASTER_ADDR:PORT
# (RDZV_ID names the job; default from PORT). Checkpoints must be on a file
# system every node reads.
#
# Collective timeout: MMCNV2_DIST_TIMEOUT seconds (or the config's
# env_cfg.dist_cfg.timeout; default 600): a rank that stops answering makes
# the run fail with one error naming it, then torchrun restarts the group.
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MAX_RESTARTS=${MAX_RESTARTS:-3}
RDZV_ID=${RDZV_ID:-mmconvnextv2-$PORT}
IS_HOST=false
if [ "$NODE_RANK" -eq 0 ]; then
    IS_HOST=true
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
# A fresh store for every restarted worker group: with the agent's shared one
# (torch's default) the restarted group can read the process-group keys of
# the group it replaces and connect to its dead rank 0 (measured: gloo
# "connectFullMesh failed ... Connection refused", restart lost).
export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-1}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --nproc-per-node="$NPROC" \
    --max-restarts="$MAX_RESTARTS" \
    --rdzv-backend=c10d --rdzv-endpoint="$MASTER_ADDR:$PORT" \
    --rdzv-id="$RDZV_ID" --rdzv-conf="is_host=$IS_HOST" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
