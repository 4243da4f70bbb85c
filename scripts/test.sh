#!/usr/bin/env bash
# The full test suite, as CI runs it: formatting, lints, bundles, the editor picture and frame
# time, Rust tests (unit tests, the CLAP-ABI host harness against the built bundle, the
# no-allocation build), and the VST3 in third-party hosts (DawDreamer, pedalboard).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
bash scripts/deps.sh
echo "== cargo fmt --check (at ${SECONDS} s)";   cargo fmt --all -- --check
echo "== cargo clippy (at ${SECONDS} s)";        cargo clippy --workspace --all-targets -- -D warnings
echo "== bundle (at ${SECONDS} s)";              cargo xtask bundle underscore --release
echo "== editor picture (at ${SECONDS} s)";      bash scripts/editor-shot.sh target/editor-test.png
# Headless: the whole editor UI per frame, mean and p95; fails above 1/30 s.
echo "== editor frame time (at ${SECONDS} s)";   cargo run -q --release -p underscore-tools --bin editor_shot -- --bench 300
# Debug build with nice-plug's allocation assertion in process() (aborts on any allocation),
# copied to where tests/tests/no_alloc.rs looks for it (target/alloc-check/debug/). Built in the
# ordinary target dir so the dependencies compile once for it and for `cargo test` (cargo keeps
# both feature sets side by side; only the final library file is shared, hence the copy).
echo "== alloc-check build (at ${SECONDS} s)"
cargo build -q -p underscore --features assert_process_allocs
mkdir -p target/alloc-check/debug
cp target/debug/libunderscore.so target/alloc-check/debug/libunderscore.so
echo "== cargo test (at ${SECONDS} s)";          cargo test --workspace
echo "== third-party hosts, scenes (at ${SECONDS} s)";   python3 -m pytest -q -p no:cacheprovider tests/hosts tests/scenes
