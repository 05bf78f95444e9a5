#!/usr/bin/env bash
# Installs hopeit.engine 0.30.1 and its Redis Streams plugin into .venv-hopeit/ at the workspace
# root (or the venv APPWIRE_HOPEIT_VENV names), for the tests that run real hopeit servers
# (tests/hopeit). A venv that already has them is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${APPWIRE_HOPEIT_VENV:-.venv-hopeit}"
requirements=('hopeit.engine[apps-client]==0.30.1' 'hopeit.redis-streams==0.30.1')

fail() {
  echo "error: $1" >&2
  echo "       The tests against real hopeit.engine servers need it; set APPWIRE_SKIP_HOPEIT=1 to skip them." >&2
  exit 1
}

if [[ "${APPWIRE_SKIP_HOPEIT:-}" == 1 ]]; then
  echo "APPWIRE_SKIP_HOPEIT=1: skipped installing hopeit.engine; the tests against real hopeit servers skip too." >&2
  exit 0
fi

installed() {
  "$venv/bin/python" - 2>/dev/null <<'PY'
from importlib.metadata import version
assert version("hopeit.engine") == version("hopeit.apps-client") == "0.30.1"
assert version("hopeit.redis-streams") == "0.30.1"
PY
}

if [[ -x "$venv/bin/python" ]] && installed; then
  exit 0
fi

command -v python3 >/dev/null || fail "python3 is not on the PATH (Python 3.10 or newer is needed)."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  fail "$(python3 --version 2>&1) is too old: hopeit.engine 0.30.1 needs Python 3.10 or newer."

echo "Installing ${requirements[*]} into $venv/ ..." >&2
python3 -m venv "$venv" ||
  fail "python3 -m venv $venv failed (on Debian and Ubuntu, install the python3-venv package)."
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" ||
  fail "pip could not install ${requirements[*]} (is PyPI reachable?)."
installed || fail "$venv/ does not have ${requirements[*]} after pip installed them."
