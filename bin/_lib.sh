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

# ensure_pdf_libraries: WeasyPrint (the pack and signed-consent PDFs) loads Pango, HarfBuzz and
# fontconfig from the system, and the fonts its stylesheet names. Installs them from Debian's packages
# when missing (as root, or with passwordless sudo); otherwise stops and says what to install.
# Call after ensure_venv.
PDF_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-liberation fonts-dejavu-core"
pdf_libraries_ok() {
  "$VENV/bin/python" -c 'import weasyprint' >/dev/null 2>&1 || return 1
  # HarfBuzz's subsetter makes small PDFs; WeasyPrint works without it, more slowly.
  if command -v ldconfig >/dev/null 2>&1; then ldconfig -p | grep -q 'libharfbuzz-subset\.so' || return 1; fi
  # The PDF stylesheet's fonts: Liberation Sans for text, DejaVu for symbols and the typed signature.
  if command -v fc-list >/dev/null 2>&1; then
    fc-list | grep -q 'Liberation Sans' && fc-list | grep -q 'DejaVu Serif' || return 1
  fi
  return 0
}
ensure_pdf_libraries() {
  pdf_libraries_ok && return 0
  say "Installing the libraries PDFs are made with (Pango, HarfBuzz, fonts) from Debian's packages"
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -n"
  # shellcheck disable=SC2086
  command -v apt-get >/dev/null 2>&1 && $sudo_cmd apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $PDF_PACKAGES >/dev/null || true
  "$VENV/bin/python" -c 'import weasyprint' >/dev/null 2>&1 ||
    fail "PDFs need Pango, HarfBuzz and fonts. On Debian or Ubuntu: sudo apt-get install $PDF_PACKAGES
       (on macOS: brew install pango). Then run this again."
  pdf_libraries_ok || echo "Warning: PDFs will be made without HarfBuzz's subsetter or fonts; install: $PDF_PACKAGES" >&2
}
