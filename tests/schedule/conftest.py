"""Fixtures of the schedule tests: a sample warehouse, schedule files, a local SMTP server."""

from __future__ import annotations

import shutil
import socket
import textwrap
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "reports@example.com"
SMTP_PASSWORD = "s3cret-for-tests"


@pytest.fixture
def sample_db(imported_sample, tmp_path) -> Path:
    """A private copy of the imported sample warehouse (seed 7, 100 customers, data to 2026-09-30)."""
    db = tmp_path / "crm.duckdb"
    shutil.copyfile(imported_sample(7, 0.05).db, db)
    return db


@pytest.fixture
def write_schedule(tmp_path):
    """Factory: write ``crm-review-schedule.yml`` in tmp_path from YAML text (dedented)."""

    def write(text: str, name: str = "crm-review-schedule.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@dataclass
class Inbox:
    """What the local SMTP server received: (envelope recipients, parsed message), and logins."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((login, password))
            return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD))
        return AuthResult(success=False)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """An SMTP server on localhost that requires a login (plain, no TLS) and keeps every message."""
    inbox = Inbox(port=_free_port())
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
