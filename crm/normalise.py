"""Field normalisers shared by imports, admin forms and the public campaign page.

Each normaliser returns the canonical value, None for empty or blank input, or raises
`FieldError` whose message is one plain-English sentence naming the value, fit to show a
user or to write into an import report. Pure Python: no Flask, no database; the import
pipeline calls these hundreds of thousands of times a second, so the common shapes are
decided with string operations and the libraries (phonenumbers, email-validator) are the
fallback for everything else.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from .vocabulary import ContactStatus, PaymentMethod

__all__ = [
    "FieldError",
    "normalise_mobile",
    "mobile_fast_path",
    "mobile_via_phonenumbers",
    "normalise_email",
    "normalise_postcode",
    "postcode_outward",
    "normalise_name",
    "split_full_name",
    "parse_date",
    "parse_payment_method",
    "parse_status",
    "normalise_membership_number",
    "POSTCODE_RE",
]


class FieldError(ValueError):
    """One field's value cannot be used; the message says why in a plain sentence."""

    def __init__(self, reason: str, value: object = None):
        super().__init__(reason)
        self.value = value


def _shown(value: object) -> str:
    """The value as quoted in a message: one line, and not so long it swamps the sentence."""
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:57] + "…"


def _text(raw: object) -> str | None:
    """The raw cell as stripped text, or None when it is blank. Integral floats lose their .0."""
    if type(raw) is str:
        text = raw.strip()
        return text or None
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        if math.isnan(raw):
            return None
        if raw.is_integer():
            return str(int(raw))
    return str(raw).strip() or None


# ---------------------------------------------------------------------------------------------
# Mobile numbers

def _gb_fast_mobile_pattern() -> re.Pattern[str]:
    """A regex for a 10-digit GB national number that phonenumbers would call a valid mobile.

    Built from the installed phonenumbers metadata, so it follows library upgrades: the number
    must match GB's general pattern and mobile pattern, and none of the types phonenumbers
    tests before mobile (premium rate, freephone, VoIP, personal, pager, UAN …), which would
    otherwise win in its `number_type`.
    """
    meta = phonenumbers.PhoneMetadata.metadata_for_region("GB")
    earlier = [
        meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip,
        meta.personal_number, meta.pager, meta.uan, meta.voicemail,
    ]
    excluded = [
        d.national_number_pattern for d in earlier
        if d is not None and d.national_number_pattern
        and (not d.possible_length or 10 in d.possible_length)
    ]
    if meta.mobile.possible_length and 10 not in meta.mobile.possible_length:
        return re.compile(r"(?!)")  # metadata we do not understand: everything takes the slow path
    parts = [rf"(?=(?:{meta.general_desc.national_number_pattern})\Z)"]
    if excluded:
        parts.append(r"(?!(?:" + "|".join(f"(?:{p})" for p in excluded) + r")\Z)")
    parts.append(rf"(?:{meta.mobile.national_number_pattern})\Z")
    return re.compile("".join(parts))


_GB_MOBILE = _gb_fast_mobile_pattern()
_PHONE_SEPARATORS = str.maketrans("", "", " .-()")


def mobile_fast_path(raw: str) -> str | None:
    """E.164 for the common UK mobile shapes, or None when undecided (the caller falls back).

    Never rejects: anything unusual, and anything invalid, is left to phonenumbers, so
    whatever this accepts is exactly what phonenumbers would accept (tests/imports prove it).
    """
    s = raw.strip()
    plus = s[:1] == "+"
    if plus:
        s = s[1:]
    d = s.translate(_PHONE_SEPARATORS)
    if not (d.isascii() and d.isdigit()):
        return None
    n = len(d)
    if plus:
        if d[:2] != "44":
            return None
        d = d[3:] if d[2:3] == "0" else d[2:]
    elif n == 11 and d[0] == "0":
        d = d[1:]
    elif n == 10:
        pass
    elif n == 12 and d[:2] == "44":
        d = d[2:]
    elif n == 13 and d[:3] == "440":
        d = d[3:]
    elif n == 14 and d[:4] == "0044":
        d = d[4:]
    elif n == 15 and d[:5] == "00440":
        d = d[5:]
    else:
        return None
    if len(d) == 10 and _GB_MOBILE.match(d):
        return "+44" + d
    return None


