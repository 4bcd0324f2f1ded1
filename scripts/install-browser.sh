#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's Chromium and Noto CJK fonts
# (without them Chinese renders as empty boxes in screenshots), Java and npm for the page checkers,
# then the checkers themselves from npm (package-lock.json: axe-core, vnu-jar).
# `--check` installs nothing: it says what is missing and exits 0 (the test suite runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "install-browser: unknown option $1 (--check)" >&2; exit 2 ;;
esac
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || missing+=(npm)

install_checkers() {
  if command -v npm >/dev/null 2>&1 && checkers_stale; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
checkers_stale() {
  [ ! -f node_modules/.package-lock.json -o package-lock.json -nt node_modules/.package-lock.json ]
}
if $check; then
  checkers_stale && missing+=("the page checkers (npm ci)")
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-browser: nothing missing"
  else
    printf 'install-browser: would install %s\n' "${missing[@]}"
  fi
  exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then install_checkers; exit 0; fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-browser: need root to apt-get install ${missing[*]}; browser tests will be skipped" >&2
    exit 0
  fi
fi
echo "install-browser: installing ${missing[*]} from Debian"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
install_checkers
