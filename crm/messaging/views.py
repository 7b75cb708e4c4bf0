"""Staff messaging pages (/messages): sends, templates, the check before sending, reports, replies.

Sends and templates need SEND_MESSAGES; the replies inbox needs ANSWER_REPLIES and is branch-scoped.
Views parse the request, call one operation in crm/messaging/service.py, commit and redirect. Member
data (search text, names, numbers) never goes in a URL: saved searches are named by their session
key, recipients by their position in a POST.
"""
from __future__ import annotations

import secrets
from functools import wraps

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Permission
from ..contacts.models import Contact
from ..database import utcnow
from ..extensions import db
from ..filters import saved_filters
from ..formtools import choices, show_errors
from ..pagination import paginate
from ..scoping import branch_condition, require
from ..templating import UK
from ..vocabulary import Channel
from . import bp, rendering, service
from .forms import ActionForm, AnswerForm, ComposeForm, PreviewForm, StartForm, TemplateForm, TestSendForm
from .models import ExclusionReason, MessageState, MessageTemplate, Send, SendStatus

SEND = Permission.SEND_MESSAGES
REPLY = Permission.ANSWER_REPLIES
CONTACTS_AREA = "contacts"  # where crm.contacts.views saves its searches (crm.filters)
STATE_BADGES = {
    "delivered": "good", "sent": "good", "failed": "bad", "undelivered": "bad", "unknown": "warn",
    "cancelled": "muted", "skipped": "muted", "queued": "neutral", "sending": "neutral",
}
STATUS_BADGES = {"draft": "muted", "scheduled": "neutral", "queuing": "neutral", "sending": "neutral",
                 "done": "good", "cancelled": "warn"}


def _me() -> User:
    return current_user._get_current_object()