_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mobile_via_phonenumbers(raw: str, region: str = "GB") -> str:
    """E.164 through phonenumbers' parse and validation; FieldError when not a valid mobile."""
    text = raw.strip()
    where = "UK " if region == "GB" else ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FieldError(f"mobile '{_shown(text)}' is not a valid {where}mobile number", raw) from None
    if not phonenumbers.is_valid_number(number):
        if number.country_code != phonenumbers.country_code_for_region(region):
            where = ""
        raise FieldError(f"mobile '{_shown(text)}' is not a valid {where}mobile number", raw)
    kind = phonenumbers.number_type(number)
    if kind in _MOBILE_TYPES:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise FieldError(f"mobile '{_shown(text)}' is a landline, not a mobile number", raw)
    raise FieldError(f"mobile '{_shown(text)}' is not a mobile number", raw)


def normalise_mobile(raw: object, region: str = "GB") -> str | None:
    """A mobile number in E.164 ("+447400123456"), None when blank, FieldError when not a mobile."""
    text = _text(raw)
    if text is None:
        return None
    if region == "GB":
        fast = mobile_fast_path(text)
        if fast is not None:
            return fast
    return mobile_via_phonenumbers(text, region)


# ---------------------------------------------------------------------------------------------
# Email addresses

# The everyday ASCII shape, accepted without email-validator only when email-validator would
# accept it unchanged but for the domain's case: dot-atom local part; hostname labels of letters,
# digits and inner hyphens; at least one dot; a TLD ending in a letter. Punycode ("xn--"), R-LDH
# labels ("ab--"), RFC 2142 role mailboxes (lower-cased by email-validator), special-use domains
# and over-long parts are left to email-validator.
_ATEXT = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_FAST = re.compile(
    rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[A-Za-z0-9-]{{0,62}}[A-Za-z])"
)
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def _email_fast(text: str) -> str | None:
    m = _EMAIL_FAST.fullmatch(text)
    if m is None or len(text) > 254:
        return None
    local, domain = m.groups()
    domain = domain.lower()
    if "--" in domain or len(domain) > 253 or local.lower() in _ROLE_MAILBOXES:
        return None
    last = domain.rsplit(".", 1)[1]
    if len(last) > 63 or last[0] == "-":
        return None
    if _special_use(domain):
        return None
    return f"{local}@{domain}"


_SPECIAL: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def _special_use(domain: str) -> bool:
    """Whether email-validator would refuse the domain as special-use (.local, .test, …)."""
    global _SPECIAL
    # Looked up at each call: SPECIAL_USE_DOMAIN_NAMES is a public setting callers may change.
    names = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
    if names != _SPECIAL[0]:
        _SPECIAL = (names, tuple("." + name for name in names))
    return domain in names or domain.endswith(_SPECIAL[1])


def normalise_email(raw: object) -> str | None:
    """An email address checked for format only (no DNS), domain lower-cased, local part as given."""
    text = _text(raw)
    if text is None:
        return None
    fast = _email_fast(text)
    if fast is not None:
        return fast
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise FieldError(f"email '{_shown(text)}' is not a valid email address", raw) from None


# ---------------------------------------------------------------------------------------------
# Postcodes

# Outward code (A9, A99, AA9, AA99, A9A, AA9A) then inward code (9AA); inward letters never C I K M O V.
POSTCODE_RE = re.compile(r"(GIR|[A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9][ABD-HJLNP-UW-Z]{2})")
_POSTCODE_COMPACT = re.compile(r"(GIR|[A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})")


@lru_cache(maxsize=65536)
def _postcode(text: str) -> str | None:
    compact = "".join(text.split()).upper()
    if not compact.isascii():
        return None
    m = _POSTCODE_COMPACT.fullmatch(compact)
    if m is None or (m.group(1) == "GIR" and m.group(2) != "0AA"):
        return None
    return f"{m.group(1)} {m.group(2)}"


def normalise_postcode(raw: object) -> str | None:
    """A UK postcode in canonical form ("sw1a1aa" → "SW1A 1AA"), None when blank, else FieldError."""
    text = _text(raw)
    if text is None:
        return None
    canonical = _postcode(text)
    if canonical is None:
        raise FieldError(f"postcode '{_shown(text)}' is not a valid UK postcode", raw)
    return canonical


def postcode_outward(pc: object) -> str | None:
    """The outward code of a postcode ("SW1A 1AA" → "SW1A"); None when blank; FieldError if invalid."""
    canonical = normalise_postcode(pc)
    return None if canonical is None else canonical.split(" ", 1)[0]


# ---------------------------------------------------------------------------------------------
# Names

