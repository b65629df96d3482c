"""The ways a message leaves: email through SMTP, SMS and WhatsApp through a generic HTTP
gateway, and a file for development. Each is set by the environment (config.py):

- `COOPREG_MAIL_URL=smtp://user:password@host:port` (`smtps://` for TLS at once,
  `?starttls=1` to upgrade), `COOPREG_MAIL_FROM`;
- `COOPREG_SMS_URL` / `COOPREG_WHATSAPP_URL`: the gateway's URL (credentials in it are sent as
  HTTP Basic), `..._TOKEN` (sent as a Bearer token), `..._PAYLOAD` (the JSON body, with
  `{to}`, `{body}`, `{subject}` in its strings) and `..._ID_FIELD` (where the answer's JSON
  names the provider's id, dotted: `messages.0.id`).

A channel that is not set writes to the file backend (`COOPREG_MESSAGES_DIR`, one JSON line
per message), so development and `make run` send nothing anywhere."""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from coopreg.core.text import ascii_digits
from coopreg.members.models import ContactChannel
from coopreg.messaging.texts import fill

TIMEOUT_SECONDS = 10
DEFAULT_PAYLOAD = '{"to": "{to}", "text": "{body}"}'


class ChannelError(Exception):
    """The channel did not take the message; the outbox tries again later."""


@dataclass
class Outgoing:
    to: str
    subject: str
    body: str


class FileChannel:
    """Development: each message is a JSON line in `<dir>/<channel>.jsonl`."""

    def __init__(self, directory: str, channel: ContactChannel):
        self.path = Path(directory) / f"{channel.value}.jsonl"

    def describe(self) -> str:
        return f"file {self.path}"

    def send(self, message: Outgoing) -> str:
        provider_id = f"file:{uuid.uuid4().hex}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"id": provider_id, "to": message.to,
                                  "subject": message.subject, "body": message.body},
                                 ensure_ascii=False) + "\n")
        return provider_id


class SmtpChannel:
    def __init__(self, url: str, sender: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("COOPREG_MAIL_URL must be smtp://host:port or smtps://host:port")
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true")
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    def describe(self) -> str:
        return f"SMTP {self.host}:{self.port}" + (" (TLS)" if self.tls or self.starttls else "")

    def send(self, message: Outgoing) -> str:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.to, message.subject
        message_id = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email["Message-ID"] = message_id
        email.set_content(message.body)
        try:
            if self.tls:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {error}") from error
        return message_id


class HttpGatewayChannel:
    """Any SMS or WhatsApp gateway that takes a JSON POST: the body is the configured
    payload with the message's fields filled in."""

    def __init__(self, name: str, url: str, token: str | None, payload: str | None,
                 id_field: str | None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"COOPREG_{name.upper()}_URL must be an http(s) URL")
        self.name = name
        self.basic = None
        if parts.username:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.basic = base64.b64encode(credentials.encode()).decode()
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        self.url = urlunsplit(parts)
        self.token = token
        try:
            self.payload = json.loads(payload or DEFAULT_PAYLOAD)
        except json.JSONDecodeError:
            raise ValueError(f"COOPREG_{name.upper()}_PAYLOAD must be JSON") from None
        self.id_field = id_field or "id"

    def describe(self) -> str:
        return f"HTTP gateway {self.url}"

    def _filled(self, value: Any, fields: dict[str, str]) -> Any:
        if isinstance(value, str):
            return fill(value, fields)
        if isinstance(value, dict):
            return {k: self._filled(v, fields) for k, v in value.items()}
        if isinstance(value, list):
            return [self._filled(v, fields) for v in value]
        return value

    def _provider_id(self, answer: Any) -> str:
        for step in self.id_field.split("."):
            if isinstance(answer, list) and ascii_digits(step) and int(step) < len(answer):
                answer = answer[int(step)]
            elif isinstance(answer, dict) and step in answer:
                answer = answer[step]
            else:
                return ""
        return str(answer)[:120]

    def send(self, message: Outgoing) -> str:
        body = json.dumps(self._filled(self.payload, {
            "to": message.to, "body": message.body, "subject": message.subject})).encode()
        # the URL is the configuration's, checked to be http(s) when read
        request = urllib.request.Request(self.url, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "Accept": "application/json"})
        if self.basic:
            request.add_header("Authorization", f"Basic {self.basic}")
        elif self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                raw = answer.read(65536)
        except urllib.error.HTTPError as error:
            raise ChannelError(f"{self.name} gateway answered {error.code}") from error
        except OSError as error:
            raise ChannelError(f"{self.name} gateway: {error}") from error
        try:
            provider_id = self._provider_id(json.loads(raw or b"null"))
        except ValueError:
            provider_id = ""
        return provider_id or f"{self.name}:{uuid.uuid4().hex}"


def channel_for(config: Any, channel: ContactChannel):
    """The configured way out for `channel` (the file backend when none is set)."""
    channel = ContactChannel(channel)
    if channel == ContactChannel.EMAIL and config.get("MAIL_URL"):
        return SmtpChannel(config["MAIL_URL"], config.get("MAIL_FROM") or "coopreg@localhost")
    if channel in (ContactChannel.SMS, ContactChannel.WHATSAPP):
        prefix = channel.value.upper()
        if config.get(f"{prefix}_URL"):
            return HttpGatewayChannel(channel.value, config[f"{prefix}_URL"],
                                      config.get(f"{prefix}_TOKEN"),
                                      config.get(f"{prefix}_PAYLOAD"),
                                      config.get(f"{prefix}_ID_FIELD"))
    return FileChannel(config["MESSAGES_DIR"], channel)


def describe_channels(config: Any) -> list[tuple[str, str, bool]]:
    """(channel, how it is sent, whether it is a real one) for `coopreg check`; a setting that
    cannot be read is described as the error."""
    found = []
    for channel in ContactChannel:
        try:
            way = channel_for(config, channel)
            found.append((channel.value, way.describe(), not isinstance(way, FileChannel)))
        except ValueError as error:
            found.append((channel.value, f"misconfigured: {error}", False))
    return found
