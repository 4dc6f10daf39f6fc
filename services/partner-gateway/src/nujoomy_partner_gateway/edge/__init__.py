"""The partner edge: API key verification, rate limiting and idempotency, in front of every /v1 route."""
