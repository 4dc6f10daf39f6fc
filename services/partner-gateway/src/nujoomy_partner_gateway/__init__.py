"""Nujoomy partner-gateway: the edge (partner API, keys, rate limits, idempotency, webhooks, BFF)."""
