#!/usr/bin/env bash
# Benchmark of the offline renderer, disk to disk (stereo 48 kHz, spectral mode), with a plain
# WAV copy as the baseline and the peak memory of each run. Arguments: lengths in minutes
# (default 5 60); --dir DIR for the scratch files (default $TMPDIR/underscore-bench; an hour
# needs about 3.5 GB there).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --release -p underscore-render --example bench_render -- "$@"