_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "la", "le", "ter", "ten",
})
_NAME_BREAKS = frozenset("-'’‘ ")


def _lower1(c: str) -> str:
    low = c.lower()
    return low if len(low) == 1 else c


def _upper1(c: str) -> str:
    up = c.upper()
    return up if len(up) == 1 else c


def _case_word(word: str) -> str:
    """Name case for one lower-cased, space-free word: smith-jones → Smith-Jones, o'brien → O'Brien."""
    out = []
    start = True
    for c in word:
        out.append(_upper1(c) if start else c)
        start = c in _NAME_BREAKS
    cased = "".join(out)
    if len(cased) > 2 and cased[:2] == "Mc" and cased[2].isalpha():
        cased = "Mc" + _upper1(cased[2]) + cased[3:]
    return cased


def _name_case(name: str) -> str:
    words = "".join(_lower1(c) for c in name).split(" ")
    last = len(words) - 1
    return " ".join(
        w if 0 < i < last and w in _PARTICLES else _case_word(w)
        for i, w in enumerate(words)
    )


def _single_case(name: str) -> bool:
    return not any(c.islower() for c in name) or not any(c.isupper() for c in name)


@lru_cache(maxsize=65536)
def _normalise_name_text(text: str) -> str:
    name = " ".join(text.split())
    if not name or not _single_case(name):
        return name
    cased = _name_case(name)
    # Keep the result only if normalising it again would not change it (odd Unicode case
    # mappings aside, it always is), so normalising twice never changes a name.
    if not _single_case(cased) or _name_case(cased) == cased:
        return cased
    return name


def normalise_name(raw: object) -> str:
    """A name trimmed with inner spaces collapsed; ALL CAPS or all-lower names put in name case.

    "O'BRIEN" → "O'Brien", "mcdonald" → "McDonald", "JAN VAN DER BERG" → "Jan van der Berg";
    a name already in mixed case is kept as typed ("McKenzie-Smith", "de Souza"). Blank → "".
    """
    if raw is None:
        return ""
    return _normalise_name_text(raw if isinstance(raw, str) else str(raw))


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "cllr"})


def split_full_name(raw: object) -> tuple[str, str]:
    """First and last name from one column: "Surname, Forename" or "Forename [particles] Surname".

    Titles (Mr, Dr …) are dropped; "Jan van der Berg" → ("Jan", "van der Berg").
    """
    name = normalise_name(raw)
    if not name:
        return "", ""
    if "," in name:
        last, _, first = name.partition(",")
        return normalise_name(first), normalise_name(last)
    words = name.split(" ")
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words.pop(0)
    if len(words) == 1:
        return "", words[0]
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


# ---------------------------------------------------------------------------------------------
# Dates

# [0-9], not \d: \d would also take other scripts' digits, which int() then quietly accepts.
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
_UK = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?: [0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")
_WORDY = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]{3,9})\.?,?[ -]([0-9]{4}|[0-9]{2})")
_NUMERIC = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MONTHS = {
    name: number
    for number, names in enumerate([
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
        ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
        ("oct", "october"), ("nov", "november"), ("dec", "december"),
    ], start=1)
    for name in names
}
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 80000


def _two_digit_year(yy: int) -> int:
    """'24' → 2024 and '65' → 1965: the latest year not after this one."""
    this_year = date.today().year
    year = 2000 + yy
    return year if year <= this_year else year - 100


def _excel_serial(serial: float, raw: object) -> date:
    """Excel's 1900 date system, including its fictitious 29 February 1900 (serial 60)."""
    whole = math.floor(serial)
    if not 1 <= whole <= _EXCEL_MAX_SERIAL:
        raise FieldError(f"date '{_shown(raw)}' is not a date in a format we recognise (like 31/01/2024)", raw)
    if whole == 60:
        raise FieldError(f"date '{_shown(raw)}' is not a real date", raw)
    return _EXCEL_EPOCH + timedelta(days=whole + (1 if whole < 60 else 0))


def _real_date(year: int, month: int, day: int, raw: object) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError(f"date '{_shown(raw)}' is not a real date", raw) from None


