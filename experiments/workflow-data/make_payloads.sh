#!/bin/sh
# Writes payloads/payload-SIZE.toml: a chain of three tasks (100 ms, 1024 MB each) handing
# SIZE bytes from one to the next, under worker-side scheduling (FaaSFlow), so the only
# thing the sweep changes between two definitions is the payload. Run from this folder;
# the files are committed.
for size in 1kb:1000 10kb:10000 100kb:100000 1mb:1000000 10mb:10000000 100mb:100000000; do
  name=${size%%:*}
  bytes=${size##*:}
  f="payloads/payload-$name.toml"
  printf '[workflows.pipeline]\norchestrator = "worker-side"\nstart = "ingest"\n' > "$f"
  printf '[workflows.pipeline.states.ingest]\ntype = "task"\nfunction = "ingest"\nduration_ms = 100\nmemory_mb = 1024\noutput_bytes = %s\nnext = "transform"\n' "$bytes" >> "$f"
  printf '[workflows.pipeline.states.transform]\ntype = "task"\nfunction = "transform"\nduration_ms = 100\nmemory_mb = 1024\noutput_bytes = %s\nnext = "store"\n' "$bytes" >> "$f"
  printf '[workflows.pipeline.states.store]\ntype = "task"\nfunction = "store"\nduration_ms = 100\nmemory_mb = 1024\n' >> "$f"
done