def require_any(*permissions: Permission):
    """Signed-in users with any of the permissions get the view; everyone else a 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.can(p) for p in permissions):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.app_context_processor
def _messaging_helpers():
    return {"message_state_badges": STATE_BADGES, "send_status_badges": STATUS_BADGES}


def _nonce() -> str:
    return secrets.token_urlsafe(12)


# ---------------------------------------------------------------------------------------------
# The sends list


@bp.get("/")
@require_any(SEND, REPLY)
def index():
    me = _me()
    if not me.can(SEND):
        return redirect(url_for(".replies"))
    finished = paginate(service.finished_stmt(me), request.args.get("page", 1, type=int), 25)
    active = service.active_sends(me)
    return render_template(
        "messaging/index.html", drafts=service.drafts(me), active=active, finished=finished,
        progress={s.id: service.progress(s) for s in active},
        unhandled=service.unhandled_count(me) if me.can(REPLY) else None)


# ---------------------------------------------------------------------------------------------
# Templates


@bp.get("/templates")
@require(SEND)
def templates():
    archived = request.args.get("show") == "archived"
    return render_template("messaging/templates.html", templates=service.templates(archived=archived),
                           archived=archived, action_form=ActionForm())


def _template_page(form: TemplateForm, channel: Channel, template: MessageTemplate | None, *, sample=None,
                   status: int = 200):
    return render_template(
        "messaging/template_form.html", form=form, channel=channel, template=template, sample=sample,
        merge_fields=rendering.MERGE_FIELDS, email_fields=rendering.EMAIL_FIELDS,
        sms_length=rendering.sms_length((form.body.data or "")) if channel is Channel.SMS else None), status


def _save_template(form: TemplateForm, channel: Channel, template: MessageTemplate | None):
    me = _me()
    text = service.TemplateText(form.name.data or "", channel, form.body.data or "", form.subject.data,
                                form.html.data)
    if request.form.get("action") == "preview":
        form.validate()
        problems = service.text_problems(channel, text.body, text.subject, text.html)
        show_errors(form, problems)
        sample = service.sample_rendering(channel, text.body, text.subject, text.html)
        return _template_page(form, channel, template, sample=sample, status=200 if sample else 422)
    if form.validate():
        try:
            if template is None:
                template = service.create_template(text, by=me)
                message = f"Template ‘{template.name}’ saved."
            else:
                changed = service.update_template(template, text, by=me)
                message = "Changes saved." if changed else "Nothing was changed."
        except service.MessagingError as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".templates"))
    else:
        show_errors(form, {k: v for k, v in service.text_problems(channel, text.body, text.subject, text.html).items()
                           if not getattr(form, k).errors})
    return _template_page(form, channel, template, status=422)


@bp.route("/templates/new", methods=["GET", "POST"])
@require(SEND)
def new_template():
    raw = request.args.get("channel")
    if raw not in {c.value for c in Channel}:
        return render_template("messaging/template_channel.html")
    channel = Channel(raw)
    if request.method == "GET":
        return _template_page(TemplateForm(formdata=None), channel, None)
    return _save_template(TemplateForm(), channel, None)


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@require(SEND)
def edit_template(template_id: int):
    template = service.get_template_or_404(template_id)
    if request.method == "GET":
        form = TemplateForm(formdata=None, data={"name": template.name, "subject": template.subject,
                                                 "body": template.body, "html": template.html})
        sample = service.sample_rendering(template.channel, template.body, template.subject, template.html)
        return _template_page(form, template.channel, template, sample=sample)
    return _save_template(TemplateForm(), template.channel, template)


@bp.post("/templates/<int:template_id>/archive")
@require(SEND)
def archive_template(template_id: int):
    template = service.get_template_or_404(template_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    archive = request.form.get("archive") != "no"
    service.set_template_archived(template, archive, by=_me())
    db.session.commit()
    flash(f"‘{template.name}’ {'archived: it is no longer offered for new sends' if archive else 'brought back'}.",
          "success")
    return redirect(url_for(".templates", show="archived" if not archive else None))


# ---------------------------------------------------------------------------------------------
# Composing a send


def _audience_context() -> dict:
    return {"searches": saved_filters(CONTACTS_AREA)}


def _audience_options(me: User, context: dict) -> list[dict]:
    """Each offered audience kind with the choices this user has for it."""
    return [{"kind": kind, "options": service.PICKERS[kind.key].options(me, context),
             "hint": service.PICKERS[kind.key].empty_hint} for kind in service.offered_kinds()]


def _compose_page(form: ComposeForm, audiences: list[dict], chosen: dict[str, str], send: Send | None,
                  status: int = 200):
    return render_template("messaging/compose.html", form=form, audiences=audiences, chosen=chosen, send=send,
                           merge_fields=rendering.MERGE_FIELDS, email_fields=rendering.EMAIL_FIELDS), status


def _compose(send: Send | None):
    me = _me()
    context = _audience_context()
    audiences = _audience_options(me, context)
    offered = service.templates()
    if request.method == "GET":
        data: dict = {"channel": Channel.SMS.value}
        chosen: dict[str, str] = {}
        if send is not None:
            data = {"name": send.name, "channel": send.channel.value, "subject": send.subject, "body": send.body,
                    "html": send.html, "audience_kind": send.audience_kind,
                    "template": str(send.template_id or "")}
            chosen = _chosen_from_send(send, audiences, context)
        else:
            key = request.args.get("f")
            if key and any(value == key for a in audiences if a["kind"].key == "contacts" for value, _ in a["options"]):
                data["audience_kind"], chosen["contacts"] = "contacts", key
            elif key:
                flash("That contacts search has expired. Search the contacts again, or choose another audience.", "info")
            wanted = request.args.get("template", type=int)
            template = next((t for t in offered if t.id == wanted), None)
            if template is not None:
                data.update(channel=template.channel.value, subject=template.subject, body=template.body,
                            html=template.html, template=str(template.id))
        form = ComposeForm(formdata=None, data=data)
        form.set_choices(service.offered_kinds(), offered)
        return _compose_page(form, audiences, chosen, send)

    form = ComposeForm()
    form.set_choices(service.offered_kinds(), offered)
    chosen = {a["kind"].key: request.form.get(f"aud_{a['kind'].key}", "") for a in audiences}
    if request.form.get("action") == "use_template":
        template = next((t for t in offered if str(t.id) == form.template.data), None)
        if template is None:
            form.template.errors = ["Choose a template to copy its text."]
            return _compose_page(form, audiences, chosen, send, 422)
        form.channel.data = template.channel.value
        form.subject.data, form.body.data, form.html.data = template.subject, template.body, template.html
        flash(f"The text of ‘{template.name}’ was copied below. Change it if you need to, then save.", "info")
        return _compose_page(form, audiences, chosen, send)

    valid = form.validate()
    kind = form.audience_kind.data
    params = None
    if kind in service.PICKERS:
        value = chosen.get(kind) or ""
        params = service.PICKERS[kind].params(value, me, context) if value else None
        if params is None and not form.audience_kind.errors:
            form.audience_kind.errors = [
                "Choose which search to send to. If it is not listed, search the contacts again." if kind == "contacts"
                else "Choose one of the options listed under your choice."]
    if valid and params is not None:
        template_id = int(form.template.data) if (form.template.data or "").isdigit() else None
        draft = service.Draft(name=form.name.data or "", channel=Channel(form.channel.data), body=form.body.data or "",
                              subject=form.subject.data, html=form.html.data, audience_kind=kind, audience=params,
                              template_id=template_id if any(t.id == template_id for t in offered) else None)
        try:
            if send is None:
                send = service.create_send(draft, by=me)
            else:
                service.update_send(send, draft, by=me)
        except service.MessagingError as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Draft saved. Check the numbers and the text before you send it.", "success")
            return redirect(url_for(".check", send_id=send.id))
    elif form.channel.data in {c.value for c in Channel}:
        problems = service.text_problems(Channel(form.channel.data), form.body.data or "", form.subject.data,
                                         form.html.data)
        show_errors(form, {k: v for k, v in problems.items() if not getattr(form, k).errors})
    return _compose_page(form, audiences, chosen, send, 422)


def _chosen_from_send(send: Send, audiences: list[dict], context: dict) -> dict[str, str]:
    """The option matching a draft's saved audience, so editing it keeps the choice."""
    me = _me()
    picker = service.PICKERS.get(send.audience_kind)
    for a in audiences:
        if a["kind"].key == send.audience_kind and picker is not None:
            for value, _ in a["options"]:
                if picker.params(value, me, context) == send.audience:
                    return {send.audience_kind: value}
    return {}


