#!/usr/bin/env bash
# Installs Debian's Chromium and Noto CJK fonts for the browser tests when they are missing.
# Without the fonts, Chinese renders as empty boxes in screenshots.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0

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
