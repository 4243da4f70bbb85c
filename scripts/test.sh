#!/usr/bin/env bash
# The full test suite, as CI runs it: formatting, lints, bundles, the editor picture and frame
# time, Rust tests (unit tests, the CLAP-ABI host harness against the built bundle, the
# no-allocation build), and the VST3 in third-party hosts (DawDreamer, pedalboard).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "== cargo fmt --check";   cargo fmt --all -- --check
echo "== cargo clippy";        cargo clippy --workspace --all-targets -- -D warnings
echo "== bundle";              cargo xtask bundle underscore --release
echo "== editor picture";      bash scripts/editor-shot.sh target/editor-test.png
# Headless: the whole editor UI per frame, mean and p95; fails above 1/30 s.
echo "== editor frame time";   cargo run -q --release -p underscore-tools --bin editor_shot -- --bench 300
# Debug build with nice-plug's allocation assertion in process() (aborts on any allocation);
# its own target dir so it never invalidates the ordinary build.
echo "== alloc-check build"
CARGO_TARGET_DIR=target/alloc-check cargo build -q -p underscore --features assert_process_allocs
echo "== cargo test";          cargo test --workspace
echo "== third-party hosts, scenes";   python3 -m pytest -q -p no:cacheprovider tests/hosts tests/scenes
