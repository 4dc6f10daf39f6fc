"""The gateway's domain errors: each a stable `code` a partner can switch on (RFC 9457 problem+json)."""

from __future__ import annotations

from typing import ClassVar

from nujoomy_kit.problems import DomainError


class InvalidApiKey(DomainError):
    code = "invalid_api_key"
    status = 401
    title = "Invalid API key"


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    status = 403
    title = "The API key lacks the scope this call needs"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"


class TooManyInFlight(DomainError):
    code = "too_many_concurrent_requests"
    status = 429
    title = "Too many concurrent requests"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class RateLimiterUnavailable(DomainError):
    code = "rate_limiter_unavailable"
    status = 503
    title = "Rate limiter unavailable"


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    status = 400
    title = "Invalid Idempotency-Key header"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency-Key reused with a different request"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"
    status = 409
    title = "A request with this Idempotency-Key is still in flight"


class ApiKeyLimitReached(DomainError):
    code = "api_key_limit_reached"
    status = 409
    title = "This account holds as many API keys as it may"


class EndpointDisabled(DomainError):
    code = "endpoint_disabled"
    status = 409
    title = "This webhook endpoint is disabled"


class WebhookUrlNotAllowed(DomainError):
    code = "webhook_url_not_allowed"
    status = 422
    title = "This webhook URL is not allowed"


class TestModeOnly(DomainError):
    __test__: ClassVar[bool] = False  # pytest: not a test class
    code = "test_mode_only"
    status = 403
    title = "This call is only available with a test-mode key"


class DownstreamUnavailable(DomainError):
    code = "upstream_unavailable"
    status = 502
    title = "A platform service did not answer"
