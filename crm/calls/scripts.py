"""Call scripts: Markdown with merge fields, rendered safely, and the default scripts for new lists."""
from __future__ import annotations

from jinja2 import Undefined
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in a script is shown as text: scripts are written by branch officers, read by everyone.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
_jinja = SandboxedEnvironment(undefined=Undefined, autoescape=False)

MERGE_FIELDS = {
    "first_name": "the member's first name",
    "last_name": "the member's last name",
    "workplace": "their workplace",
    "employer": "their employer",
    "job_title": "their job title",
    "branch": "their branch's name",
    "caller_first_name": "your first name",
}

NEW_JOINER_SCRIPT = """\
Hi **{{ first_name }}**, my name is {{ caller_first_name }} and I'm a volunteer with {{ branch }}.

I'm calling to say **welcome to the union**, and thank you for joining.

- Is now a good time for a couple of minutes?
- You work at **{{ workplace }}** as {{ job_title }} — is that still right?
- Do you know who your steward is at {{ workplace }}? If not, I'll make sure they get in touch.
- Is there anything happening at work you'd like some help with?

We're always looking for members to get more involved — would you be interested in becoming a rep?
"""

DOCAS_LEAVER_SCRIPT = """\
Hi **{{ first_name }}**, my name is {{ caller_first_name }} and I'm a volunteer with {{ branch }}.

Your union subscriptions used to be taken from your pay at **{{ employer }}**, and that has stopped —
often that's because of a change of job or employer.

- Have you changed job or employer recently?
- So that you stay covered at work (and keep legal advice and support), can we move your
  membership to **direct debit**? It takes two minutes.

If they've retired or left the sector, thank them and record it: there may be a retired-members
section they'd like to join.
"""

NEW_JOINER_QUESTIONS = [
    {"key": "rep", "text": "Would you like to become a rep?", "type": "yes_no"},
    {"key": "issue", "text": "Any issue at work they'd like help with?", "type": "text"},
]
DOCAS_LEAVER_QUESTIONS = [
    {"key": "new_employer", "text": "New employer, if they've moved", "type": "text"},
    {"key": "reason", "text": "Why did the deduction stop?", "type": "choice",
     "choices": ["Changed job", "Changed employer", "Payroll error", "Retired", "Other"]},
]


def render_script(source: str, values: dict) -> Markup:
    """The script with merge fields filled, as safe HTML; a broken template shows as written."""
    try:
        text = _jinja.from_string(source or "").render(**{k: v or "" for k, v in values.items()})
    except Exception:  # a typo in a merge field must never stop a call
        text = source or ""
    return Markup(_markdown.render(text))


def script_problem(source: str) -> str | None:
    """Why a script cannot be used, in plain words, or None."""
    try:
        _jinja.from_string(source or "")
    except Exception as exc:
        return f"The script has a merge-field mistake: {exc}. Merge fields look like {{{{ first_name }}}}."
    return None
