"""The tenant service's expected failures, each with a stable `code` (RFC 9457 problem+json)."""

from __future__ import annotations

from nujoomy_kit.problems import Conflict, DomainError, InvalidInput, NotFound, Unauthorized

__all__ = ["NotFound"]


class InvalidField(InvalidInput):
    """A field failed a rule; the problem names the field."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field=field)


class InvalidColor(InvalidField):
    code = "invalid_color"
    title = "Colours are #RRGGBB"


class UnknownCurrency(InvalidField):
    code = "unknown_currency"
    title = "Unknown currency"


class InvalidSlug(InvalidField):
    code = "invalid_slug"
    title = "Invalid slug"


class InvalidLocale(InvalidField):
    code = "invalid_locale"
    title = "Invalid locale"


class InvalidCountry(InvalidField):
    code = "invalid_country"
    title = "Invalid country"


class InvalidTimezone(InvalidField):
    code = "invalid_timezone"
    title = "Unknown time zone"


class InvalidEmail(InvalidField):
    code = "invalid_email"
    title = "Invalid email address"


class InvalidRewardCost(InvalidField):
    code = "invalid_reward_cost"
    title = "A reward costs at least 1"


class InvalidProgram(InvalidField):
    code = "invalid_program"
    title = "Invalid program setting"


class WeakPassword(InvalidField):
    code = "weak_password"
    title = "Password too short"


class InvalidImage(DomainError):
    code = "invalid_image"
    status = 415
    title = "Images must be PNG or JPEG"


class ImageTooLarge(DomainError):
    code = "image_too_large"
    status = 413
    title = "Image too large"


class SlugTaken(Conflict):
    code = "slug_taken"
    title = "Slug already taken"


class EmailTaken(Conflict):
    code = "email_taken"
    title = "A staff member with this email exists"


class LastOwner(Conflict):
    code = "last_owner"
    title = "A tenant keeps at least one active owner"


class InvalidCredentials(Unauthorized):
    # One answer for an unknown tenant, an unknown user, a disabled user and a wrong password.
    code = "invalid_credentials"
    title = "Wrong email or password"


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"
    title = "Refresh token not valid"


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"
    title = "Refresh token already used; the session was revoked"


class InvalidSetupToken(DomainError):
    code = "invalid_token"
    status = 400
    title = "The link is invalid, used or expired"


class TenantSuspended(DomainError):
    code = "tenant_suspended"
    status = 403
    title = "This business is suspended"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds", retry_after=retry_after)
        # kit's problem handler sends an exception's `headers` with the problem body.
        self.headers: dict[str, str] = {"Retry-After": str(retry_after)}


class LoginUnavailable(DomainError):
    code = "login_unavailable"
    status = 503
    title = "Sign-in unavailable"

    def __init__(self) -> None:
        super().__init__("Sign-in is briefly unavailable; try again in a few seconds.")
        self.headers: dict[str, str] = {"Retry-After": "5"}
