#!/usr/bin/env bash
# `make security`: the security suite (tests-e2e/security/, every test there carries the `security`
# marker; docs/security.md says what each one proves) in its long form. Each test builds the system it
# attacks: the real services' apps over the real PostgreSQL, RabbitMQ and Redis that
# scripts/services.sh starts, served on free ports. `make test` runs the same suite in its short form
# (NUJOOMY_FUZZ_EXAMPLES=15 per operation); here every fuzzed operation gets more examples.
#
#   scripts/security.sh                         # NUJOOMY_FUZZ_EXAMPLES=100
#   NUJOOMY_FUZZ_EXAMPLES=15 scripts/security.sh  # the make test size
#   scripts/security.sh -k internal_roles       # pytest arguments pass through
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
export NUJOOMY_FUZZ_EXAMPLES="${NUJOOMY_FUZZ_EXAMPLES:-100}"
exec uv run pytest tests-e2e/security -m security -n 2 --dist loadgroup "$@"