@bp.route("/new", methods=["GET", "POST"])
@require(SEND)
def new_send():
    return _compose(None)


@bp.route("/sends/<int:send_id>/edit", methods=["GET", "POST"])
@require(SEND)
def edit_send(send_id: int):
    send = service.get_send_or_404(_me(), send_id)
    if send.status is not SendStatus.DRAFT:
        flash("This send has started, so it can no longer be changed.", "info")
        return redirect(url_for(".report", send_id=send.id))
    return _compose(send)


@bp.post("/sends/<int:send_id>/delete")
@require(SEND)
def delete_send(send_id: int):
    me = _me()
    send = service.get_send_or_404(me, send_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.delete_draft(send, by=me)
    except service.MessagingError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".report", send_id=send.id))
    db.session.commit()
    flash("Draft deleted.", "success")
    return redirect(url_for(".index"))


# ---------------------------------------------------------------------------------------------
# The check page: numbers, preview, test, send or schedule


def _start_form(send: Send, formdata=None) -> StartForm:
    form = StartForm(formdata=formdata) if formdata is not None else StartForm(formdata=None, data={
        "when": "now", "quiet_hours": True})
    form.send_at.render_kw = {"min": utcnow().astimezone(UK).strftime("%Y-%m-%dT%H:%M")}
    return form


def _test_form(send: Send, formdata=None) -> TestSendForm:
    form = TestSendForm(formdata=formdata) if formdata is not None else TestSendForm(formdata=None,
                                                                                      data={"nonce": _nonce()})
    form.needs_mobile = send.channel is Channel.SMS
    return form


def _check_page(send: Send, *, position: int = 1, preview_form=None, test_form=None, start_form=None,
                status: int = 200):
    me = _me()
    numbers = service.check(send)
    recipients = service.preview_choices(numbers.recipients)
    chosen = next(((p, c) for p, c in recipients if p == position), recipients[0] if recipients else None)
    preview = service.preview(send, chosen[1], chosen[0]) if chosen else None
    if preview_form is None:
        preview_form = PreviewForm(formdata=None, data={"position": chosen[0] if chosen else 1})
    preview_form.position.choices = choices((str(p), f"{p}. {c.full_name}") for p, c in recipients)
    return render_template(
        "messaging/check.html", send=send, numbers=numbers, preview=preview, preview_form=preview_form,
        test_form=test_form or _test_form(send), start_form=start_form or _start_form(send),
        quiet_hours=service.quiet_hours_words(current_app.config.get("SMS_QUIET_HOURS")),
        reasons=ExclusionReason, action_form=ActionForm(), me=me), status


