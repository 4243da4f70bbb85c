#!/usr/bin/env bash
# Installs what Underscore's build, tests and demo need on a Debian machine (idempotent: a second
# run installs nothing). scripts/build.sh and scripts/test.sh run it first; it also runs alone.
#
# apt: X11/GL headers for the egui editor, ALSA/JACK for the standalone build, Xvfb and
# imagemagick for editor pictures, zam-plugins (a third-party CLAP peer for the host harness),
# curl for rustup, and python3-venv when python3 cannot create a virtual environment. Ardour 7.3
# (a real DAW, run headless by tests/hosts/test_ardour.py), without its recommends.
# Rust: cargo and rustc >= RUST_MIN, with rustfmt and clippy. Installed with rustup when missing,
# updated with rustup when too old and rustup manages them; otherwise a message naming the
# version found and the one needed.
# Python: DawDreamer and pedalboard (real VST3 hosts) and the evaluation stack, in the project's
# virtual environment `.venv/` (or $UNDERSCORE_VENV). Debian 12's python3 is "externally managed"
# (PEP 668): pip refuses to install into it, so nothing here touches the system Python.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# The oldest Rust that builds the workspace: edition 2024 needs 1.85, the vendored nice-plug
# declares rust-version 1.88, and egui 0.37 (the editor, Cargo.lock) 1.95.
RUST_MIN="1.95"

APT_PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libx11-dev libx11-xcb-dev libxcb1-dev libxcb-icccm4-dev libxcb-dri2-0-dev libxcursor-dev
  libxrandr-dev libgl1-mesa-dev libxkbcommon-x11-0 libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1
  libasound2-dev libjack-jackd2-dev
  xvfb imagemagick zam-plugins
)
PIP_PACKAGES=(
  dawdreamer==0.9.0 pedalboard==0.9.26 numpy scipy soundfile pystoi pyloudnorm pytest
)
PY_MODULES="dawdreamer, pedalboard, numpy, scipy, soundfile, pystoi, pyloudnorm, pytest"

# ---- apt ----------------------------------------------------------------------------------------

