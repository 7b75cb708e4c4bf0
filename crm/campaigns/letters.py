"""Letter text: the merge fields a template may use, filling them in, and the sign-off every letter carries."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

# Written by staff, filled with what a member typed: the sandbox stops attribute tricks.
_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

LETTER_FIELDS: dict[str, str] = {
    "name": "the writer's full name",
    "first_name": "the writer's first name",
    "postcode": "the writer's postcode",
    "constituency": "the constituency of that postcode",
    "target_name": "the name of the person the letter is to",
    "target_title": "their title, like “Chief Executive, Liverpool University Hospitals NHS FT”",
    "employer": "the writer's employer, as they chose it",
    "workplace": "the writer's workplace, as they typed it",
    "personal_story": "where the writer adds their own words (they see a prompt there)",
}

# What the writer sees where {{ personal_story }} goes, until they replace it with their own words.
PERSONAL_PROMPT = "[Replace this line with a few sentences in your own words: what this means for you, your work or your family.]"

SAMPLE = {
    "name": "Sam Sample", "first_name": "Sam", "postcode": "L8 7SS", "constituency": "Liverpool Riverside",
    "target_name": "Alex Example MP", "target_title": "Member of Parliament for Liverpool Riverside",
    "employer": "Liverpool University Hospitals NHS FT", "workplace": "Royal Liverpool Hospital",
}


def template_problem(source: str | None) -> str | None:
    """Why a subject or body cannot be used, in plain words, or None."""
    try:
        parsed = _env.parse(source or "")
    except TemplateSyntaxError as exc:
        return (f"There is a merge-field mistake on line {exc.lineno}: {exc.message}. "
                "Merge fields look like {{ target_name }}.")
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(LETTER_FIELDS))
    if unknown:
        return (f"Unknown merge field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"You can use: {', '.join(LETTER_FIELDS)}.")
    return None


@lru_cache(maxsize=256)
def _compiled(source: str):
    # Compiling is most of the cost of filling a letter; a campaign has a handful of templates.
    return _env.from_string(source)


def fill(source: str, values: dict[str, str]) -> str:
    """A template with the merge fields filled in; the personal-story slot becomes the prompt line."""
    merged = {key: "" for key in LETTER_FIELDS} | values
    merged.setdefault("personal_story", PERSONAL_PROMPT)
    if not merged.get("personal_story"):
        merged["personal_story"] = PERSONAL_PROMPT
    text = _compiled(source or "").render(merged)
    return text.replace("\r\n", "\n").strip()


def fill_subject(source: str, values: dict[str, str]) -> str:
    return " ".join(fill(source, {**values, "personal_story": ""}).replace(PERSONAL_PROMPT, "").split())


def has_prompt(body: str) -> bool:
    return PERSONAL_PROMPT[:40] in (body or "")


def without_prompt(body: str) -> str:
    """The body with the untouched prompt line taken out (a letter never goes out with it)."""
    lines = [line for line in (body or "").split("\n") if PERSONAL_PROMPT[:40] not in line]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def sign_off(name: str, postcode: str, campaign_name: str) -> str:
    """The footer every letter sent for a member carries: who wrote it and where replies go."""
    return (f"\n\n--\n{name}\n{postcode}\n\n"
            f"{name} wrote this letter using the “{campaign_name}” campaign page. "
            "Reply to this email to answer them directly.")
