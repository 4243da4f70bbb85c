#!/usr/bin/env bash
# Builds Underscore, installs the bundles for the current user, renders the bundled demo scene
# with the offline renderer (`underscore render`), and runs the main job: the development
# scenes rendered through the plugin (CLAP ABI, as a DAW does) and scored.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
# deps.sh may have installed Rust with rustup just now; it made the Python venv: use both.
. scripts/env.sh
underscore_use_cargo
underscore_use_venv
echo "== bundle"
cargo xtask bundle underscore --release
mkdir -p "$HOME/.clap" "$HOME/.vst3"
rm -rf "$HOME/.clap/Underscore.clap" "$HOME/.vst3/Underscore.vst3"
cp -r target/bundled/Underscore.clap "$HOME/.clap/"
cp -r target/bundled/Underscore.vst3 "$HOME/.vst3/"
echo "installed: $HOME/.clap/Underscore.clap and $HOME/.vst3/Underscore.vst3"

echo "== render CLI"
cargo build -q --release -p underscore-render
UNDERSCORE_CLI=target/release/underscore
DEMO_OUT=target/demo
demo_outputs=""
if [ -f demo/dialogue.wav ]; then
  echo "== demo: demo/ (CC0, see demo/CREDITS.md) rendered with $UNDERSCORE_CLI"
  # bed:preset pairs; each gives the ducked bed, dialogue + ducked bed, a report and JSON.
  for pair in music:drama_under_score ambience:exterior_ambience_bed; do
    bed="${pair%%:*}"; preset="${pair#*:}"
    "$UNDERSCORE_CLI" render --dialogue demo/dialogue.wav --bed "demo/$bed.wav" --preset "$preset" \
      -o "$DEMO_OUT/${bed}_ducked.wav" --mix-output "$DEMO_OUT/${bed}_mix.wav" \
      --report "$DEMO_OUT/${bed}_report.png" --json "$DEMO_OUT/${bed}_report.json"
    demo_outputs+="  $DEMO_OUT/${bed}_ducked.wav (ducked $bed, preset $preset), $DEMO_OUT/${bed}_mix.wav (with dialogue), $DEMO_OUT/${bed}_report.png"$'\n'
  done
else
  echo "no demo/ folder: skipped the demo render"
fi

MATERIAL="${UNDERSCORE_MATERIAL:-../shared/material}"
if [ -d "$MATERIAL" ]; then
  echo "== rendering the scenes in $MATERIAL through the plugin"
  cargo run -q --release -p underscore-tests --bin render-scenes -- --material "$MATERIAL" --out out/scenes
  "$UNDERSCORE_VENV/bin/python" tests/scenes/evaluate_scenes.py --manifest out/scenes/manifest.json \
    --tools "${UNDERSCORE_TOOLS:-$MATERIAL/../tools}" --markdown out/scenes/table.md
  echo "ducked beds: out/scenes/<scene>/<bed>_ducked.wav; table: out/scenes/table.md"
else
  echo "no scene material at $MATERIAL (set UNDERSCORE_MATERIAL): skipped the render"
fi
if [ -n "$demo_outputs" ]; then
  echo "== demo outputs"
  printf '%s' "$demo_outputs"
fi
