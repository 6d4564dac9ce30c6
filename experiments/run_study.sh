#!/usr/bin/env bash
# Rebuild a study: run its sweep (resumable: re-running computes only what is
# missing), then copy the analysis tables and figures into experiments/<study>/results/.
#   experiments/run_study.sh integrated_vs_siloed [HSSIM-SWEEP OVERRIDES...]
#   experiments/run_study.sh integrated_vs_siloed hydra/launcher=joblib
#   experiments/run_study.sh integrated_vs_siloed hydra/launcher=submitit_slurm hydra.launcher.partition=debug
# STORE=dir overrides where the sweep keeps its results (default: sweeps/<study>).
set -euo pipefail
study=${1:?usage: experiments/run_study.sh STUDY [OVERRIDES...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/../configs/experiment/$study.yaml" ] || { echo "run_study.sh: no configs/experiment/$study.yaml" >&2; exit 2; }
store=${STORE:-sweeps/$study}
hssim-sweep "experiment=$study" "store=$store" "$@"
mkdir -p "$here/$study/results"
cp "$store"/analysis/*.png "$store"/analysis/*.csv "$store"/analysis/analysis.json "$here/$study/results/"
echo "run_study.sh: tables and figures in $here/$study/results"