@lru_cache(maxsize=65536)
def _parse_date_text(raw: str) -> date | None:
    text = " ".join(raw.split())
    if not text:
        return None
    m = _UK.fullmatch(text)
    if m:
        day, _, month, year = m.groups()
        y = int(year) if len(year) == 4 else _two_digit_year(int(year))
        return _real_date(y, int(month), int(day), text)
    m = _ISO.fullmatch(text)
    if m:
        return _real_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    m = _WORDY.fullmatch(text)
    if m and m.group(2).lower() in _MONTHS:
        day, month, year = m.groups()
        y = int(year) if len(year) == 4 else _two_digit_year(int(year))
        return _real_date(y, _MONTHS[month.lower()], int(day), text)
    if _NUMERIC.fullmatch(text):
        return _excel_serial(float(text), text)
    raise FieldError(f"date '{_shown(text)}' is not a date in a format we recognise (like 31/01/2024)", text)


def parse_date(raw: object) -> date | None:
    """A date from a cell: ISO, UK day-first (01/03/2024, 1/3/24, 01-03-2024, 01.03.2024),
    "1 Mar 2024", an Excel serial number, or a date/datetime; None when blank; else FieldError."""
    if type(raw) is str:
        return _parse_date_text(raw)
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise FieldError(f"date '{raw}' is not a date in a format we recognise (like 31/01/2024)", raw)
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise FieldError(f"date '{raw}' is not a date in a format we recognise (like 31/01/2024)", raw)
        return _excel_serial(raw, raw)
    return _parse_date_text(str(raw))


# ---------------------------------------------------------------------------------------------
# Vocabulary columns

@lru_cache(maxsize=4096)
def _key(raw: str) -> str:
    return "".join(c for c in raw.lower() if c.isalnum())


_PAYMENT_METHODS = {
    **dict.fromkeys(
        ["docas", "checkoff", "payroll", "payrolldeduction", "salarydeduction", "salary",
         "deductionatsource", "deductionfrompay", "docasdeductedfrompay"],
        PaymentMethod.DOCAS,
    ),
    **dict.fromkeys(["dd", "directdebit", "direct_debit"], PaymentMethod.DIRECT_DEBIT),
}

_STATUSES = {
    **dict.fromkeys(["member", "current", "active", "fullmember", "currentmember", "activemember"],
                    ContactStatus.MEMBER),
    **dict.fromkeys(["lapsed", "ceased", "resigned", "left", "lapsedmember", "exmember", "former"],
                    ContactStatus.LAPSED),
    **dict.fromkeys(["supporter"], ContactStatus.SUPPORTER),
}


def parse_payment_method(raw: object) -> PaymentMethod | None:
    """DOCAS (check-off, payroll, salary deduction) or direct debit (DD); None when blank."""
    text = _text(raw)
    if text is None:
        return None
    method = _PAYMENT_METHODS.get(_key(text))
    if method is None:
        raise FieldError(
            f"payment method '{_shown(text)}' is not one we recognise (DOCAS or direct debit)", raw
        )
    return method


def parse_status(raw: object) -> ContactStatus | None:
    """Member (current, active), lapsed (ceased, resigned, left) or supporter; None when blank."""
    text = _text(raw)
    if text is None:
        return None
    status = _STATUSES.get(_key(text))
    if status is None:
        raise FieldError(
            f"status '{_shown(text)}' is not one we recognise (member, lapsed or supporter)", raw
        )
    return status


# ---------------------------------------------------------------------------------------------
# Membership numbers

_MEMBERSHIP_NUMBER = re.compile(r"[A-Z]{0,6}[0-9]{1,20}")
_EXCEL_POINT_ZERO = re.compile(r"([0-9]+)\.0+")


def normalise_membership_number(raw: object) -> str | None:
    """Digits (leading zeros kept) or letters then digits, up to 20 characters, letters upper-cased;
    Excel's 12345678.0 → "12345678"; None when blank; else FieldError."""
    if type(raw) is str:
        number = raw.strip()
        if 0 < len(number) <= 20 and number.isdigit() and number.isascii():
            return number  # the everyday shape, decided without a regex
    if isinstance(raw, float) and not raw.is_integer() and math.isfinite(raw):
        raise FieldError(f"membership number '{raw}' is not a valid membership number", raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw < 0:
        raise FieldError(f"membership number '{raw}' is not a valid membership number", raw)
    text = _text(raw)
    if text is None:
        return None
    m = _EXCEL_POINT_ZERO.fullmatch(text)
    if m:
        text = m.group(1)
    number = text.upper()
    if len(number) > 20 or not number.isascii() or not _MEMBERSHIP_NUMBER.fullmatch(number):
        raise FieldError(f"membership number '{_shown(text)}' is not a valid membership number", raw)
    return number
