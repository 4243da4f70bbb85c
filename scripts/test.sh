#!/usr/bin/env bash
# The full test suite, as CI runs it: formatting, lints, bundles, the editor picture and frame
# time, Rust tests (unit tests, the CLAP-ABI host harness against the built bundle, the
# no-allocation build), and the VST3 in third-party hosts (DawDreamer, pedalboard, Ardour) and
# the scene tests, with pytest from the project's Python venv (scripts/deps.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
bash scripts/deps.sh
# deps.sh may have installed Rust with rustup just now; it made the Python venv: use both.
. scripts/env.sh
underscore_use_cargo
underscore_use_venv
echo "== cargo fmt --check (at ${SECONDS} s)";   cargo fmt --all -- --check
echo "== cargo clippy (at ${SECONDS} s)";        cargo clippy --workspace --all-targets -- -D warnings
# The bundle and the editor_shot tool in one release build (the xtask passes `-p underscore-tools`
# on to `cargo build`): built apart, the tools' clap derive turns on syn's "full" feature, which
# changes the build of every crate downstream of a proc macro: 28 crates (serde, egui, epaint,
# vello, skrifa, nice-plug, the plugin: the heaviest of the graph) were compiled twice. Together,
# editor-shot.sh and the frame-time run below find editor_shot already built.
echo "== bundle (at ${SECONDS} s)";              cargo xtask bundle underscore --release -p underscore-tools
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
echo "== third-party hosts, scenes (at ${SECONDS} s)";   "$UNDERSCORE_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/hosts tests/scenes
