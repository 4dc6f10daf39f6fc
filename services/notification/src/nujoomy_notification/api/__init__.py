"""The notification service's HTTP routes."""

from __future__ import annotations

from typing import Any

from nujoomy_notification.api import messages, templates, unsubscribe


def route_handlers() -> list[Any]:
    return [
        messages.member_messages,
        messages.failed_messages,
        messages.retry_message,
        templates.get_template,
        templates.put_template,
        templates.revert_template,
        templates.preview_template,
        unsubscribe.unsubscribe_page,
        unsubscribe.unsubscribe,
    ]
