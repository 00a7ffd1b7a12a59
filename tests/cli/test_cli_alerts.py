"""Certificate alerts from the command line (issue 12): stack files with an encrypted URL, `validate` and `plan`."""

from __future__ import annotations

import json

import pytest

from infra.cli import status_codes
from tests.cli.helpers import run_cli
from tests.conftest import copy_example_project

ACCOUNT = "0123456789abcdef0123456789abcdef"
ENCRYPTED = "\n    secure: v1:c2FsdA==:Y2lwaGVydGV4dA=="  # what `pulumi config set --secret` writes


@pytest.fixture
def project(tmp_path):
    """A project copy; `stack(name, url, emails)` writes Pulumi.<name>.yaml from the example stack."""
    copy_example_project(tmp_path)
    dev = (tmp_path / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").unlink()
    (tmp_path / "customers.yaml").write_text("customers:\n  - id: initech\n    hostnames: [portal.initech.example]\n")

    def stack(name: str, url: str = '""', emails: str = "[]", account: str = ACCOUNT) -> str:
        text = dev
        text = (text.replace('saas-domains:accountId: ""', f"saas-domains:accountId: {account}")
                .replace('saas-domains:alertWebhookUrl: ""', f"saas-domains:alertWebhookUrl: {url}")
                .replace("saas-domains:alertEmails: []", f"saas-domains:alertEmails: {emails}"))
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
        return name

    return tmp_path, stack


def test_validate_accepts_an_encrypted_webhook_url_it_cannot_read(project, capsys):
    folder, stack = project
    result = run_cli(capsys, "validate", "--stack", stack("alerts", url=ENCRYPTED), "--project-dir", str(folder))
    assert result.code == status_codes.OK, result.err


def test_validate_refuses_a_plain_http_url_without_showing_it(project, capsys):
    folder, stack = project
    name = stack("alerts", url="http://hooks.example.com/do-not-print-me")
    result = run_cli(capsys, "validate", "--stack", name, "--project-dir", str(folder))
    assert result.code == status_codes.CANNOT_RUN
    assert "saas-domains:alertWebhookUrl must be an https:// URL with a host" in result.err
    assert "do-not-print-me" not in result.err + result.out


def test_plan_shows_the_alerts_of_a_configured_stack_and_hides_the_secret(project, capsys):
    folder, stack = project
    name = stack("alerts", url=ENCRYPTED, emails="[ops@mailito.com]")
    result = run_cli(capsys, "plan", "--stack", name, "--project-dir", str(folder))
    assert result.code == status_codes.OK, result.err
    assert "Certificate alerts (Cloudflare account): 3 resources" in result.out
    for line in ("cloudflare:index/notificationPolicy:NotificationPolicy                  certificate-alerts-policy",
                 "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks  certificate-alerts-webhook",
                 "random:index/randomPassword:RandomPassword                              "
                 "certificate-alerts-webhook-secret"):
        assert line in result.out
    assert "alertWebhookSecret  [secret]" in result.out
    assert "offline-placeholder-" not in result.out  # neither the password nor the URL placeholder

    result = run_cli(capsys, "plan", "--stack", name, "--project-dir", str(folder), "--json")
    plan = json.loads(result.out)
    assert plan["outputs"]["alertWebhookSecret"] == "[secret]"
    assert plan["outputs"]["alertPolicyId"].count("-") == 4  # a UUID, like Cloudflare's
    assert plan["components"][-1]["resources"] == [
        {"type": "cloudflare:index/notificationPolicy:NotificationPolicy", "name": "certificate-alerts-policy"},
        {"type": "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks",
         "name": "certificate-alerts-webhook"},
        {"type": "random:index/randomPassword:RandomPassword", "name": "certificate-alerts-webhook-secret"}]


def test_plan_of_an_unconfigured_stack_shows_no_alerts(project, capsys):
    folder, stack = project
    result = run_cli(capsys, "plan", "--stack", stack("plain", account='""'), "--project-dir", str(folder))
    assert result.code == status_codes.OK, result.err
    assert "Certificate alerts" not in result.out and "alertPolicyId" not in result.out


def test_plan_of_an_account_without_destination_stops_with_the_reason(project, capsys):
    folder, stack = project
    result = run_cli(capsys, "plan", "--stack", stack("half"), "--project-dir", str(folder))
    assert result.code == status_codes.PROBLEMS
    assert "saas-domains:accountId alone declares no alert" in result.err and result.out == ""