def _draft_or_redirect(send_id: int):
    send = service.get_send_or_404(_me(), send_id)
    if send.status is not SendStatus.DRAFT:
        return send, redirect(url_for(".report", send_id=send.id))
    return send, None


@bp.get("/sends/<int:send_id>/check")
@require(SEND)
def check(send_id: int):
    send, elsewhere = _draft_or_redirect(send_id)
    return elsewhere or _check_page(send)


@bp.post("/sends/<int:send_id>/preview")
@require(SEND)
def preview(send_id: int):
    send, elsewhere = _draft_or_redirect(send_id)
    if elsewhere:
        return elsewhere
    form = PreviewForm()
    form.position.choices = []
    position = form.position.data if form.validate_on_submit() and isinstance(form.position.data, int) else 1
    return _check_page(send, position=position, preview_form=form)


@bp.post("/sends/<int:send_id>/test")
@require(SEND)
def test_send(send_id: int):
    me = _me()
    send, elsewhere = _draft_or_redirect(send_id)
    if elsewhere:
        return elsewhere
    form = _test_form(send, request.form)
    if not form.validate_on_submit():
        return _check_page(send, test_form=form, status=422)
    address = form.normalised if send.channel is Channel.SMS else me.email
    service.send_test(send, by=me, to_address=address, nonce=form.nonce.data or _nonce())
    db.session.commit()
    where = "your email address" if send.channel is Channel.EMAIL else form.mobile.data.strip()
    flash(f"A test was sent to {where}, filled in for a sample member (Sam Okafor). It may take a minute to arrive.",
          "success")
    return redirect(url_for(".check", send_id=send.id) + "#test")


@bp.post("/sends/<int:send_id>/start")
@require(SEND)
def start_send(send_id: int):
    me = _me()
    send, elsewhere = _draft_or_redirect(send_id)
    if elsewhere:
        return elsewhere
    form = _start_form(send, request.form)
    if not form.validate_on_submit():
        return _check_page(send, start_form=form, status=422)
    at = form.send_at_utc
    try:
        service.start(send, by=me, at=at, respect_quiet_hours=bool(form.quiet_hours.data))
    except service.MessagingError as exc:
        db.session.rollback()
        show_errors(form, exc.errors)
        return _check_page(db.session.get(Send, send_id), start_form=form, status=422)
    db.session.commit()
    if at:
        flash(f"Scheduled for {at.astimezone(UK).strftime('%-d %b %Y at %H:%M')} UK time. You can cancel it until then.",
              "success")
    else:
        flash("Sending has started. This page shows its progress.", "success")
    return redirect(url_for(".report", send_id=send.id))


# ---------------------------------------------------------------------------------------------
# Report, progress, cancel, unknown messages


@bp.get("/sends/<int:send_id>")
@require(SEND)
def report(send_id: int):
    me = _me()
    send = service.get_send_or_404(me, send_id)
    if send.status is SendStatus.DRAFT:
        return redirect(url_for(".check", send_id=send.id))
    quiet_until = None
    if send.channel is Channel.SMS and send.respect_quiet_hours and send.status in service.ACTIVE_STATUSES:
        quiet_until = service.outbox.quiet_until(utcnow())
    return render_template(
        "messaging/report.html", send=send, report=service.report(send), excluded=service.excluded_rows(send),
        quiet_until=quiet_until,
        unknown=service.unknown_messages(send, me), progress=service.progress(send), action_form=ActionForm(),
        states=MessageState, can_cancel=send.status in service.ACTIVE_STATUSES, can_reply=me.can(REPLY))


@bp.get("/sends/<int:send_id>/progress")
@require(SEND)
def send_progress(send_id: int):
    return jsonify(service.progress(service.get_send_or_404(_me(), send_id)))


