"""Message text with merge fields: a sandboxed Jinja environment, checks for composers, SMS segments."""
from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

# Texts are written by staff but filled with member data: the sandbox stops attribute tricks and
# the HTML environment escapes every value.
_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)

MERGE_FIELDS: dict[str, str] = {
    "first_name": "the contact's first name",
    "last_name": "the contact's last name",
    "full_name": "first and last name",
    "branch": "their branch's name",
    "employer": "their employer",
    "workplace": "their workplace",
    "job_title": "their job title",
    "membership_number": "their membership number",
}
# Email only: filled in by the outbox for every email to a contact.
EMAIL_FIELDS: dict[str, str] = {"unsubscribe_url": "the one-click unsubscribe link"}

SAMPLE_VALUES: dict[str, str] = {
    "first_name": "Sam", "last_name": "Okafor", "full_name": "Sam Okafor", "branch": "Liverpool Health",
    "employer": "Liverpool University Hospitals NHS FT", "workplace": "Royal Liverpool Hospital",
    "job_title": "Healthcare assistant", "membership_number": "10234567",
    "unsubscribe_url": "https://branchline.example/unsubscribe/…",
}


def merge_values(contact) -> dict[str, str]:
    """The merge fields for one contact (empty strings where we hold nothing)."""
    return {
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "full_name": f"{contact.first_name or ''} {contact.last_name or ''}".strip(),
        "branch": contact.branch.name if contact.branch else "",
        "employer": contact.employer.name if contact.employer else "",
        "workplace": contact.workplace.name if contact.workplace else "",
        "job_title": contact.job_title or "",
        "membership_number": contact.membership_number or "",
    }


def template_problem(source: str | None, *, email: bool = False, html: bool = False) -> str | None:
    """Why a text cannot be used, in plain words, or None when every merge field is known."""
    env = _html_env if html else _text_env
    try:
        parsed = env.parse(source or "")
    except TemplateSyntaxError as exc:
        return f"There is a merge-field mistake on line {exc.lineno}: {exc.message}. Merge fields look like {{{{ first_name }}}}."
    allowed = set(MERGE_FIELDS) | (set(EMAIL_FIELDS) if email else set())
    unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
    if unknown:
        return (f"Unknown merge field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"You can use: {', '.join(sorted(allowed))}.")
    return None


class CompiledText:
    """A send's subject, text and HTML compiled once, rendered per recipient."""

    def __init__(self, body: str, subject: str | None = None, html: str | None = None):
        self._body = _text_env.from_string(body or "")
        self._subject = _text_env.from_string(subject) if subject else None
        self._html = _html_env.from_string(html) if html else None

    def render(self, values: dict[str, str]) -> tuple[str | None, str, str | None]:
        """(subject, text, html) for these merge values."""
        body = self._body.render(values)
        subject = " ".join(self._subject.render(values).split()) if self._subject else None
        html = self._html.render(values) if self._html else None
        return subject, body, html


def text_to_html(text: str) -> str:
    """A plain-text email as simple HTML paragraphs (when a template has no HTML part)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{Markup('<br>').join(escape(line) for line in p.split(chr(10)))}</p>" for p in paragraphs)


# --- SMS length -------------------------------------------------------------------------------

# GSM 03.38 basic character set, and the extension table whose characters cost two septets.
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int
    non_gsm: str  # the characters that forced UCS-2, for the composer's hint


def sms_length(text: str) -> SmsLength:
    """How many characters and segments a text costs, as carriers count them."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
        units, encoding, offenders = septets, "GSM-7", ""
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
        offenders = "".join(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED))
    if units <= single:
        segments, per = (1 if units else 0), single
    else:
        segments, per = -(-units // multi), multi
    return SmsLength(encoding, units, segments, per, offenders)
