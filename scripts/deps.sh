#!/usr/bin/env bash
# Installs what Underscore's build, tests and demo need on a Debian machine (idempotent).
# apt: X11/GL headers for the egui editor, ALSA/JACK for the standalone build, Xvfb and
# imagemagick for editor pictures, zam-plugins (a third-party CLAP peer for the host harness).
# Ardour 7.3 (a real DAW, run headless by tests/hosts/test_ardour.py), without its recommends.
# pip: DawDreamer and pedalboard (real VST3 hosts), and the evaluation stack.
set -euo pipefail

APT_PACKAGES=(
  build-essential pkg-config
  libx11-dev libx11-xcb-dev libxcb1-dev libxcb-icccm4-dev libxcb-dri2-0-dev libxcursor-dev
  libxrandr-dev libgl1-mesa-dev libxkbcommon-x11-0 libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1
  libasound2-dev libjack-jackd2-dev
  xvfb imagemagick zam-plugins
)
PIP_PACKAGES=(
  dawdreamer==0.9.0 pedalboard==0.9.26 numpy scipy soundfile pystoi pyloudnorm pytest
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! dpkg-query -W -f='${Status}' ardour 2>/dev/null | grep -q "install ok installed"; then
  echo "== apt: installing ardour (no recommends)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ardour >/dev/null
fi

if ! python3 -c "import dawdreamer, pedalboard, numpy, scipy, soundfile, pystoi, pyloudnorm, pytest" 2>/dev/null; then
  echo "== pip: installing ${PIP_PACKAGES[*]}"
  python3 -m pip install -q "${PIP_PACKAGES[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
