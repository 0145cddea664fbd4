#!/usr/bin/env bash
# Runs a faasim sweep as a Slurm job array of N shards, then merges the shards.
#
#   experiments/slurm/submit.sh EXPERIMENT.toml OUT_DIR N [extra sbatch options...]
#
# Each array task K (1..N) runs `faasim sweep --shard K/N` into OUT_DIR/shards/K; a job that
# depends on the whole array then runs `faasim merge` into OUT_DIR. The result equals a
# single-machine `faasim sweep EXPERIMENT.toml --out OUT_DIR`. A failed or preempted task can
# be resubmitted: a shard skips the runs it already finished.
# Build first (`cargo build --release`); FAASIM may point at the binary.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 EXPERIMENT.toml OUT_DIR N [sbatch options...]" >&2
  exit 2
fi
exp=$1; out=$2; n=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
faasim=${FAASIM:-$(cd "$here/../.." && pwd)/target/release/faasim}
mkdir -p "$out/shards" "$out/logs"
array=$(sbatch --parsable --array="1-$n" --output="$out/logs/shard-%a.out" "$@" \
  --export=ALL,FAASIM="$faasim" "$here/shard.sbatch" "$exp" "$out" "$n")
sbatch --parsable --dependency="afterok:$array" --output="$out/logs/merge.out" \
  --export=ALL,FAASIM="$faasim" "$here/merge.sbatch" "$out" "$n"
echo "submitted array job $array ($n shards) and its merge"
