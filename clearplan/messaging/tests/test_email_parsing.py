"""Reading patients' emails: the words they wrote (quoted history off), safe formatting, and the
photos and PDFs they attach, from the kinds of mail real mail programs send."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from PIL import Image

from clearplan.messaging.conversations.email_parsing import (
    DAMAGED,
    ONLY_PHOTOS_AND_PDFS,
    TOO_LARGE,
    TOO_MANY,
    UnreadableEmail,
    parse_email,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 180, 170)).save(buffer, "JPEG")
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def headers(message, *, subject="Re: Your treatment plan", message_id="<reply-1@mail.example>") -> None:
    message["From"] = "Mere Ngata <mere.ngata@example.com>"
    message["To"] = "Harbour Dental <reply+0123456789abcdef0123456789abcdef@reply.example>"
    message["Subject"] = subject
    message["Message-ID"] = message_id


def plain_email(text: str, **options) -> bytes:
    message = EmailMessage()
    headers(message, **options)
    message.set_content(text)
    return message.as_bytes()


# ---------- Plain, HTML and both ----------


def test_a_plain_email_gives_its_words_sender_subject_and_recipients():
    parsed = parse_email(plain_email("Thursday at 10 suits me.\n\nMere"), envelope_recipient="Envelope@Reply.Example")

    assert parsed.visible_text == "Thursday at 10 suits me.\n\nMere"
    assert parsed.from_address == "mere.ngata@example.com"
    assert parsed.from_name == "Mere Ngata"
    assert parsed.subject == "Re: Your treatment plan"
    assert parsed.message_id == "<reply-1@mail.example>"
    assert parsed.recipients == ("envelope@reply.example", "reply+0123456789abcdef0123456789abcdef@reply.example")
    assert parsed.visible_html is None
    assert not parsed.auto_reply


def test_an_html_only_email_gets_its_text_from_the_html():
    message = EmailMessage()
    headers(message)
    message.set_content(
        "<html><head><style>p{color:red}</style></head><body><div>Hi there,</div><div>Can I move my "
        "appointment?</div><ul><li>Monday</li><li>Tuesday</li></ul></body></html>",
        subtype="html",
    )
    parsed = parse_email(message.as_bytes())

    assert parsed.visible_text == "Hi there,\n\nCan I move my appointment?\n\n• Monday\n• Tuesday"
    assert (
        parsed.visible_html
        == "<p>Hi there,</p><p>Can I move my appointment?</p><ul><li>Monday</li><li>Tuesday</li></ul>"
    )
    assert "color" not in parsed.visible_html


def test_multipart_alternative_takes_text_from_the_plain_part_and_formatting_from_the_html():
    message = EmailMessage()
    headers(message)
    message.set_content("Yes, *Thursday* please.")
    message.add_alternative("<p>Yes, <b>Thursday</b> please.</p>", subtype="html")
    parsed = parse_email(message.as_bytes())

    assert parsed.visible_text == "Yes, *Thursday* please."
    assert parsed.visible_html == "<p>Yes, <b>Thursday</b> please.</p>"


@pytest.mark.parametrize(
    ("declared", "content"),
    [
        ("iso-8859-1", "Merci, à jeudi".encode("latin-1")),
        ("windows-1252", "Thanks – see you “Thursday”".encode("cp1252")),
        ("us-ascii", "Thanks, Zoë".encode()),  # declared wrongly: the bytes are UTF-8
        ("x-unknown-charset", b"Kia ora, Mere"),
        ("utf-8", b"Thanks \xff\xfe broken bytes"),
    ],
)
def test_text_in_other_or_wrongly_declared_charsets_is_still_readable(declared, content):
    raw = (
        b"From: mere.ngata@example.com\r\nTo: reply+0123456789abcdef0123456789abcdef@reply.example\r\n"
        b"Subject: =?iso-8859-1?q?R=E9ponse?=\r\nMessage-ID: <c@mail.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset="
        + declared.encode()
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + content
        + b"\r\n"
    )
    parsed = parse_email(raw)

    assert parsed.subject == "Réponse"
    expected = {
        "iso-8859-1": "Merci, à jeudi",
        "windows-1252": "Thanks – see you “Thursday”",
        "us-ascii": "Thanks, Zoë",
        "x-unknown-charset": "Kia ora, Mere",
    }.get(declared)
    if expected:
        assert parsed.visible_text == expected
    else:
        assert parsed.visible_text.startswith("Thanks ")
        assert parsed.visible_text.endswith("broken bytes")


def test_a_forwarded_email_attached_whole_follows_the_patients_words():
    inner = EmailMessage()
    inner["From"] = "Other Dental <front@other.example>"
    inner["Subject"] = "Your quote"
    inner.set_content("Crown: $1,650")
    outer = MIMEMultipart("mixed")
    headers(outer, subject="Fwd: Your quote")
    outer.attach(MIMEText("Is this cheaper than yours?", "plain"))
    from email.mime.message import MIMEMessage

    outer.attach(MIMEMessage(inner))
    parsed = parse_email(outer.as_bytes())

    assert parsed.visible_text.startswith("Is this cheaper than yours?")
    assert "Forwarded message" in parsed.visible_text
    assert "Subject: Your quote" in parsed.visible_text
    assert "Crown: $1,650" in parsed.visible_text


# ---------- Replies with quoted history ----------

GMAIL_TEXT = """Thursday works, thank you!