APT_UPDATED=""
# apt_install [apt-get options] PACKAGE...: as root, else through sudo.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || {
      echo "deps.sh: installing Debian packages needs root or sudo; missing: $*" >&2
      exit 1
    }
    sudo="sudo"
  fi
  if [ -z "$APT_UPDATED" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  # `env` so DEBIAN_FRONTEND survives sudo's environment reset.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
# python3 must be able to make a virtual environment: Debian ships venv's ensurepip separately.
if ! command -v python3 >/dev/null; then
  missing+=(python3 python3-venv)
elif ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
if ! installed ardour; then
  echo "== apt: installing ardour (no recommends)"
  apt_install --no-install-recommends ardour
fi

# ---- Rust ---------------------------------------------------------------------------------------

# The rustc version ("1.95.0"), or nothing when there is no working rustc.
rustc_version() {
  local v
  v="$(rustc --version 2>/dev/null | awk '{ print $2 }')" || true
  echo "${v%%-*}"
}
# version_at_least FOUND NEEDED: FOUND >= NEEDED, as version numbers.
version_at_least() {
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}
# rustc is rustup's proxy (then rustup can update it).
rustup_manages_rustc() {
  command -v rustup >/dev/null && [ "$(dirname "$(command -v rustc)")" = "$(dirname "$(command -v rustup)")" ]
}

underscore_use_cargo
found="$(rustc_version)"
if [ -z "$found" ] || ! command -v cargo >/dev/null; then
  if command -v rustup >/dev/null; then
    echo "== rustup: no working Rust toolchain: installing stable (minimal profile)"
    rustup toolchain install stable --profile minimal && rustup default stable || {
      echo "deps.sh: rustup could not install the stable toolchain; Underscore needs Rust >= $RUST_MIN" >&2
      exit 1
    }
  else
    echo "== rustup: Rust not found: installing rustup and stable Rust into ${CARGO_HOME:-$HOME/.cargo}"
    if ! curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal; then
      echo "deps.sh: installing Rust with rustup (https://sh.rustup.rs) failed; install Rust >= $RUST_MIN yourself and run this again" >&2
      exit 1
    fi
    # shellcheck disable=SC1090
    . "$UNDERSCORE_CARGO_ENV"
  fi
  found="$(rustc_version)"
fi
if ! version_at_least "$found" "$RUST_MIN" && rustup_manages_rustc; then
  echo "== rustup: rustc $found is older than $RUST_MIN: rustup update"
  rustup update
  found="$(rustc_version)"
fi
if ! version_at_least "$found" "$RUST_MIN"; then
  {
    echo "deps.sh: rustc ${found:-(none)} at $(command -v rustc || echo '?') is too old: Underscore needs Rust >= $RUST_MIN"
    echo "  (edition 2024 needs 1.85, nice-plug 1.88, egui 0.37 1.95; Debian 12's own rustc package is 1.63)."
    if rustup_manages_rustc; then
      echo "  rustup manages it but the active toolchain is $(rustup show active-toolchain 2>/dev/null || echo '?'):"
      echo "  run \`rustup default stable\` (or remove the override) and run this script again."
    else
      echo "  Install Rust with rustup (https://rustup.rs), which goes first on PATH, then run this again:"
      echo "    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal"
      echo "    . \"\$HOME/.cargo/env\""
    fi
  } >&2
  exit 1
fi
cargo_found="$(cargo --version 2>/dev/null | awk '{ print $2 }')"
if ! version_at_least "${cargo_found%%-*}" "$RUST_MIN"; then
  echo "deps.sh: cargo ${cargo_found:-(none)} at $(command -v cargo) is older than rustc $found; Underscore needs >= $RUST_MIN (use one toolchain, e.g. rustup's, for both)" >&2
  exit 1
fi
# scripts/test.sh runs cargo fmt and cargo clippy (not in rustup's minimal profile).
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null; then
    echo "== rustup: adding rustfmt and clippy"
    rustup component add rustfmt clippy
  else
    echo "deps.sh: warning: cargo fmt or cargo clippy is missing; scripts/test.sh needs both" >&2
  fi
fi

# ---- Python (the project's virtual environment) ------------------------------------------------

# A venv whose Python no longer runs (e.g. the interpreter it was made from is gone) or that has
# no pip (made while python3-venv was missing) is made again.
if [ -e "$UNDERSCORE_VENV" ] && ! "$UNDERSCORE_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "== venv: $UNDERSCORE_VENV is incomplete (no working python or pip): making it again"
  case "$UNDERSCORE_VENV" in
    "" | "/") echo "deps.sh: refusing to remove UNDERSCORE_VENV='$UNDERSCORE_VENV'" >&2; exit 1 ;;
  esac
  rm -rf "$UNDERSCORE_VENV"
fi
if [ ! -e "$UNDERSCORE_VENV" ]; then
  echo "== venv: creating $UNDERSCORE_VENV with $(python3 --version 2>&1) ($(command -v python3))"
  if ! python3 -m venv "$UNDERSCORE_VENV"; then
    rm -rf "$UNDERSCORE_VENV"
    echo "deps.sh: python3 -m venv failed for $(command -v python3): on Debian install python3-venv; elsewhere use a python3 with venv and ensurepip" >&2
    exit 1
  fi
  "$UNDERSCORE_VENV/bin/python" -m pip install -q --upgrade pip
fi
if ! "$UNDERSCORE_VENV/bin/python" -c "import $PY_MODULES" 2>/dev/null; then
  echo "== pip (in $UNDERSCORE_VENV): installing ${PIP_PACKAGES[*]}"
  "$UNDERSCORE_VENV/bin/python" -m pip install -q "${PIP_PACKAGES[@]}"
fi

echo "deps: Rust $found ($(command -v cargo)); Python tools in $UNDERSCORE_VENV ($("$UNDERSCORE_VENV/bin/python" --version 2>&1))"
