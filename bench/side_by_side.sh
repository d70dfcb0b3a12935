#!/bin/sh
# PyTorch and `unitrace bench` back to back, repeated, with the load average before each run (other
# processes on the machine change both figures): 2 threads vs 2 workers, then 1 thread vs in-process.
# Usage: sh bench/side_by_side.sh [config] [rounds]
CONFIG=${1:-bench/tiny.json}
ROUNDS=${2:-2}
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  for N in 2 1; do
    echo "load $(cut -d' ' -f1 /proc/loadavg) pytorch threads=$N: $(/usr/bin/python3 bench/pytorch_baseline.py --model-config "$CONFIG" --threads "$N" --steps 5 | tail -1)"
    echo "load $(cut -d' ' -f1 /proc/loadavg) unitrace workers=$N: $(node bin/unitrace.mjs bench --model-config "$CONFIG" --workers "$N" --steps 5 --warmup 2 --json | tail -1)"
  done
  i=$((i + 1))
done