On Tue, 3 Mar 2026 at 10:15, Harbour Dental <no-reply@clearplan.example>
wrote:

> Hi Mere, would Thursday at 10 suit you?
>
> Chloé
"""
GMAIL_HTML = """<div dir="ltr">Thursday works, thank you!</div><br><div class="gmail_quote gmail_quote_container">
<div dir="ltr" class="gmail_attr">On Tue, 3 Mar 2026 at 10:15, Harbour Dental &lt;no-reply@clearplan.example&gt;
wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Hi Mere, would Thursday at 10
suit you?<br>Chloé</blockquote></div>"""

APPLE_TEXT = """Yes please.

Sent from my iPhone

> On 3 Mar 2026, at 10:15 am, Harbour Dental <no-reply@clearplan.example> wrote:
>
> Hi Mere, would Thursday at 10 suit you?
"""
APPLE_HTML = """<html><body dir="auto"><div dir="ltr">Yes please.</div><div dir="ltr"><br><div>Sent from my iPhone</div>
<div><br><blockquote type="cite">On 3 Mar 2026, at 10:15 am, Harbour Dental
&lt;no-reply@clearplan.example&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">Hi Mere,
would Thursday at 10 suit you?</div></blockquote></div></body></html>"""

OUTLOOK_TEXT = """Can we make it 11 instead?

Regards
Mere

________________________________
From: Harbour Dental <no-reply@clearplan.example>
Sent: Tuesday, 3 March 2026 10:15 AM
To: Mere Ngata <mere.ngata@example.com>
Subject: Your appointment

