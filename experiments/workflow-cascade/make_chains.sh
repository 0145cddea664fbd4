#!/bin/sh
# Writes chains/chain-N-MODE.toml: a chain of N tasks (1 s, 256 MB, 100 KB handed on)
# pre-warmed by MODE. Run from this folder; the files are committed.
for n in 1 2 3 4 5 6 7 8 9 10; do
  for mode in none speculative just-in-time; do
    f="chains/chain-$n-$mode.toml"
    printf '[workflows.chain]\norchestrator = "step-functions-standard"\nstart = "s0"\nprewarm = "%s"\n' "$mode" > "$f"
    i=0
    while [ $i -lt $n ]; do
      printf '[workflows.chain.states.s%d]\ntype = "task"\nfunction = "f%d"\nduration_ms = 1000\nmemory_mb = 256\noutput_bytes = 100000\n' $i $i >> "$f"
      if [ $((i + 1)) -lt $n ]; then printf 'next = "s%d"\n' $((i + 1)) >> "$f"; fi
      i=$((i + 1))
    done
  done
done
