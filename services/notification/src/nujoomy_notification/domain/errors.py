"""The notification service's domain errors, each with a stable problem `code`."""

from __future__ import annotations

from nujoomy_kit.problems import DomainError, InvalidInput, NotFound


class TemplateInvalid(InvalidInput):
    """The template does not parse or does not render with the sample data."""

    code = "template_invalid"
    title = "The template cannot be rendered"


class TemplateUnsafe(InvalidInput):
    """The template reaches for Python internals (`__class__`, `_private`, ...)."""

    code = "template_unsafe"
    title = "The template uses a forbidden construct"


class TemplateBudgetExceeded(InvalidInput):
    """Rendering takes more steps (loop iterations, calls) or time than any message may take."""

    code = "template_budget_exceeded"
    title = "The template takes too long to render"


class UnknownTemplate(NotFound):
    code = "unknown_template"
    title = "No such template kind, locale or channel"


class InvalidUnsubscribeToken(DomainError):
    code = "invalid_token"
    status = 404
    title = "This unsubscribe link is not valid"


class MessageNotReplayable(DomainError):
    code = "message_not_replayable"
    status = 409
    title = "Only a failed message can be sent again"
