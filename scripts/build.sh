#!/usr/bin/env bash
# Builds Underscore, installs the bundles for the current user and runs the main job: the
# development scenes rendered through the plugin (CLAP ABI, as a DAW does) and scored.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "== bundle"
cargo xtask bundle underscore --release
mkdir -p "$HOME/.clap" "$HOME/.vst3"
rm -rf "$HOME/.clap/Underscore.clap" "$HOME/.vst3/Underscore.vst3"
cp -r target/bundled/Underscore.clap "$HOME/.clap/"
cp -r target/bundled/Underscore.vst3 "$HOME/.vst3/"
echo "installed: $HOME/.clap/Underscore.clap and $HOME/.vst3/Underscore.vst3"

MATERIAL="${UNDERSCORE_MATERIAL:-../shared/material}"
if [ -d "$MATERIAL" ]; then
  echo "== rendering the scenes in $MATERIAL through the plugin"
  cargo run -q --release -p underscore-tests --bin render-scenes -- --material "$MATERIAL" --out out/scenes
  python3 tests/scenes/evaluate_scenes.py --manifest out/scenes/manifest.json \
    --tools "${UNDERSCORE_TOOLS:-$MATERIAL/../tools}" --markdown out/scenes/table.md
  echo "ducked beds: out/scenes/<scene>/<bed>_ducked.wav; table: out/scenes/table.md"
else
  echo "no scene material at $MATERIAL (set UNDERSCORE_MATERIAL): skipped the render"
fi
