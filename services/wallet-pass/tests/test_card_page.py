"""The card page's wording and colours come from the program: the tenant's language (Arabic right to
left), its colours only when they are colours."""

from __future__ import annotations

import uuid

import msgspec
from nujoomy_wallet_pass.api.cards import MemberLinks, card_html
from wallet_pass_helpers import program

LINKS = MemberLinks(
    card_url="https://w.example/cards/t",
    apple_pass_url="https://w.example/apple/passes/t",
    google_save_url="https://pay.google.com/gp/v/save/x",
)


def test_an_arabic_tenants_page_is_arabic_and_right_to_left() -> None:
    prog = program(uuid.uuid4(), uuid.uuid4())
    arabic = msgspec.structs.replace(prog, tenant=msgspec.structs.replace(prog.tenant, locale="ar-SA"))
    page = card_html(LINKS, arabic)
    assert '<html lang="ar" dir="rtl">' in page
    assert "أضف بطاقة Café Noor Club إلى هاتفك" in page
    assert "حفظ في Google Wallet" in page


def test_a_colour_that_is_not_one_never_reaches_the_css_and_no_program_gives_a_plain_page() -> None:
    prog = program(uuid.uuid4(), uuid.uuid4(), color="red;} body{display:none")
    page = card_html(LINKS, prog)
    assert "display:none" not in page
    assert "background: #FFFFFF" in page
    plain = card_html(msgspec.structs.replace(LINKS, google_save_url=None), None)
    assert '<html lang="en" dir="ltr">' in plain
    assert "<h1>Add your card to your phone</h1>" in plain
    assert 'id="google"' not in plain
