#!/usr/bin/env bash
# `make up`: install, make sure PostgreSQL/RabbitMQ/Redis answer, then create, migrate and run
# everything under one supervisor (see `nujoomy dev up --help`). Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
exec uv run nujoomy dev up "$@"
