#!/usr/bin/env bash
# Installs, from Debian's packages, what the test suite needs and this
# machine lacks: a PostgreSQL server, a Redis server, Node.js (for the
# browser-module tests), Chromium (for the browser end-to-end tests) and
# xmlsec1 (an independent check of the SAML signatures). Servers are not started here: the Go test helper
# (internal/testenv) starts throwaway instances on free loopback ports.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)

install_axe() {
  # axe-core, for the accessibility tests (run in Chromium by internal/app).
  local dir
  dir="$(dirname "$0")/../tools/axe"
  if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_axe
  exit 0
fi
echo "installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged services; the tests use their own instances.
for svc in redis-server postgresql; do
  $sudo service "$svc" stop >/dev/null 2>&1 || true
done
install_axe
