#!/usr/bin/env bash
# Replays every input of a fuzz corpus through graphopt-opt (the full pipeline
# and the CPU emitter): each must end in exit code 0 or 1 (a diagnostic),
# never a signal or a hang.
set -u
tool=$1; corpus=$2
total=0; bad=0
for f in "$corpus"/*; do
  total=$((total + 1))
  timeout 10 "$tool" --graphopt-pipeline --graphopt-test-print-cpu-kernels "$f" >/dev/null 2>&1
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    echo "graphopt-opt exited with $rc on $f"; bad=$((bad + 1))
  fi
done
echo "graphopt-opt replayed $total corpus inputs: $bad crashes or hangs"
[ $bad -eq 0 ]
