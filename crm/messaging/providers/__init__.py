"""Provider registry: which adapter sends each channel, chosen by configuration.

`SMS_PROVIDER` / `EMAIL_PROVIDER` name an entry of PROVIDERS; when unset, Twilio is used for SMS
if TWILIO_ACCOUNT_SID is set and SendGrid for email if SENDGRID_API_KEY is set, otherwise the log
provider, so a new install works end to end offline.
"""
from __future__ import annotations

from importlib import import_module

from flask import current_app

from ...vocabulary import Channel
from .base import Accepted, Outgoing, Provider, ProviderError, RateLimited, Rejected, Uncertain

# name → "module:Class", imported on first use so an unused SDK is never loaded.
PROVIDERS: dict[str, str] = {
    "log": "crm.messaging.providers.log:LogProvider",
    "twilio": "crm.messaging.providers.twilio:TwilioProvider",
    "sendgrid": "crm.messaging.providers.sendgrid:SendGridProvider",
}

__all__ = ["Accepted", "Outgoing", "Provider", "ProviderError", "RateLimited", "Rejected", "Uncertain",
           "PROVIDERS", "provider_name", "provider_for", "get_provider"]


def provider_name(channel: Channel, config=None) -> str:
    """The configured provider's name for a channel."""
    config = config if config is not None else current_app.config
    if channel is Channel.SMS:
        name = config.get("SMS_PROVIDER") or ("twilio" if config.get("TWILIO_ACCOUNT_SID") else "log")
    else:
        name = config.get("EMAIL_PROVIDER") or ("sendgrid" if config.get("SENDGRID_API_KEY") else "log")
    if name not in PROVIDERS:
        raise RuntimeError(f"unknown {channel.value} provider {name!r}: choose one of {', '.join(PROVIDERS)}")
    return name


def get_provider(name: str) -> Provider:
    """The app's adapter of that name (built once per app: SDK clients keep their connection pools)."""
    cache = current_app.extensions.setdefault("branchline_providers", {})
    if name not in cache:
        module_name, class_name = PROVIDERS[name].split(":")
        cache[name] = getattr(import_module(module_name), class_name)(current_app.config)
    return cache[name]


def provider_for(channel: Channel) -> Provider:
    """The adapter that sends this channel."""
    return get_provider(provider_name(channel))
