#!/usr/bin/env bash
# The long version of the reliability suite (tests-e2e/reliability/): longer outages and more load
# than the CI run. `make chaos` calls this. Needs PostgreSQL, RabbitMQ and Redis as for `make test`
# (scripts/services.sh starts them); binds only ephemeral ports.
#
#   scripts/chaos.sh                 # NUJOOMY_CHAOS_SCALE=long
#   NUJOOMY_CHAOS_SCALE=short scripts/chaos.sh   # the CI sizes
set -euo pipefail
cd "$(dirname "$0")/.."
export NUJOOMY_CHAOS_SCALE="${NUJOOMY_CHAOS_SCALE:-long}"
exec uv run pytest tests-e2e/reliability -m e2e -q -s --timeout=1800 "$@"
