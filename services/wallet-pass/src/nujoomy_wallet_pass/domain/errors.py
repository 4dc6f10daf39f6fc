"""The wallet-pass service's domain errors, each with a stable `code` (RFC 9457 problem+json)."""

from __future__ import annotations

from nujoomy_kit.problems import DomainError, NotFound, Unauthorized


class PassNotFound(NotFound):
    code = "not_found"
    title = "Pass not found"


class PassNotReady(NotFound):
    code = "pass_not_ready"
    title = "The pass is not issued yet"


class BadPassToken(Unauthorized):
    code = "invalid_pass_token"
    title = "The ApplePass authentication token is missing or wrong"


class InvalidDownloadLink(DomainError):
    code = "invalid_download_link"
    status = 404
    title = "The download link is invalid or has expired"


class CardReplaced(DomainError):
    code = "card_replaced"
    status = 410
    title = "This card has been replaced by a new one; its links no longer work"


class InvalidPushToken(DomainError):
    code = "invalid_push_token"
    status = 400
    title = "pushToken is required"


class InvalidDeviceId(DomainError):
    code = "invalid_device_id"
    status = 400
    title = "The device library identifier is not one Wallet sends (1 to 64 letters, digits, - or _)"


class InvalidSinceTag(DomainError):
    code = "invalid_since_tag"
    status = 400
    title = "passesUpdatedSince is not a tag this service issued"
