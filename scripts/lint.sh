#!/usr/bin/env bash
# `make lint`: ruff (lint + format check) everywhere; mypy strict on libs/ and every service's domain/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
uv run ruff check .
uv run ruff format --check .
uv run mypy libs/kit/src libs/contracts/src libs/messaging/src services/*/src/*/domain
