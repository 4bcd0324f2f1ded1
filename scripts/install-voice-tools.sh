#!/usr/bin/env bash
# Installs espeak-ng (Debian), which scripts/mandarin_captcha_voice.py needs to regenerate the
# Mandarin captcha clips. The clips are committed: serving and testing need nothing of this.
set -euo pipefail
command -v espeak-ng >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq espeak-ng
