#!/usr/bin/env bash
# Training on a Slurm cluster:
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
#
# Several nodes: GPUS processes in all, GPUS_PER_NODE (default 8) on each
# node, so ceil(GPUS / GPUS_PER_NODE) nodes (NODES, computed; GPUS=16 ->
# 2 nodes of 8). Every process reads its rank from Slurm (--launcher slurm);
# rank 0's node is MASTER_ADDR and the processes meet on MASTER_PORT (default
# 20000 + SLURM_JOB_ID % 20000 inside a job, so that two jobs sharing a node
# do not collide; 29500 otherwise). WORK_DIR must be on a file system every
# node reads. A process that fails ends the job step on every node
# (--kill-on-bad-exit).
#
# Collective timeout: MMCNV2_DIST_TIMEOUT seconds (or the config's
# env_cfg.dist_cfg.timeout; default 600): a rank that stops answering makes
# the step fail with one error naming it instead of hanging.
# MAX_RESTARTS (default 0): run a failed step again, resuming from the newest
# readable checkpoint of WORK_DIR, up to that many times.
#
# Preemption: Slurm is asked to send SIGUSR1 PREEMPT_WARNING seconds (default
# 120) before the time limit; on it, or on the SIGTERM of a preemption, every
# process finishes its iteration, a checkpoint is saved and train.py exits
# with status 75. Inside a batch job (sbatch, which may be requeued) the job
# is then requeued, and a requeued job (SLURM_RESTART_COUNT > 0) resumes
# from the newest readable checkpoint of WORK_DIR. Otherwise the script exits
# 75: run it again with --resume.
set -uo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
PREEMPT_WARNING=${PREEMPT_WARNING:-120}
MAX_RESTARTS=${MAX_RESTARTS:-0}
SRUN_ARGS=${SRUN_ARGS:-}
PREEMPTED=75
if [ "$GPUS" -lt "$GPUS_PER_NODE" ]; then
    GPUS_PER_NODE=$GPUS  # one node, partly used
fi
NODES=$(( (GPUS + GPUS_PER_NODE - 1) / GPUS_PER_NODE ))
if [ -n "${SLURM_JOB_ID:-}" ]; then
    export MASTER_PORT=${MASTER_PORT:-$(( 20000 + SLURM_JOB_ID % 20000 ))}
else
    export MASTER_PORT=${MASTER_PORT:-29500}
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RESUME=()
if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
    RESUME=(--resume)
fi
RUN=0
while :; do
    PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
    srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
        --nodes="$NODES" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
        --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
        --signal=USR1@"$PREEMPT_WARNING" $SRUN_ARGS \
        python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
        --launcher slurm ${RESUME[@]+"${RESUME[@]}"} "${@:5}"
    STATUS=$?
    if [ "$STATUS" -eq 0 ] || [ "$STATUS" -eq "$PREEMPTED" ] \
            || [ "$RUN" -ge "$MAX_RESTARTS" ]; then
        break
    fi
    RUN=$((RUN + 1))
    echo "training step failed (status $STATUS): restart $RUN of $MAX_RESTARTS, resuming from $WORK_DIR" >&2
    RESUME=(--resume)
done
if [ "$STATUS" -eq "$PREEMPTED" ] && [ -n "${SLURM_JOB_ID:-}" ] \
        && command -v scontrol >/dev/null; then
    if scontrol requeue "$SLURM_JOB_ID"; then
        echo "preempted: checkpoint saved in $WORK_DIR, job $SLURM_JOB_ID requeued"
        exit 0
    fi
    echo "preempted: checkpoint saved in $WORK_DIR; requeue refused, rerun with --resume" >&2
fi
exit "$STATUS"
