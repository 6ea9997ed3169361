"""E-mail over SMTP: one connection per job, STARTTLS, SSL or plain, the password from the
environment variable the schedule file names (never from the file).

Public names: ``message``, ``send``, ``MailError``.
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from .spec import SmtpSpec

__all__ = ["MailError", "message", "send"]

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class MailError(RuntimeError):
    """The mail could not be sent: the server refused it, or the password is not set."""


def message(
    smtp: SmtpSpec, to: Sequence[str], subject: str, html: str, *, text: str = "", attachments: Sequence[Path] = ()
) -> EmailMessage:
    """A message from the schedule's sender with ``html`` as its body (and a plain-text
    alternative) and ``attachments`` (e.g. the report's PDF) attached."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2])
    msg.set_content(text or subject)
    msg.add_alternative(html, subtype="html")
    for path in attachments:
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def _password(smtp: SmtpSpec) -> str | None:
    if not smtp.username:
        return None
    assert smtp.password_env is not None  # the schema requires it with a username
    password = os.environ.get(smtp.password_env)
    if password is None:
        raise MailError(f"the SMTP password is read from ${smtp.password_env}, which is not set")
    return password


def send(smtp: SmtpSpec, messages: Sequence[EmailMessage], *, timeout: float = 60.0) -> None:
    """Send ``messages`` over one connection to the schedule's server."""
    if not messages:
        return
    password = _password(smtp)
    port = smtp.port or _DEFAULT_PORTS[smtp.security]
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(smtp.host, port, timeout=timeout)
        with server:
            server.ehlo()
            if smtp.security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if smtp.username:
                server.login(smtp.username, password or "")
            for msg in messages:
                server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"sending mail through {smtp.host}:{port} ({smtp.security}) failed: {exc}") from None
