#!/usr/bin/env bash
# Training on a Slurm cluster:
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
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
SRUN_ARGS=${SRUN_ARGS:-}
PREEMPTED=75
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RESUME=()
if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
    RESUME=(--resume)
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    --signal=USR1@"$PREEMPT_WARNING" $SRUN_ARGS \
    python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher slurm ${RESUME[@]+"${RESUME[@]}"} "${@:5}"
STATUS=$?
if [ "$STATUS" -eq "$PREEMPTED" ] && [ -n "${SLURM_JOB_ID:-}" ] \
        && command -v scontrol >/dev/null; then
    if scontrol requeue "$SLURM_JOB_ID"; then
        echo "preempted: checkpoint saved in $WORK_DIR, job $SLURM_JOB_ID requeued"
        exit 0
    fi
    echo "preempted: checkpoint saved in $WORK_DIR; requeue refused, rerun with --resume" >&2
fi
exit "$STATUS"
