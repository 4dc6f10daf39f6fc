#!/usr/bin/env bash
# `make test`: every test of every member and tests-e2e/, against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
bash scripts/chromium.sh
exec uv run pytest -n 2 --dist loadgroup "$@"
