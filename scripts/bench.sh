#!/usr/bin/env bash
# `make bench`: runs every benchmark under bench/ (or those named: `make bench ARGS="relay"`).
# Figures are printed, never asserted; each is printed beside a ceiling measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
exec uv run python -m bench ${ARGS:-}
