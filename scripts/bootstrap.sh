#!/usr/bin/env bash
# Installs what the project needs on a fresh machine of this kind: uv (from PyPI, if missing) and
# the locked Python environment. Prints the uv it will use.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
uv sync --locked --quiet
