"""The unsubscribe page a customer's browser opens from the link in a message: the business's name,
colours and logo, English or Arabic, sized for a phone. Opening it changes nothing (mail scanners
open every link); the button on it confirms.

Our own template (not a tenant's), so a plain autoescaping Jinja environment; every value is
escaped and the colours are `#RRGGBB` (domain.branding).
"""

from __future__ import annotations

from jinja2 import Environment

from nujoomy_notification.domain.branding import Look
from nujoomy_notification.domain.kinds import RTL_LOCALES, Channel, Locale

# Every string the page shows, in both languages.
TEXT: dict[Locale, dict[str, str]] = {
    "en": {
        "confirm_title": "Unsubscribe from {name}?",
        "confirm_body": (
            "You will stop receiving {channel} from {name}: receipts, news and offers. "
            "Your card and your points stay as they are."
        ),
        "button": "Unsubscribe",
        "done_title": "You are unsubscribed",
        "done_body": "You will no longer receive {channel} from {name}.",
        "email": "e-mails",
        "sms": "text messages",
        "us": "us",
    },
    "ar": {
        "confirm_title": "إلغاء الاشتراك في رسائل {name}؟",
        "confirm_body": (
            "لن تصلك {channel} من {name} بعد الآن: لا الإيصالات ولا الأخبار والعروض. "
            "تبقى بطاقتك ونقاطك كما هي."
        ),
        "button": "إلغاء الاشتراك",
        "done_title": "تم إلغاء اشتراكك",
        "done_body": "لن تصلك {channel} من {name} بعد الآن.",
        "email": "رسائل البريد الإلكتروني",
        "sms": "الرسائل النصية",
        "us": "نحن",
    },
}

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ lang }}" dir="{{ direction }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title></head>
<body style="margin:0;background:#f4f4f5;color:#111827;font-family:system-ui,-apple-system,sans-serif">
<header style="background:{{ look.brand.background }};color:{{ look.brand.foreground }};padding:16px 20px">
{%- if look.logo_url %}<img src="{{ look.logo_url }}" alt=""
 style="height:40px;max-width:180px;display:block;margin-bottom:8px">{% endif %}
<div data-testid="business" style="font-size:20px;font-weight:600">{{ look.name }}</div>
</header>
<main style="max-width:480px;margin:0 auto;padding:24px 20px">
<h1 style="font-size:22px;line-height:1.3;margin:0 0 12px">{{ title }}</h1>
<p style="font-size:16px;line-height:1.5;margin:0 0 24px">{{ body }}</p>
{%- if confirm %}
<form method="post">
<button type="submit" name="confirm" value="1" data-testid="unsubscribe-confirm"
 style="width:100%;min-height:48px;padding:14px;font-size:17px;border:0;border-radius:8px;\
background:{{ look.brand.background }};color:{{ look.brand.foreground }}">{{ button }}</button>
</form>
{%- endif %}
</main>
</body></html>"""
)

# Served straight from this service too (an ingress may route /unsubscribe here): nothing but inline
# styles, the logo and a form posting back to this page.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(*, lang: Locale, look: Look, channel: Channel, done: bool) -> str:
    text = TEXT[lang]
    name = look.name or text["us"]
    values = {"name": name, "channel": text[channel]}
    title = (text["done_title"] if done else text["confirm_title"]).format(**values)
    body = (text["done_body"] if done else text["confirm_body"]).format(**values)
    return _PAGE.render(
        lang=lang,
        direction="rtl" if lang in RTL_LOCALES else "ltr",
        look=look,
        title=title,
        body=body,
        button=text["button"],
        confirm=not done,
    )
