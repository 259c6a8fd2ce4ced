"""The connectors that carry a hand-off to a partner: a signed webhook or an e-mail.

The dispatcher calls ``deliver`` for each delivery that is due and decides from a
``DeliveryFailed`` whether to try again later, always with the same idempotency key: a partner
may receive one hand-off more than once and recognises it by that key. Nothing the partner
does not need leaves: the payload holds only the target's fields, and a failure's reason is a
short code, never text from the payload or from the partner's answer."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib

from .domain.handoffs import Target
from .domain.text import UNPRINTABLE_IN_A_LINE
from .i18n import translate

TIMEOUT_S = 10.0
MAX_PARTNER_REFERENCE = 200


@dataclass(frozen=True)
class Delivery:
    reference: str  # the helpline's hand-off reference, e.g. "H-7KQ2M9"
    idempotency_key: str
    target: Target
    payload: dict[str, object]  # only the target's fields
    sent_at: datetime


class DeliveryFailed(Exception):
    """Not delivered. ``reason`` is a short code (``http_503``, ``timeout``, ``smtp_550``...),
    safe to log and store."""

    def __init__(self, retryable: bool, reason: str) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.reason = reason


async def deliver(
    delivery: Delivery,
    environ: Mapping[str, str] = os.environ,
    *,
    helpline_name: str,
    helpline_email: str,
    timeout_s: float = TIMEOUT_S,
) -> str | None:
    """Send ``delivery`` by its target's connector; the partner's reference if they gave one."""
    document = _document(delivery, helpline_name, helpline_email)
    connector = delivery.target.connector
    if connector == "webhook":
        return await _webhook(delivery, document, environ, timeout_s)
    if connector == "email":
        await _email(delivery, document, environ, helpline_name, helpline_email, timeout_s)
        return None
    raise DeliveryFailed(False, "not_sent_by_connector")  # manual, none: people do it


def _document(delivery: Delivery, helpline_name: str, helpline_email: str) -> dict[str, object]:
    """What the partner receives: the webhook's body, the e-mail's attachment."""
    statement = delivery.target.settings.get("good_faith")
    return {
        "reference": delivery.reference,
        "idempotency_key": delivery.idempotency_key,
        "target": delivery.target.id,
        "sent_at": delivery.sent_at.isoformat(),
        "helpline": {"name": helpline_name, "email": helpline_email},
        "fields": delivery.payload,
        # A notice (DSA art. 16) ends with the notifier's statement of good faith.
        **({"statement": statement} if statement else {}),
    }


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret(target: Target, key: str, environ: Mapping[str, str]) -> str | None:
    """The secret held by the environment variable that ``settings[key]`` names, if any."""
    name = target.settings.get(key)
    if not name:
        return None
    value = environ.get(name)
    if not value:
        raise DeliveryFailed(False, "missing_secret")
    return value


# --- webhook ------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Helpline-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` of
    ``<t>.<body>`` keyed with the shared secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, now: datetime,
                     tolerance_s: int = 300) -> bool:
    """For a partner's receiver: was ``body`` signed with ``secret`` less than ``tolerance_s``
    seconds from ``now``? Any ``v1`` may match (several are sent while a secret changes)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, c) for c in candidates)


async def _webhook(delivery: Delivery, document: dict[str, object], environ: Mapping[str, str],
                   timeout_s: float) -> str | None:
    url = delivery.target.settings.get("url", "")
    parts = urlsplit(url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))):
        raise DeliveryFailed(False, "insecure_url")
    secret = _secret(delivery.target, "secret_env", environ)
    if secret is None:
        raise DeliveryFailed(False, "missing_secret")
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": delivery.idempotency_key,
        # Signed with the time it leaves: what the partner's 5-minute window is measured against.
        "X-Helpline-Signature": sign(secret, body, int(time.time())),
    }
    try:
        # ssl left to aiohttp's default: the system's certificates, always verified.
        async with (asyncio.timeout(timeout_s), aiohttp.ClientSession() as session,
                    session.post(url, data=body, headers=headers, allow_redirects=False) as r):
            if not 200 <= r.status < 300:
                retryable = r.status in (408, 429) or r.status >= 500
                raise DeliveryFailed(retryable, f"http_{r.status}")
            answer = await r.read()
    except TimeoutError:
        raise DeliveryFailed(True, "timeout") from None
    except (aiohttp.ClientSSLError, ssl.SSLError):
        raise DeliveryFailed(True, "tls") from None
    except (aiohttp.ClientError, OSError):
        raise DeliveryFailed(True, "connection") from None
    return _partner_reference(answer)


