# The front door. Each target is a one-liner over a script that explains itself.
.PHONY: up up-detached down test security lint fmt bench chaos status

up:            ## install, create, migrate and run everything; prints where to sign in
	bash scripts/up.sh

up-detached:   ## the same, in the background (stop with `make down`)
	bash scripts/up.sh --detach

down:          ## stop a background run
	uv run nujoomy dev down

test:          ## every test, against real PostgreSQL, RabbitMQ and Redis
	bash scripts/test.sh

security:      ## the security suite (tests-e2e/security, marked `security`), its long form; docs/security.md
	bash scripts/security.sh

lint:          ## ruff + mypy strict on libs and domain code
	bash scripts/lint.sh

fmt:           ## format and auto-fix
	uv run ruff format . && uv run ruff check --fix .

bench:         ## benchmarks, each printed beside a baseline measured in the same run
	bash scripts/bench.sh

chaos:         ## the long reliability suite (faults injected into the running system)
	bash scripts/chaos.sh

status:        ## every service's readiness
	uv run nujoomy status
