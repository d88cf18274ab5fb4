"""Reading an email a patient sent: raw MIME bytes in, a plain `ParsedEmail` out. No Django here.

Mail from real mail programs is often broken (a wrong or unknown charset, a part with no
content, parts nested inside parts, a forwarded email as an attachment), so every step falls
back to something readable rather than failing; only mail with no headers at all is refused
(`UnreadableEmail`).

- Text: the text/plain part, else text derived from the HTML. `visible_text` is the patient's
  reply with the quoted history taken off ("On … wrote:", "-----Original Message-----",
  Outlook's "From: … Sent: …" block, lines starting with ">"); `full_text` keeps it all.
- HTML: quoted history taken off first (Gmail's div.gmail_quote, Apple Mail's
  blockquote[type=cite], Outlook's #appendonsend and #divRplyFwdMsg), then sanitised with nh3
  against a short list of text tags; links only http, https and mailto; nothing remote.
- Attachments: photos (JPEG, PNG, HEIC/HEIF, GIF, WebP) and PDF files, recognised by their
  content, within size and count limits. Anything else is listed as not kept, with the reason,
  and the text says so.
- Auto-replies (out-of-office, bounces) are recognised so they are not stored as messages.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.header
import email.utils
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from html import escape, unescape
from html.parser import HTMLParser

import nh3
from PIL import Image

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENTS = 10
NAME_MAX_CHARS = 150
_MAX_DEPTH = 12

ALLOWED_TAGS = frozenset({"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "blockquote", "a"})
# Removed with everything inside them, not just the tag.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "svg", "math", "template", "noscript", "title", "form",
     "textarea", "select", "head"}
)  # fmt: skip


class UnreadableEmail(ValueError):
    """The bytes are not an email (no headers could be read)."""


@dataclass(frozen=True)
class KeptAttachment:
    name: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class RefusedAttachment:
    name: str
    reason: str


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str  # with its angle brackets, "<…@…>"; empty when the email has none
    from_address: str  # lower case; empty when there is no usable From
    from_name: str
    recipients: tuple[str, ...]  # lower case, each once: To, Cc, Delivered-To, X-Original-To, the envelope's
    subject: str
    visible_text: str  # the reply, quoted history taken off
    full_text: str  # everything, quoted history included
    visible_html: str | None  # sanitised; None when the email had no HTML
    full_html: str | None
    attachments: tuple[KeptAttachment, ...]
    refused: tuple[RefusedAttachment, ...]
    auto_reply: bool


# ---------- The whole email ----------


def parse_email(raw: bytes, *, envelope_recipient: str = "") -> ParsedEmail:
    """Read `raw` (the message as received). Raises UnreadableEmail when it has no headers."""
    if not raw or not raw.strip():
        raise UnreadableEmail("The email is empty.")
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as error:  # the parser itself is lenient; this is for the truly unexpected
        raise UnreadableEmail("The email could not be read.") from error
    if not list(message.keys()):
        raise UnreadableEmail("The email has no headers.")

    from_name, from_address = _first_address(_raw_header(message, "From"))
    recipients = _recipients(message, envelope_recipient)
    parts = _Parts()
    _walk(message, parts, want=frozenset({"plain", "html"}), depth=0)
    attachments, refused = _choose_attachments(parts.candidates)

    full_html_raw = "".join(parts.htmls) if parts.htmls else None
    full_html = sanitise_html(_rewrite(full_html_raw, strip_quotes=False)) if full_html_raw is not None else None
    visible_html = sanitise_html(strip_quoted_html(full_html_raw)) if full_html_raw is not None else None
    if visible_html is not None and not html_to_text(visible_html).strip():
        visible_html = full_html

    if parts.texts:
        full_text = _tidy_text("\n".join(parts.texts))
    elif full_html is not None:
        full_text = html_to_text(full_html)
    else:
        full_text = ""
    if parts.texts:
        visible_text = strip_quoted_text(full_text)
    elif visible_html is not None:
        visible_text = html_to_text(visible_html)
    else:
        visible_text = ""
    if not visible_text.strip():
        visible_text = full_text
    note = refused_note(refused)
    if note:
        visible_text = f"{visible_text}\n\n{note}".strip()
        full_text = f"{full_text}\n\n{note}".strip()

    return ParsedEmail(
        message_id=_message_id(_raw_header(message, "Message-ID")),
        from_address=from_address,
        from_name=from_name,
        recipients=recipients,
        subject=_decoded(_raw_header(message, "Subject"))[:250],
        visible_text=visible_text,
        full_text=full_text,
        visible_html=visible_html,
        full_html=full_html,
        attachments=tuple(attachments),
        refused=tuple(refused),
        auto_reply=is_auto_reply(message, from_address=from_address),
    )


def refused_note(refused: list[RefusedAttachment] | tuple[RefusedAttachment, ...]) -> str:
    """ "[1 attachment not kept: scan.zip — only photos and PDF files are kept]"."""
    if not refused:
        return ""
    count = len(refused)
    noun = "attachment" if count == 1 else "attachments"
    listed = "; ".join(f"{each.name} — {each.reason}" for each in refused)
    return f"[{count} {noun} not kept: {listed}]"


# ---------- Headers ----------


def _raw_header(message: Message, name: str) -> str:
    """The header's text as sent (encoded words decoded later), without the policy's parsing,
    which can raise on malformed values."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return " ".join(str(value).split())
    return ""


