#!/usr/bin/env bash
# CPU cost of Underscore as a host sees it: only the plugin's CLAP process() calls, timed with
# the thread's CPU clock, beside ZamCompX2 (Debian's zam-plugins) in the same run, for four
# sidechain keys (synthetic speech, the scenes' dialogue, pink noise, silence). See
# tests/README.md, "CPU benchmark through the ABI".
#
# Runs once per mode in $MODES (default "Broadband Spectral"); each run prints a markdown table
# and writes out/bench-abi/<mode>.json ($UNDERSCORE_BENCH_OUT overrides the folder). Arguments go
# to every run of bench-abi, e.g. --seconds 20 --runs 3 --block 512 --clap FILE. The plugin is
# $UNDERSCORE_CLAP, else target/bundled/Underscore.clap (cargo xtask bundle underscore --release).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
echo "== building the bench (release) and the harness fixture plugin (release)" >&2
cargo build -q --release --manifest-path tests/fixture-plugin/Cargo.toml \
  --target-dir "$TARGET/harness-fixture"
cargo build -q --release -p underscore-tests --bin bench-abi

OUT="${UNDERSCORE_BENCH_OUT:-out/bench-abi}"
mkdir -p "$OUT"
for mode in ${MODES:-Broadband Spectral}; do
  echo "== Mode=$mode" >&2
  UNDERSCORE_CLAP_QUIET=1 "$TARGET/release/bench-abi" \
    --fixture "$TARGET/harness-fixture/release/libharness_fixture_plugin.so" \
    --set "Mode=$mode" --json "$OUT/$(echo "$mode" | tr '[:upper:]' '[:lower:]').json" "$@"
  echo
done
