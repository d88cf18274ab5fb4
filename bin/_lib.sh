# Shared by bin/demo and bin/test: a project-local virtual environment built from the lock files.
# Sourced, not run.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT_ROOT/.venv"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
fail() { printf '\033[31mError:\033[0m %s\n' "$*" >&2; exit 1; }

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# ensure_venv LOCKFILE...: create .venv if needed and install each lock file whose contents changed.
ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    python="$(find_python)" || fail "Clearplan needs Python 3.11 (3.11 to 3.13 work)."
    say "Creating the virtual environment in .venv with $python"
    "$python" -m venv "$VENV" || fail "Could not create .venv (on Debian or Ubuntu: apt-get install python3-venv)."
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  local lock stamp digest
  for lock in "$@"; do
    stamp="$VENV/.installed-$(basename "$lock")"
    digest="$(sha256sum "$PROJECT_ROOT/$lock" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
      say "Installing $lock"
      "$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps -r "$PROJECT_ROOT/$lock"
      echo "$digest" > "$stamp"
    fi
  done
  export PATH="$VENV/bin:$PATH"
}
