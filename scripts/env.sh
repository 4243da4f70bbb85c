# Sourced (not run) by deps.sh, build.sh and test.sh, from the repository root: where the tools
# they share live.
# - Python: the project's virtual environment (`.venv/`, or $UNDERSCORE_VENV), which deps.sh
#   creates and fills. Debian 12's own python3 is "externally managed" (PEP 668): pip refuses
#   to install into it, so every Python tool of the project runs from the venv.
# - Rust: rustup's cargo (~/.cargo/bin, or $CARGO_HOME/bin), which deps.sh may have installed
#   in a child process just now, so its PATH change has not reached the caller yet.

UNDERSCORE_VENV="${UNDERSCORE_VENV:-$PWD/.venv}"
UNDERSCORE_CARGO_ENV="${CARGO_HOME:-$HOME/.cargo}/env"

# Puts rustup's cargo first on PATH, as the shell start-up lines rustup writes do (its env file
# prepends its bin folder once); nothing when rustup is not installed.
underscore_use_cargo() {
  if [ -f "$UNDERSCORE_CARGO_ENV" ]; then
    # shellcheck disable=SC1090
    . "$UNDERSCORE_CARGO_ENV"
  fi
}

# Makes `python3`, `python` and `pytest` the venv's, as `source .venv/bin/activate` would (also
# for the Python and cargo processes the tests start).
underscore_use_venv() {
  if [ ! -x "$UNDERSCORE_VENV/bin/python" ]; then
    echo "no Python virtual environment at $UNDERSCORE_VENV: run scripts/deps.sh" >&2
    return 1
  fi
  export VIRTUAL_ENV="$UNDERSCORE_VENV"
  case ":$PATH:" in
    *":$UNDERSCORE_VENV/bin:"*) ;;
    *) export PATH="$UNDERSCORE_VENV/bin:$PATH" ;;
  esac
}