def _partner_reference(answer: bytes) -> str | None:
    try:
        reference = json.loads(answer).get("reference")
    except (ValueError, AttributeError):
        return None
    if (isinstance(reference, str) and 0 < len(reference) <= MAX_PARTNER_REFERENCE
            and not UNPRINTABLE_IN_A_LINE.search(reference)):
        return reference
    return None


# --- e-mail -------------------------------------------------------------------------------------


def message_id(idempotency_key: str, sender: str) -> str:
    """The same key gives the same Message-ID, so a partner's mail system sees a duplicate."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "helpline.invalid"
    return f"<handoff.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def _both(key: str, **values: object) -> str:
    return f"{translate(key, 'fr', **values)} / {translate(key, 'en', **values)}"


def email_text(delivery: Delivery) -> str:
    """The e-mail's text: the reference, the target, and each field sent with its label."""
    lines = [
        _both("delivery.header"),
        "",
        f"{_both('delivery.reference')} : {delivery.reference}",
        f"{_both('delivery.target')} : {delivery.target.name.fr}",
    ]
    for field in delivery.target.fields:
        if field.id not in delivery.payload:
            continue
        value = delivery.payload[field.id]
        shown = "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        lines += ["", f"{field.label.fr} :", shown]
    if "good_faith" in delivery.target.settings:
        lines += ["", delivery.target.settings["good_faith"]]
    return "\n".join(lines) + "\n"


def _message(delivery: Delivery, document: dict[str, object], helpline_name: str,
             helpline_email: str) -> EmailMessage:
    settings = delivery.target.settings
    message = EmailMessage()
    message["From"] = formataddr((helpline_name, settings["from"]))
    message["To"] = settings["to"]
    message["Reply-To"] = helpline_email
    message["Subject"] = _both("delivery.subject", reference=delivery.reference)
    message["Message-ID"] = message_id(delivery.idempotency_key, settings["from"])
    message.set_content(email_text(delivery))
    message.add_attachment(json.dumps(document, ensure_ascii=False, indent=2).encode(),
                           maintype="application", subtype="json",
                           filename=f"{delivery.reference}.json")
    return message


async def _email(delivery: Delivery, document: dict[str, object], environ: Mapping[str, str],
                 helpline_name: str, helpline_email: str, timeout_s: float) -> None:
    settings = delivery.target.settings
    host = settings["host"]
    password = _secret(delivery.target, "password_env", environ)
    message = _message(delivery, document, helpline_name, helpline_email)
    smtp = aiosmtplib.SMTP(hostname=host, port=int(settings["port"]) if "port" in settings else None,
                           start_tls=False, timeout=timeout_s)
    try:
        async with asyncio.timeout(timeout_s), smtp:
            if not _loopback(host):  # STARTTLS required, the certificate verified
                if not smtp.supports_extension("starttls"):
                    raise DeliveryFailed(True, "tls")
                await smtp.starttls(tls_context=ssl.create_default_context())
            if settings.get("username"):
                await smtp.login(settings["username"], password or "")
            refused, _ = await smtp.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as e:
        raise _smtp_failed(e.recipients[0].code) from None
    except aiosmtplib.SMTPResponseException as e:
        raise _smtp_failed(e.code) from None
    except TimeoutError:
        raise DeliveryFailed(True, "timeout") from None
    except ssl.SSLError:
        raise DeliveryFailed(True, "tls") from None
    except (aiosmtplib.SMTPException, OSError):
        raise DeliveryFailed(True, "connection") from None
    if refused:  # some recipients took it, not all: the partner sees the duplicate by its id
        raise _smtp_failed(max(r.code for r in refused.values()))


def _smtp_failed(code: int) -> DeliveryFailed:
    return DeliveryFailed(400 <= code < 500, f"smtp_{code}")
