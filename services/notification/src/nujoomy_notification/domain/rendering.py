"""Rendering tenant-editable templates safely: Jinja2's immutable sandbox, autoescaping, strict names.

Tenant managers write these templates, so they are untrusted code. The sandbox blocks unsafe attribute
access at render time; on top of that we refuse any `_name` attribute or item statically, so
`{{ ''.__class__ }}` is rejected when the template is saved rather than rendering as an empty string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from nujoomy_notification.domain.errors import TemplateInvalid, TemplateUnsafe
from nujoomy_notification.domain.kinds import RTL_LOCALES, Channel

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
SMS_MAX_CHARS = 480  # three concatenated GSM segments; beyond that a provider splits it unpredictably


class TemplateSource(msgspec.Struct, kw_only=True):
    subject: str = ""
    html: str = ""
    text: str


class Rendered(msgspec.Struct, kw_only=True):
    subject: str
    html: str
    text: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox stops unsafe attribute access, not resource use: `{{ 'a' * 10**9 }}` or
    `{{ 9 ** 9 ** 9 }}` would take the worker's memory or CPU. Intercepting the operators also stops
    Jinja from folding them at compile time."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            # Bound the result's size: (9 ** 64) ** 64 ** 64 would run for minutes.
            base_bits = left.bit_length() if isinstance(left, int) else 64
            if not (isinstance(right, int) and base_bits * abs(right) <= 4096):
                raise SecurityError("power too large")
        if operator == "*":
            sized, times = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
            repeated = isinstance(sized, (str, list, tuple)) and isinstance(times, int)
            if repeated and len(sized) * times > MAX_OUTPUT_CHARS:
                raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    return _Sandbox(autoescape=autoescape, undefined=StrictUndefined)


_HTML = _environment(autoescape=True)
_PLAIN = _environment(autoescape=False)


def _check_safe(source: str, env: ImmutableSandboxedEnvironment, field: str) -> None:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateInvalid(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
    try:
        tree = env.parse(source)
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name: object = node.attr
        elif isinstance(node, nodes.Getitem):
            name = _const(node.arg)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            name = _const(node.args[0])
        else:
            continue
        # A name computed at render time ('_' ~ '_class__') is left to the sandbox, which refuses it.
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateUnsafe(
                f"{field} reads {name!r}; names starting with _ are not allowed", field=field
            )


def _const(node: nodes.Node) -> object:
    return node.value if isinstance(node, nodes.Const) else None


@lru_cache(maxsize=1024)
def _compile(source: str, autoescape: bool, field: str) -> Template:
    """Check and compile once per distinct source: compiling costs far more than rendering, and a
    tenant's templates are the same for every message."""
    env = _HTML if autoescape else _PLAIN
    _check_safe(source, env, field)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc


def _render_one(source: str, env: ImmutableSandboxedEnvironment, field: str, context: dict[str, Any]) -> str:
    template = _compile(source, env is _HTML, field)
    try:
        out = template.render(context)
    except SecurityError as exc:
        raise TemplateUnsafe(f"{field}: {exc}", field=field) from exc
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
        # {{ 1/0 }}, {{ range(10**6) }} (the sandbox's OverflowError), {{ 'a' + 1 }}: bad templates.
        raise TemplateInvalid(f"{field}: {type(exc).__name__}: {exc}", field=field) from exc
    if len(out) > MAX_OUTPUT_CHARS:
        raise TemplateInvalid(f"{field} renders to more than {MAX_OUTPUT_CHARS} characters", field=field)
    return out


_LAYOUT = _HTML.from_string(
    """<!doctype html>
<html lang="{{ locale }}" dir="{{ direction }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="font-family:system-ui,sans-serif;text-align:{{ 'right' if direction == 'rtl' else 'left' }}">
{{ body }}
<hr><p style="font-size:12px;color:#666"><a href="{{ unsubscribe_url }}">{{ unsubscribe_label }}</a></p>
</body></html>"""
)

UNSUBSCRIBE_LABEL = {"en": "Unsubscribe", "ar": "إلغاء الاشتراك"}


def render(source: TemplateSource, channel: Channel, locale: str, context: dict[str, Any]) -> Rendered:
    """Render one template; raise TemplateInvalid/TemplateUnsafe rather than produce a broken message."""
    text = _render_one(source.text, _PLAIN, "text", context).strip()
    if not text:
        raise TemplateInvalid("text renders empty", field="text")
    if channel == "sms":
        if len(text) > SMS_MAX_CHARS:
            raise TemplateInvalid(f"the SMS is longer than {SMS_MAX_CHARS} characters", field="text")
        return Rendered(subject="", html="", text=text)
    subject = " ".join(_render_one(source.subject, _PLAIN, "subject", context).split())
    if not subject:
        raise TemplateInvalid("subject renders empty", field="subject")
    body = _render_one(source.html, _HTML, "html", context)
    html = _LAYOUT.render(
        locale=locale,
        direction="rtl" if locale in RTL_LOCALES else "ltr",
        subject=subject,
        body=Markup(body),  # already escaped by the autoescaping environment above  # noqa: S704
        unsubscribe_url=context.get("unsubscribe_url", ""),
        unsubscribe_label=UNSUBSCRIBE_LABEL.get(locale, UNSUBSCRIBE_LABEL["en"]),
    )
    return Rendered(subject=subject, html=html, text=text)
