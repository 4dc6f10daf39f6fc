#!/usr/bin/env bash
# The long version of the reliability suite (tests-e2e/reliability/, docs/reliability.md): the whole
# system as processes (two replicas of every worker and of the gateway), the full journey as load,
# RabbitMQ 30 s, APNs failing for about a minute, a webhook endpoint down 5 min, … `make chaos` calls
# this. Needs PostgreSQL, RabbitMQ and Redis as for `make test` (scripts/services.sh starts them);
# binds only free ports and never stops the real servers (faults cut proxies in front of them).
#
#   scripts/chaos.sh                               # NUJOOMY_CHAOS_SCALE=long, every reliability test
#   NUJOOMY_CHAOS_SCALE=short scripts/chaos.sh     # the CI sizes
#   scripts/chaos.sh -k whole_system               # pytest arguments pass through
#   NUJOOMY_CHAOS_FAULTS=0,5 scripts/chaos.sh -k whole_system   # only some phases (by index)
set -euo pipefail
cd "$(dirname "$0")/.."
export NUJOOMY_CHAOS_SCALE="${NUJOOMY_CHAOS_SCALE:-long}"
exec uv run pytest tests-e2e/reliability -m e2e -n 0 -q -s --timeout=7200 "$@"
