"""The ledger's expected failures, each with a stable problem `code` (RFC 9457)."""

from __future__ import annotations

from nujoomy_kit.problems import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class MemberNotFound(NotFound):
    """Unknown member, or one of another tenant or mode: the same answer, never a hint."""


class CardNotFound(NotFound):
    """Unknown or revoked card token, or a card of another tenant or mode."""


class TransactionNotFound(NotFound):
    pass


class RewardNotFound(NotFound):
    pass


class ReservationNotFound(NotFound):
    pass


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    status = 422
    title = "Not enough points"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    title = "Idempotency key reused with a different request"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    title = "Invalid amount"


class InvalidPoints(InvalidInput):
    code = "invalid_points"
    title = "Invalid points"


class UnknownCurrency(InvalidInput):
    code = "unknown_currency"
    title = "Unknown currency"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"
    title = "Currency differs from the program's"


class BelowMinimumSpend(InvalidInput):
    code = "below_minimum_spend"
    title = "Below the program's minimum spend"


class ProgramUnavailable(Conflict):
    code = "program_unavailable"
    title = "The program is not known to the ledger yet"


class RewardUnavailable(DomainError):
    code = "reward_unavailable"
    status = 422
    title = "Reward not available now"


class RewardLimitReached(DomainError):
    code = "reward_limit_reached"
    status = 422
    title = "Reward limit reached"


class NotReversible(DomainError):
    code = "not_reversible"
    status = 422
    title = "This transaction cannot be reversed"


class AlreadyReversed(Conflict):
    code = "already_reversed"
    title = "This transaction has already been reversed"


class ReversalWindowPassed(Forbidden):
    code = "reversal_window_passed"
    title = "Only a manager can reverse a transaction this old"


class ReservationClosed(Conflict):
    code = "reservation_closed"
    title = "The reservation is no longer pending"


class MemberErased(Conflict):
    code = "member_erased"
    title = "The member has been erased"


class DuplicateExternalId(Conflict):
    code = "duplicate_external_id"
    title = "A member with this external id exists"


class MemberExists(Conflict):
    """One person is one member per tenant and mode: the e-mail or phone belongs to `member_id`."""

    code = "member_exists"
    title = "A member with this e-mail or phone exists"


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    title = "Invalid e-mail address"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    title = "Invalid phone number"


class CardCodeAmbiguous(Conflict):
    code = "card_code_ambiguous"
    title = "More than one card has this printed code: scan the QR code"


class ManagerApprovalRequired(Forbidden):
    code = "manager_approval_required"
    title = "A manager must approve an earn this large"


class ApprovalInvalid(Forbidden):
    code = "approval_invalid"
    title = "The approval is not a manager's of this business"
