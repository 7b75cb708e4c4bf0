"""Provider webhooks (/webhooks): the only CSRF-exempt routes, each checking the provider's signature
before reading anything. A missing or wrong signature, or a provider not configured, is a 403."""
from __future__ import annotations

import binascii
import time

from cryptography.exceptions import UnsupportedAlgorithm
from flask import Response, current_app, request
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from ..extensions import csrf, db
from . import inbound, webhooks_bp
from .tokens import public_url


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def _twiml(response: MessagingResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _twilio_signature_ok() -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    # Twilio signs the URL it called: our public base, never the Host header a proxy passed on.
    query = request.query_string.decode("latin-1")
    url = public_url(request.path + (f"?{query}" if query else ""))
    return RequestValidator(token).validate(url, request.form, signature)


@webhooks_bp.post("/twilio/status")
@csrf.exempt
def twilio_status():
    if not _twilio_signature_ok():
        return _plain(403, "Signature missing or not valid.")
    try:
        inbound.apply_twilio_status(request.form.to_dict(), message_id=request.args.get("m"))
    except inbound.BadEvent as exc:
        db.session.rollback()
        return _plain(400, str(exc))
    db.session.commit()
    return Response(status=204)


@webhooks_bp.post("/twilio/inbound")
@csrf.exempt
def twilio_inbound():
    if not _twilio_signature_ok():
        return _plain(403, "Signature missing or not valid.")
    try:
        result = inbound.receive_sms(request.form.to_dict(), help_text=current_app.config["SMS_HELP_TEXT"])
    except inbound.BadEvent as exc:
        db.session.rollback()
        return _plain(400, str(exc))
    db.session.commit()
    twiml = MessagingResponse()
    if result.answer:
        twiml.message(result.answer)
    return _twiml(twiml)


def _sendgrid_signature_ok(raw: str) -> bool:
    key = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
    timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    if not key or not signature or not timestamp.isdigit():
        return False
    # A captured request replayed later is refused, as well as one signed with a clock far ahead.
    if abs(time.time() - int(timestamp)) > current_app.config["SENDGRID_WEBHOOK_MAX_AGE_SECONDS"]:
        return False
    try:
        return EventWebhook(key).verify_signature(raw, signature, timestamp)
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        # A key or signature that is not base64 DER: treat as not verified (logged for the admin).
        current_app.logger.warning("SendGrid webhook signature or SENDGRID_WEBHOOK_PUBLIC_KEY could not be read")
        return False


@webhooks_bp.post("/sendgrid/events")
@csrf.exempt
def sendgrid_events():
    try:
        raw = request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        return _plain(400, "The body is not UTF-8 JSON.")
    if not _sendgrid_signature_ok(raw):
        return _plain(403, "Signature missing, out of date or not valid.")
    try:
        events = inbound.parse_sendgrid_events(raw)
        inbound.apply_sendgrid_events(events)
    except inbound.BadEvent as exc:
        db.session.rollback()
        return _plain(400, str(exc))
    db.session.commit()
    return _plain(200, "OK")