Hi Mere, would Thursday at 10 suit you?
"""
OUTLOOK_HTML = """<html><body><div style="font-family: Aptos">Can we make it 11 instead?</div><div>Regards<br>Mere</div>
<div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b>
Harbour Dental<br><b>Sent:</b> Tuesday, 3 March 2026 10:15 AM</div><div>Hi Mere, would Thursday at 10 suit you?</div>
</body></html>"""


def reply_email(text: str, html: str) -> bytes:
    message = EmailMessage()
    headers(message)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_a_gmail_reply_shows_only_the_new_words_and_keeps_the_history_behind():
    parsed = parse_email(reply_email(GMAIL_TEXT, GMAIL_HTML))

    assert parsed.visible_text == "Thursday works, thank you!"
    assert parsed.visible_html == "<p>Thursday works, thank you!</p><br>"
    assert "would Thursday at 10 suit you?" in parsed.full_text
    assert "would Thursday at 10" in parsed.full_html


def test_an_apple_mail_reply_keeps_sent_from_my_iphone_and_drops_the_quote():
    parsed = parse_email(reply_email(APPLE_TEXT, APPLE_HTML))

    assert parsed.visible_text == "Yes please.\n\nSent from my iPhone"
    assert "Sent from my iPhone" in parsed.visible_html
    assert "suit you" not in parsed.visible_html
    assert "wrote:" not in parsed.visible_html


def test_an_outlook_reply_drops_the_from_sent_block_and_everything_after_it():
    parsed = parse_email(reply_email(OUTLOOK_TEXT, OUTLOOK_HTML))

    assert parsed.visible_text == "Can we make it 11 instead?\n\nRegards\nMere"
    assert "suit you" not in parsed.visible_html
    assert "Sent:" not in parsed.visible_html
    assert "Regards<br>Mere" in parsed.visible_html


@pytest.mark.parametrize(
    "quote",
    [
        "-----Original Message-----\nFrom: Harbour Dental\nHi Mere, would Thursday suit?",
        "----- Original Message -----\nHi Mere, would Thursday suit?",
        "On Tue, Mar 3, 2026 at 10:15 AM Harbour Dental <no-reply@clearplan.example> wrote:\n> would Thursday suit?",
        "On Tuesday, 3 March 2026,\nHarbour Dental <no-reply@clearplan.example>\nwrote:\n> would Thursday suit?",
        "From: Harbour Dental <no-reply@clearplan.example>\nSent: Tuesday\nTo: Mere\n\nwould Thursday suit?",
        "> would Thursday suit?\n> Chloé",
    ],
)
def test_quoted_history_in_its_common_forms_is_taken_off_plain_text(quote):
    parsed = parse_email(plain_email(f"Thursday is fine.\n\n{quote}\n"))

    assert parsed.visible_text == "Thursday is fine."
    assert "would Thursday suit?" in parsed.full_text


def test_a_reply_that_is_only_a_quote_shows_the_whole_text_rather_than_nothing():
    parsed = parse_email(plain_email("> Hi Mere, would Thursday suit?\n"))

    assert parsed.visible_text == "> Hi Mere, would Thursday suit?"


# ---------- Hostile HTML ----------

HOSTILE = """<div>Hello</div>
<script>alert('x')</script>
<img src="https://tracker.example/pixel.gif" onerror="alert(1)">
<p onclick="steal()" style="background:url(https://tracker.example/bg)">Click <a href="javascript:alert(1)">here</a></p>
<a href="JaVaScRiPt:alert(2)">again</a> <a href="data:text/html;base64,PHNjcmlwdD4=">data</a>
<a href="https://harbourdental.example/info" target="_blank" onmouseover="x()">our page</a>
<a href="mailto:front@harbourdental.example">write</a>
<style>body { background: expression(alert(3)); }</style>
<div style="width: expression(alert(4))">styled</div>
<iframe src="https://evil.example"></iframe>
<svg onload="alert(5)"><script>alert(6)</script><text>svg text</text></svg>
<img src="data:image/png;base64,iVBORw0KGgo=">
<form action="https://evil.example"><input name="password"><button>Send</button></form>
<object data="x.swf"></object><embed src="x.swf">
<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh" content="0;url=https://evil.example">
<!-- a comment -->"""


def test_hostile_html_is_reduced_to_text_and_safe_links():
    message = EmailMessage()
    headers(message)
    message.set_content(HOSTILE, subtype="html")
    parsed = parse_email(message.as_bytes())
    html = parsed.visible_html

    assert "Hello" in html
    assert "styled" in html
    for gone in (
        "<script", "alert", "onerror", "onclick", "onmouseover", "onload", "javascript:", "JaVaScRiPt", "data:",
        "style=", "<style", "expression", "<iframe", "<svg", "svg text", "<img", "tracker.example", "<form", "<input",
        "password", "<object", "<embed", "<link", "<meta", "refresh", "evil.example", "a comment", "target",
    ):  # fmt: skip
        assert gone not in html, gone
    assert '<a href="https://harbourdental.example/info" rel="noopener noreferrer">our page</a>' in html
    assert '<a href="mailto:front@harbourdental.example" rel="noopener noreferrer">write</a>' in html
    assert "alert" not in parsed.visible_text
    assert "tracker" not in parsed.visible_text


# ---------- Attachments ----------


def email_with(*files: tuple[str, bytes, str], text: str = "Photos attached.") -> bytes:
    message = EmailMessage()
    headers(message)
    message.set_content(text)
    for name, content, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_photos_and_pdfs_are_kept_with_their_type_read_from_the_content():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    gif = (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
        b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
    parsed = parse_email(
        email_with(
            ("IMG_0001.JPG", jpeg(), "application/octet-stream"),
            ("gum.png", png(), "image/png"),
            ("IMG_0002.HEIC", heic, "image/heic"),
            ("wave.gif", gif, "image/gif"),
            ("referral.pdf", PDF, "application/pdf"),
        )
    )

    kept = {each.name: each.content_type for each in parsed.attachments}
    assert kept == {
        "IMG_0001.JPG": "image/jpeg",
        "gum.png": "image/png",
        "IMG_0002.HEIC": "image/heic",
        "wave.gif": "image/gif",
        "referral.pdf": "application/pdf",
    }
    assert parsed.refused == ()
    assert parsed.visible_text == "Photos attached."


def test_other_files_are_not_kept_and_the_message_says_why():
    parsed = parse_email(
        email_with(
            ("invoice.exe", b"MZ\x90\x00 a program", "application/octet-stream"),
            ("photo.jpg", b"this is not really a photo", "image/jpeg"),
            ("broken.png", png()[:20], "image/png"),
            ("scan.pdf", PDF, "application/pdf"),
        )
    )

    assert [each.name for each in parsed.attachments] == ["scan.pdf"]
    assert [(each.name, each.reason) for each in parsed.refused] == [
        ("invoice.exe", ONLY_PHOTOS_AND_PDFS),
        ("photo.jpg", ONLY_PHOTOS_AND_PDFS),
        ("broken.png", DAMAGED),
    ]
    assert parsed.visible_text.endswith(
        "[3 attachments not kept: invoice.exe — only photos and PDF files are kept; "
        "photo.jpg — only photos and PDF files are kept; broken.png — the file is damaged or not what its name says]"
    )


def test_one_refused_file_is_named_in_the_message():
    parsed = parse_email(email_with(("notes.docx", b"PK\x03\x04 word", "application/octet-stream")))

    assert (
        parsed.visible_text
        == "Photos attached.\n\n[1 attachment not kept: notes.docx — only photos and PDF files are kept]"
    )


def test_size_and_count_limits_are_kept():
    big_pdf = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    many = [
        (f"page-{number}.pdf", PDF.replace(b"Catalog", f"Catalog{number}".encode()), "application/pdf")
        for number in range(11)
    ]
    parsed = parse_email(email_with(("huge.pdf", big_pdf, "application/pdf"), *many))

    assert len(parsed.attachments) == 10
    assert ("huge.pdf", TOO_LARGE) in [(each.name, each.reason) for each in parsed.refused]
    assert ("page-10.pdf", TOO_MANY) in [(each.name, each.reason) for each in parsed.refused]


def test_a_file_name_cannot_carry_a_path_or_control_characters():
    parsed = parse_email(email_with(("../../etc/pass\x07wd.pdf", PDF, "application/pdf")))

    assert [each.name for each in parsed.attachments] == ["passwd.pdf"]


# ---------- Broken mail and automatic replies ----------


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 not an email at all"])
def test_something_that_is_not_an_email_is_refused(raw):
    with pytest.raises(UnreadableEmail):
        parse_email(raw)


def test_corrupt_mime_still_gives_what_can_be_read():
    raw = (
        b"From: =?utf-8?q?M=C4=81ori_broken?= <mere.ngata@example.com>\r\n"
        b"To: <<<>>>, reply+0123456789abcdef0123456789abcdef@reply.example\r\n"
        b"Subject: =?bogus?x?zzz?=\r\nMessage-ID: <corrupt@mail.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="missing"\r\n\r\n'
        b"--missing\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"VGhpcyBpcyBmaW5l!!!not-base64\r\n"
        b'--missing\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="half.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    )  # no closing boundary, bad base64, an unknown encoded word, a half PDF
    parsed = parse_email(raw)

    assert parsed.from_address == "mere.ngata@example.com"
    assert parsed.message_id == "<corrupt@mail.example>"
    assert "reply+0123456789abcdef0123456789abcdef@reply.example" in parsed.recipients
    assert parsed.visible_text.startswith("This is fine")
    assert [(each.name, each.reason) for each in parsed.refused] == [("half.pdf", DAMAGED)]


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "Precedence: bulk",
        "Precedence: auto_reply",
        "Return-Path: <>",
    ],
)
def test_automatic_replies_are_recognised(header):
    name, value = header.split(": ")
    message = EmailMessage()
    headers(message, subject="Automatic reply")
    message[name] = value
    message.set_content("I am away until Monday.")

    assert parse_email(message.as_bytes()).auto_reply


def test_a_bounce_from_the_mailer_daemon_is_recognised():
    raw = plain_email("Delivery failed").replace(
        b"From: Mere Ngata <mere.ngata@example.com>", b"From: Mail Delivery System <MAILER-DAEMON@mail.example>"
    )

    assert parse_email(raw).auto_reply


def test_an_ordinary_reply_is_not_an_automatic_one():
    message = EmailMessage()
    headers(message)
    message["Auto-Submitted"] = "no"
    message.set_content("I'm away next week, can we do the week after?")

    assert not parse_email(message.as_bytes()).auto_reply
