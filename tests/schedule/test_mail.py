"""E-mail from digest jobs to a local SMTP server: each rep's reminders, each lead's team
summary, the password from the environment, and reps without an address in the run log."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from crmreview.importing import import_files
from crmreview.schedule import archive, mail
from crmreview.schedule.runner import due
from crmreview.schedule.spec import SmtpSpec, load_schedule
from crmreview.schedule.timing import parse_now

from .conftest import SMTP_PASSWORD, SMTP_USER, Inbox, _free_port

# the test server takes a login without TLS (it listens on localhost only)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

NOW = "2026-10-05T07:45"
WEEK = "2026-09-28..2026-10-04"
SCHEDULE = """
timezone: Asia/Shanghai
db: {db}
archive: archive
smtp:
  host: 127.0.0.1
  port: {port}
  security: none
  username: {user}
  password_env: CRM_REVIEW_TEST_SMTP_PASSWORD
  sender: {user}
jobs:
  - name: reminders
    kind: digest
    period: last-week
    cron: "30 7 * * MON"
    email: {{to: [director@example.com]}}
    leads: {{华东一组: lead-east@example.com}}
"""


@pytest.fixture
def reps_without_r08_address(sample_db, imported_sample, tmp_path):
    """The sample warehouse after a reps export in which R08 has no e-mail address."""
    folder = tmp_path / "reps-export"
    folder.mkdir()
    lines = (imported_sample(7, 0.05).folder / "reps.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rep_id,name,team,region,email"
    lines = [line.rpartition(",")[0] + "," if line.startswith("R08,") else line for line in lines]
    (folder / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_files([folder / "reps.csv"], sample_db)
    return [line.split(",") for line in lines[1:]]


def test_each_rep_gets_their_reminders_and_the_lead_the_team_summary(
    sample_db, reps_without_r08_address, smtp_server, write_schedule, monkeypatch, tmp_path
):
    monkeypatch.setenv("CRM_REVIEW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    path = write_schedule(SCHEDULE.format(db=sample_db, port=smtp_server.port, user=SMTP_USER))
    schedule = load_schedule(path)
    outcomes = due(schedule, parse_now(NOW, schedule.zone), say=lambda line: None)
    assert [o.result for o in outcomes] == ["rendered"], outcomes
    assert smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)]  # one connection, logged in once
    reps = {rep_id: (name, team, email) for rep_id, name, team, _, email in reps_without_r08_address}
    # seven reps with an address, one lead, one director
    assert len(smtp_server.received) == 9
    for rep_id, (name, _, email) in reps.items():
        if not email:
            continue
        (message,) = smtp_server.to(email)
        assert message["From"] == SMTP_USER
        assert message["Subject"] == (
            f"{name} ({rep_id}) 跟进提醒（截至 2026-10-04） / Follow-up reminders for {name} ({rep_id}), as of 2026-10-04"
        )
        body = message.get_body(("html",)).get_content()
        page = (tmp_path / "archive" / "reminders" / WEEK / "reps" / f"{rep_id}.html").read_text(encoding="utf-8")
        assert body.strip() == page.strip()
        assert "超过层级跟进周期未跟进的客户" in body and "Customers at risk of churning" in body
    (lead,) = smtp_server.to("lead-east@example.com")
    assert lead["Subject"].startswith("华东一组 团队跟进汇总（截至 2026-10-04）")
    lead_body = lead.get_body(("html",)).get_content()
    east = sorted(rep_id for rep_id, (_, team, _) in reps.items() if team == "华东一组")
    other = sorted(rep_id for rep_id, (_, team, _) in reps.items() if team != "华东一组")
    assert east and other
    assert all(f"({r})" in lead_body for r in east) and not any(f"({r})" in lead_body for r in other)
    (director,) = smtp_server.to("director@example.com")
    assert all(f"({r})" in director.get_body(("html",)).get_content() for r in reps)
    # R08 has no address: no mail, and the run log and the index say so
    assert not any(r08 in rcpt for rcpt, _ in smtp_server.received for r08 in ["r08@sales.example"])
    note = f"reps without an e-mail address (no reminder sent): {reps['R08'][0]} (R08)"
    assert note in (tmp_path / "archive" / "run.log").read_text(encoding="utf-8")
    assert archive.read_status(tmp_path / "archive" / "reminders" / WEEK).notes == [note]


def test_a_missing_password_variable_fails_the_job_loudly(
    sample_db, smtp_server, write_schedule, monkeypatch, tmp_path
):
    monkeypatch.delenv("CRM_REVIEW_TEST_SMTP_PASSWORD", raising=False)
    schedule = load_schedule(write_schedule(SCHEDULE.format(db=sample_db, port=smtp_server.port, user=SMTP_USER)))
    (outcome,) = due(schedule, parse_now(NOW, schedule.zone), say=lambda line: None)
    assert outcome.result == "failed"
    assert outcome.message == "the SMTP password is read from $CRM_REVIEW_TEST_SMTP_PASSWORD, which is not set"
    assert smtp_server.received == []
    # the pages were written, but the period is not done: the next run sends again
    assert archive.read_status(tmp_path / "archive" / "reminders" / WEEK).status == "failed"
    shutil.rmtree(tmp_path / "archive")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (certificate, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_over_starttls_or_ssl_with_the_certificate_checked(certificate, monkeypatch, security):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbox = Inbox(port=_free_port())
    if security == "ssl":  # the whole connection is TLS; aiosmtpd does not see it and would hide AUTH
        options = {"ssl_context": server_context, "auth_require_tls": False}
    else:
        options = {"tls_context": server_context, "require_starttls": True}
    controller = Controller(
        inbox, hostname="127.0.0.1", port=inbox.port, authenticator=inbox.authenticate, auth_required=True, **options
    )
    controller.start()
    try:
        # the client trusts the test certificate, and only it
        trusting = ssl.create_default_context(cafile=str(cert))
        system_trust = ssl.create_default_context
        monkeypatch.setattr(mail.ssl, "create_default_context", lambda: trusting)
        monkeypatch.setenv("CRM_REVIEW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        smtp = SmtpSpec(
            host="localhost", port=inbox.port, security=security, username=SMTP_USER,
            password_env="CRM_REVIEW_TEST_SMTP_PASSWORD", sender=SMTP_USER,
        )  # fmt: skip
        attachment = cert.parent / "report.pdf"
        attachment.write_bytes(b"%PDF-1.7 test")
        mail.send(smtp, [mail.message(smtp, ["a@example.com"], "报告 2026Q3", "<p>正文</p>", attachments=[attachment])])
        (message,) = inbox.to("a@example.com")
        assert message["Subject"] == "报告 2026Q3"
        assert message.get_body(("html",)).get_content().strip() == "<p>正文</p>"
        (part,) = list(message.iter_attachments())
        assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
            "report.pdf", "application/pdf", b"%PDF-1.7 test",
        )  # fmt: skip
        assert inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
        # without the test certificate the server is not trusted: the mail is not sent
        monkeypatch.setattr(mail.ssl, "create_default_context", system_trust)
        with pytest.raises(mail.MailError, match="CERTIFICATE_VERIFY_FAILED"):
            mail.send(smtp, [mail.message(smtp, ["b@example.com"], "x", "<p>x</p>")])
        assert inbox.to("b@example.com") == []
    finally:
        controller.stop()
