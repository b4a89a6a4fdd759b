#!/usr/bin/env bash
# Set-up for `make run` and `make test` on Debian 12: installs the system packages that are missing
# (as root, or through sudo), then a virtual environment with the locked dependencies.
# Usage: bash core/bootstrap.sh run|test
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

# What WeasyPrint needs (pango, HarfBuzz subsetting: 44x faster CJK PDFs), a CJK font that has the rare
# GB18030 characters (Noto CJK; WenQuanYi lacks 䶮 and 𠮷), fontconfig's fc-list (the worker's font check),
# Redis for the queue, and Python's venv.
packages=(python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk
          redis-server)
if [ "$purpose" = test ]; then
  # The tests run their own PostgreSQL and drive pages in Debian's Chromium (no browser download).
  packages+=(postgresql chromium)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A Python built outside Debian (pyenv and the like) brings its own venv; only Debian's python3 needs the package.
if python3 -m venv --help >/dev/null 2>&1; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))

if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "Please run as root, or install: apt-get install ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed" >&2; exit 1; }

lock=requirements.lock
[ "$purpose" = test ] && lock=requirements-dev.lock
stamp=".venv/.installed-$(sha256sum "$lock" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> creating the virtual environment (.venv) from $lock"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