def _raw_headers(message: Message, name: str) -> list[str]:
    return [" ".join(str(value).split()) for key, value in message.raw_items() if key.lower() == name.lower()]


def _decoded(value: str) -> str:
    if not value:
        return ""
    try:
        words = email.header.decode_header(value)
        decoded = "".join(
            part.decode(_known_charset(charset), errors="replace") if isinstance(part, bytes) else part
            for part, charset in words
        )
    except Exception:
        decoded = value
    return " ".join(decoded.split())


def _first_address(value: str) -> tuple[str, str]:
    addresses = _addresses(value)
    return addresses[0] if addresses else ("", "")


def _addresses(value: str) -> list[tuple[str, str]]:
    found = []
    for name, address in email.utils.getaddresses([value]):
        address = address.strip().strip("<>").lower()
        if "@" in address and " " not in address:
            found.append((_decoded(name), address))
    return found


def _recipients(message: Message, envelope_recipient: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    values = [envelope_recipient]
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        values.extend(_raw_headers(message, name))
    for value in values:
        for _name, address in _addresses(value):
            seen.setdefault(address, None)
    return tuple(seen)


_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def _message_id(value: str) -> str:
    found = _MESSAGE_ID.search(value)
    if found:
        return f"<{found.group(1)}>"[:250]
    bare = value.strip()
    return f"<{bare}>"[:250] if bare and " " not in bare else ""


def is_auto_reply(message: Message, *, from_address: str = "") -> bool:
    """Out-of-office answers, bounces and other mail no person wrote (RFC 3834 and the usual
    headers mail servers use instead)."""
    auto_submitted = _raw_header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if any(_raw_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return True
    if _raw_header(message, "Precedence").lower() in {"bulk", "auto_reply", "junk", "list"}:
        return True
    if message.get_content_type() == "multipart/report":
        return True
    local_part = from_address.partition("@")[0]
    if local_part in {"mailer-daemon", "postmaster"} or local_part.startswith(("mailer-daemon", "bounce")):
        return True
    if _raw_header(message, "Return-Path").replace(" ", "") == "<>":
        return True
    subject = _decoded(_raw_header(message, "Subject")).lower()
    return subject.startswith(("automatic reply:", "auto-reply:", "autoreply:", "out of office", "undeliverable:"))


# ---------- The parts ----------


@dataclass
class _Candidate:
    name: str
    content: bytes


@dataclass
class _Parts:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)


def _walk(part: Message, parts: _Parts, *, want: frozenset[str], depth: int) -> None:
    """Collect the text, HTML and files of `part`. In a multipart/alternative only the plain
    branch gives text and only the rich branch gives HTML (they say the same thing)."""
    if depth > _MAX_DEPTH:
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        _walk_forwarded(part, parts, want=want, depth=depth)
        return
    if part.is_multipart():
        children = _children(part)
        if content_type == "multipart/alternative":
            plain = next((child for child in children if _contains(child, "text/plain")), None)
            rich = next((child for child in reversed(children) if _contains(child, "text/html")), None)
            if plain is None and rich is None:
                children = children[:1]
            elif plain is rich and plain is not None:
                children = [plain]
            else:
                for child, branch in ((plain, "plain"), (rich, "html")):
                    if child is not None:
                        _walk(child, parts, want=want & {branch}, depth=depth + 1)
                return
        for child in children:
            _walk(child, parts, want=want, depth=depth + 1)
        return

    disposition = _disposition(part)
    filename = _filename(part)
    is_body = disposition != "attachment" and not filename
    if content_type == "text/plain" and is_body:
        if "plain" in want:
            parts.texts.append(_text_of(part))
        return
    if content_type == "text/html" and is_body:
        if "html" in want:
            parts.htmls.append(_text_of(part))
        return
    content = _payload_bytes(part)
    if content is None:
        return
    parts.candidates.append(_Candidate(name=filename, content=content))


def _walk_forwarded(part: Message, parts: _Parts, *, want: frozenset[str], depth: int) -> None:
    """A forwarded email attached whole: its words follow the patient's, under a heading."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return
    subject = _decoded(_raw_header(inner, "Subject"))
    sender = _decoded(_raw_header(inner, "From"))
    heading = f"---------- Forwarded message ----------\nFrom: {sender}\nSubject: {subject}\n"
    if "plain" in want:
        parts.texts.append(heading)
    if "html" in want and parts.htmls:
        parts.htmls.append("<p>" + escape(heading).replace("\n", "<br>") + "</p>")
    _walk(inner, parts, want=want, depth=depth + 1)


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _contains(part: Message, content_type: str) -> bool:
    return any(each.get_content_type() == content_type for each in part.walk())


def _disposition(part: Message) -> str:
    try:
        return part.get_content_disposition() or ""
    except Exception:
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return safe_filename(_decoded(name)) if name else ""


def safe_filename(name: str) -> str:
    """The last part of the name, without control characters or path separators."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    return name[:NAME_MAX_CHARS]


def _payload_bytes(part: Message) -> bytes | None:
    if part.is_multipart():
        return None
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        # The stdlib hands back the encoded text when base64 is damaged; decode what can be decoded.
        raw = part.get_payload(decode=False)
        encoded = re.sub(rb"[^A-Za-z0-9+/]", b"", str(raw).encode("ascii", errors="ignore"))
        if len(encoded) % 4 == 1:
            encoded = encoded[:-1]
        return base64.b64decode(encoded + b"=" * (-len(encoded) % 4))
    try:
        content = part.get_payload(decode=True)
    except Exception:
        return None
    return content if isinstance(content, bytes) else None


def _known_charset(charset: str | None) -> str:
    if not charset:
        return "utf-8"
    charset = charset.strip().strip('"').lower()
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return {"us-ascii": "utf-8", "ascii": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252"}.get(charset, charset)


def _text_of(part: Message) -> str:
    """The part's text in its declared charset; when that is wrong (bytes that do not decode),
    UTF-8, then Windows-1252, which decodes anything."""
    content = _payload_bytes(part) or b""
    declared = _known_charset(part.get_content_charset())
    for charset in (declared, "utf-8"):
        try:
            return content.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("cp1252", errors="replace")


# ---------- Attachments ----------

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"})
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
ONLY_PHOTOS_AND_PDFS = "only photos and PDF files are kept"
DAMAGED = "the file is damaged or not what its name says"
EMPTY = "the file is empty"
TOO_LARGE = "larger than 10 MB"
TOO_MUCH = "the email's files come to more than 25 MB"
TOO_MANY = "more than 10 files in one email"


def kind_of(content: bytes) -> str:
    """The file's type from its first bytes; empty when it is not one Clearplan keeps."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if b"%PDF-" in content[:1024]:
        return "application/pdf"
    return ""


def _intact(content: bytes, content_type: str) -> bool:
    if content_type == "application/pdf":
        return b"%%EOF" in content[-2048:]
    if content_type == "image/heic":
        return True  # Pillow cannot read HEIC without a plug-in; its header was checked
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception:
        return False
    return True


def _choose_attachments(candidates: list[_Candidate]) -> tuple[list[KeptAttachment], list[RefusedAttachment]]:
    kept: list[KeptAttachment] = []
    refused: list[RefusedAttachment] = []
    seen: set[str] = set()
    total = 0
    for number, candidate in enumerate(candidates, start=1):
        digest = hashlib.sha256(candidate.content).hexdigest()
        if digest in seen:
            continue  # the same file in both branches of an alternative
        seen.add(digest)
        content_type = kind_of(candidate.content)
        name = candidate.name or (f"attachment-{number}.{_EXTENSIONS[content_type]}" if content_type else "attachment")
        size = len(candidate.content)
        reason = ""
        if not size:
            reason = EMPTY
        elif not content_type:
            reason = ONLY_PHOTOS_AND_PDFS
        elif size > MAX_ATTACHMENT_BYTES:
            reason = TOO_LARGE
        elif not _intact(candidate.content, content_type):
            reason = DAMAGED
        elif len(kept) >= MAX_ATTACHMENTS:
            reason = TOO_MANY
        elif total + size > MAX_ATTACHMENTS_BYTES:
            reason = TOO_MUCH
        if reason:
            refused.append(RefusedAttachment(name=name, reason=reason))
            continue
        total += size
        kept.append(KeptAttachment(name=name, content=candidate.content, content_type=content_type))
    return kept, refused


# ---------- Quoted history in plain text ----------

_WROTE_END = re.compile(r"\b(wrote|writes|a écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*(On|Le|Am|El)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*\*?From:\*?\s", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(Sent|Date):\*?\s", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def strip_quoted_text(text: str) -> str:
    """The reply without the earlier messages it quotes."""
    lines = text.split("\n")
    cut = len(lines)
    for index, _line in enumerate(lines):
        if _starts_quote(lines, index):
            cut = index
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    return _tidy_text("\n".join(kept))


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line):
        return True
    if _ON_START.match(line):
        # "On Tue, 3 Mar 2026 at 10:15, Harbour Dental <…> wrote:", often wrapped over two or three lines
        joined = " ".join(each.strip() for each in lines[index : index + 3])
        for length in (1, 2, 3):
            if _WROTE_END.search(" ".join(each.strip() for each in lines[index : index + length])):
                return len(joined) < 400
    if _HEADER_FROM.match(line):
        following = lines[index + 1 : index + 5]
        return any(_HEADER_SENT.match(each) for each in following)
    if _UNDERSCORES.match(line):
        following = [each for each in lines[index + 1 : index + 4] if each.strip()]
        return bool(following) and bool(_HEADER_FROM.match(following[0]))
    return False


def _tidy_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    tidied = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return tidied.strip()


# ---------- Quoted history in HTML ----------

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix"})
# Outlook puts its markers before the quoted message, and everything after them is history.
_REST_IS_HISTORY_IDS = frozenset(
    {"appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container", "stopspelling"}
)
# Block elements become paragraphs, so text from neighbouring blocks does not run together
# once the sanitiser drops the tags it does not allow.
_BLOCKS = frozenset(
    {"div", "section", "article", "header", "footer", "center", "address", "pre", "h1", "h2", "h3", "h4", "h5",
     "h6", "tr", "dl", "dt", "dd", "table", "hr"}
)  # fmt: skip


class _Rewriter(HTMLParser):
    """Block elements to paragraphs; with `strip_quotes`, the quoted history left out."""

    def __init__(self, *, strip_quotes: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.strip_quotes = strip_quotes
        self.out: list[str] = []
        self.skipping: str = ""  # the tag whose element is being left out
        self.skip_depth = 0
        self.finished = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.finished:
            return
        if self.skipping:
            if tag == self.skipping and tag not in _VOID:
                self.skip_depth += 1
            return
        values = {name: (value or "") for name, value in attrs}
        if self.strip_quotes and values.get("id", "").lower() in _REST_IS_HISTORY_IDS:
            self.finished = True
            return
        classes = set(values.get("class", "").split())
        is_cite = tag == "blockquote" and values.get("type", "").lower() == "cite"
        if self.strip_quotes and (classes & _QUOTE_CLASSES or is_cite):
            if is_cite:
                self._drop_attribution()
            if tag not in _VOID:
                self.skipping, self.skip_depth = tag, 1
            return
        if tag in _BLOCKS:
            self.out.append("<p>")
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.finished or self.skipping:
            return
        values = {name: (value or "") for name, value in attrs}
        if self.strip_quotes and values.get("id", "").lower() in _REST_IS_HISTORY_IDS:
            self.finished = True
            return
        self.out.append("<p>" if tag in _BLOCKS else self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.finished:
            return
        if self.skipping:
            if tag == self.skipping:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skipping = ""
            return
        self.out.append("</p>" if tag in _BLOCKS else f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not (self.finished or self.skipping):
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    def _drop_attribution(self) -> None:
        """Apple Mail and Thunderbird put "On …, … wrote:" just before the quote, outside it."""
        text = ""
        for index in range(len(self.out) - 1, -1, -1):
            chunk = self.out[index]
            if chunk.startswith("<"):
                continue
            text = unescape(chunk) + text
            if text.strip() and _ON_START.match(text.strip() + " "):
                if _WROTE_END.search(" ".join(text.split())):
                    del self.out[index:]
                return
            if len(text) > 400:
                return


def strip_quoted_html(html: str) -> str:
    return _rewrite(html, strip_quotes=True)


def _rewrite(html: str, *, strip_quotes: bool) -> str:
    rewriter = _Rewriter(strip_quotes=strip_quotes)
    try:
        rewriter.feed(html)
        rewriter.close()
    except Exception:
        return html
    return "".join(rewriter.out)


# ---------- Sanitising and plain text ----------


def sanitise_html(html: str) -> str:
    """Only text formatting and safe links are left: no scripts, styles, images or other remote
    content, no event handlers, no data: or javascript: links."""
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        url_relative="deny",
    )
    cleaned = re.sub(r"<p>(\s|<br>)*</p>", "", cleaned)
    return cleaned.strip()


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in {"p", "blockquote", "ul", "ol"} or tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skipping = max(0, self.skipping - 1)
        elif tag in {"p", "blockquote", "ul", "ol"} or tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            shown = href.removeprefix("mailto:")
            if href and not "".join(self.out[-3:]).strip().endswith(shown):
                self.out.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(" ".join(data.split()) if data.strip() else (" " if data else ""))


def html_to_text(html: str) -> str:
    maker = _TextMaker()
    with contextlib.suppress(Exception):
        maker.feed(html)
        maker.close()
    lines = [" ".join(line.split()) if line.strip() else "" for line in "".join(maker.out).split("\n")]
    return _tidy_text("\n".join(lines))