@bp.route("/sends/<int:send_id>/cancel", methods=["GET", "POST"])
@require(SEND)
def cancel_send(send_id: int):
    me = _me()
    send = service.get_send_or_404(me, send_id)
    if send.status not in service.ACTIVE_STATUSES:
        flash("This send is not scheduled or running, so there is nothing to cancel.", "info")
        return redirect(url_for(".report", send_id=send.id))
    form = ActionForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("messaging/cancel.html", send=send, form=form,
                               progress=service.progress(send)), 200 if request.method == "GET" else 400
    stopped = service.cancel(send, by=me)
    db.session.commit()
    flash(f"Cancelled. {stopped:,} message{'s' if stopped != 1 else ''} still waiting will not be sent; "
          "any already handed to the provider may still arrive.", "success")
    return redirect(url_for(".report", send_id=send.id))


@bp.post("/sends/<int:send_id>/messages/<int:message_id>/resolve")
@require(SEND)
def resolve_message(send_id: int, message_id: int):
    me = _me()
    send = service.get_send_or_404(me, send_id)
    message = service.get_unknown_or_404(send, me, message_id)
    if not ActionForm().validate_on_submit() or request.form.get("decision") not in ("sent", "again"):
        abort(400)
    try:
        service.resolve(message, sent=request.form["decision"] == "sent", by=me)
    except service.MessagingError as exc:
        flash(str(exc), "info")
        return redirect(url_for(".report", send_id=send.id) + "#unknown")
    db.session.commit()
    flash("Marked as sent." if request.form["decision"] == "sent" else "A new copy was queued to send.", "success")
    return redirect(url_for(".report", send_id=send.id) + "#unknown")


# ---------------------------------------------------------------------------------------------
# Replies


@bp.get("/replies")
@require(REPLY)
def replies():
    me = _me()
    show = request.args.get("show")
    handled = {"open": False, "handled": True}.get(show)
    page = paginate(service.inbox_stmt(me, handled=handled), request.args.get("page", 1, type=int), 50)
    return render_template("messaging/replies.html", page=page, show=show or "all",
                           unhandled=service.unhandled_count(me), can_send=me.can(SEND))


def _reply_page(reply, form: AnswerForm, status: int = 200):
    me = _me()
    contact = reply.contact
    visible_contact = contact is not None and me.can(Permission.VIEW_CONTACTS) and db.session.scalar(
        select(Contact.id).where(Contact.id == contact.id, branch_condition(me, Contact.branch_id))) is not None
    return render_template("messaging/reply.html", reply=reply, contact=contact, visible_contact=visible_contact,
                           thread=service.conversation(reply), form=form, action_form=ActionForm(),
                           opted_out=service.is_suppressed(Channel.SMS, reply.from_address)), status


@bp.get("/replies/<int:reply_id>")
@require(REPLY)
def reply(reply_id: int):
    found = service.get_reply_or_404(_me(), reply_id)
    return _reply_page(found, AnswerForm(formdata=None, data={"nonce": _nonce()}))


@bp.post("/replies/<int:reply_id>/answer")
@require(REPLY)
def answer_reply(reply_id: int):
    me = _me()
    found = service.get_reply_or_404(me, reply_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _reply_page(found, form, 422)
    try:
        service.answer(found, form.body.data, by=me, nonce=form.nonce.data or _nonce())
    except service.MessagingError as exc:
        db.session.rollback()
        show_errors(form, exc.errors)
        return _reply_page(service.get_reply_or_404(me, reply_id), form, 422)
    db.session.commit()
    flash("Your answer is on its way, and the reply is marked as handled.", "success")
    return redirect(url_for(".reply", reply_id=reply_id))


@bp.post("/replies/<int:reply_id>/handled")
@require(REPLY)
def mark_handled(reply_id: int):
    me = _me()
    found = service.get_reply_or_404(me, reply_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    handled = request.form.get("handled") != "no"
    service.mark_handled(found, handled, by=me)
    db.session.commit()
    flash("Marked as handled." if handled else "Marked as needing attention.", "success")
    return redirect(url_for(".replies") if handled else url_for(".reply", reply_id=reply_id))
