#!/usr/bin/env bash
# Takes the README picture of the editor: opens it standalone (the editor_shot binary, fed live
# by the engine with a scene in Spectral mode) on a private Xvfb display, waits until the 10 s
# history is full, captures the window, checks the picture is not blank and prints the window's
# measured frame times.
#
#   bash scripts/editor-shot.sh [OUT.png] [-- editor_shot arguments...]
#
# Default OUT.png: docs/editor.png. Needs xvfb and imagemagick (scripts/deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="docs/editor.png"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then OUT="$1"; shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
SHOT_ARGS=("$@")
if [ ${#SHOT_ARGS[@]} -eq 0 ]; then SHOT_ARGS=(--preset drama_under_score --mode spectral --start 5.5 --seconds 10); fi

for tool in Xvfb import convert timeout; do
  command -v "$tool" >/dev/null || { echo "editor-shot: $tool not found (run scripts/deps.sh)" >&2; exit 1; }
done

# Build first, so the timeouts below measure the run, not the compile. (scripts/test.sh builds
# editor_shot together with the bundle, so there this is only a freshness check.)
cargo build -q --release -p underscore-tools --bin editor_shot
BIN="${CARGO_TARGET_DIR:-target}/release/editor_shot"

# A free display number: no lock file and no socket.
DISPLAY_NUM=""
for n in $(seq 99 140); do
  if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then DISPLAY_NUM=$n; break; fi
done
[ -n "$DISPLAY_NUM" ] || { echo "editor-shot: no free X display" >&2; exit 1; }

WORK="$(mktemp -d)"
XVFB_PID=""
SHOT_PID=""
cleanup() {
  if [ -n "$SHOT_PID" ]; then kill "$SHOT_PID" 2>/dev/null || true; wait "$SHOT_PID" 2>/dev/null || true; fi
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; wait "$XVFB_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

Xvfb ":$DISPLAY_NUM" -screen 0 1280x800x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
export DISPLAY=":$DISPLAY_NUM"
for _ in $(seq 1 50); do
  [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break
  kill -0 "$XVFB_PID" 2>/dev/null || { echo "editor-shot: Xvfb failed:" >&2; cat "$WORK/xvfb.log" >&2; exit 1; }
  sleep 0.1
done

START=$(date +%s)
mkfifo "$WORK/out"
# --linger bounds the run even if this script dies without cleaning up.
"$BIN" "${SHOT_ARGS[@]}" --linger 60 >"$WORK/out" 2>"$WORK/shot.log" &
SHOT_PID=$!
exec 3<"$WORK/out"
READY=""
while IFS= read -r -t 60 line <&3; do
  if [ "$line" = "ready" ]; then READY=1; break; fi
done
exec 3<&-
if [ -z "$READY" ]; then
  echo "editor-shot: the editor never got ready:" >&2
  cat "$WORK/shot.log" >&2
  exit 1
fi

# Crop to the editor window if xwininfo finds it (no window manager: it sits at 0,0).
GEOMETRY=""
if command -v xwininfo >/dev/null; then
  GEOMETRY="$(xwininfo -root -tree 2>/dev/null | awk '/"Underscore"/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+x[0-9]+\+-?[0-9]+\+-?[0-9]+$/) { print $i; exit } }')"
fi
if [ -z "$GEOMETRY" ]; then GEOMETRY="900x560+0+0"; fi
GEOMETRY="${GEOMETRY%%+*}+0+0"
mkdir -p "$(dirname "$OUT")"
timeout 30 import -window root -crop "$GEOMETRY" +repage "$OUT"

kill "$SHOT_PID" 2>/dev/null || true
wait "$SHOT_PID" 2>/dev/null || true
SHOT_PID=""

STDDEV="$(convert "$OUT" -format '%[fx:standard_deviation]' info:)"
SIZE="$(convert "$OUT" -format '%wx%h' info:)"
echo "editor-shot: $OUT ($SIZE, contrast $STDDEV) in $(( $(date +%s) - START )) s"
# The window's measured frame times (real rendering under Xvfb, Mesa's software OpenGL).
grep -h "frame interval" "$WORK/shot.log" || true
if ! awk -v s="$STDDEV" 'BEGIN { exit !(s > 0.05) }'; then
  echo "editor-shot: $OUT looks blank (standard deviation $STDDEV)" >&2
  exit 1
fi
