"""Certificate alerts (issue 12): what the real __main__.py declares under the mock engine, for each configuration."""

from __future__ import annotations

import pytest

from infra.components.certificate_alerts import SECRET_LENGTH
from infra.model import names
from infra.model.settings import SETTINGS
from infra.offline import ProgramError, render
from tests.conftest import PROJECT_ROOT, copy_example_project, run_program, run_stack

ACCOUNT = "0123456789abcdef0123456789abcdef"
WEBHOOK = "https://hooks.example.com/cloudflare?token=do-not-print-me"
EMAILS = ["ops@mailito.com", "oncall@mailito.com"]
PASSWORD = "random:index/randomPassword:RandomPassword"
ALERT_TYPES = {names.CERTIFICATE_ALERTS_TYPE, names.NOTIFICATION_POLICY_RESOURCE, names.NOTIFICATION_WEBHOOK_RESOURCE}


def alert_resources(rendering) -> dict[str, object]:
    """The alerts component's children by name, and the component itself."""
    component = [r for r in rendering.resources if r.type == names.CERTIFICATE_ALERTS_TYPE]
    children = {r.name: r for r in rendering.resources if component and r.parent == component[0].urn}
    return {**{r.name: r for r in component}, **children}


def policy_of(rendering):
    (policy,) = rendering.of_type(names.NOTIFICATION_POLICY_RESOURCE)
    return policy


def assert_the_policy_names_the_zone_and_the_alert_type(policy) -> None:
    assert policy.name == "certificate-alerts-policy"
    assert policy.inputs["accountId"] == ACCOUNT
    assert policy.inputs["alertType"] == names.CUSTOM_HOSTNAME_CERTIFICATE_ALERT == "custom_ssl_certificate_event_type"
    assert policy.inputs["name"] == "saas-domains mailito.com: custom hostname certificates"
    assert "mailito.com" in policy.inputs["description"] and "Account-wide" in policy.inputs["description"]
    assert "'" not in policy.inputs["name"] + policy.inputs["description"]
    assert policy.inputs["enabled"] is True
    assert "filters" not in policy.inputs and "alertInterval" not in policy.inputs


def test_webhook_and_emails():
    rendering = run_program(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK, alertEmails=EMAILS)
    declared = alert_resources(rendering)
    assert sorted(declared) == ["certificate-alerts", "certificate-alerts-policy", "certificate-alerts-webhook",
                                "certificate-alerts-webhook-secret"]
    assert declared["certificate-alerts"].parent.split("::")[2] == "pulumi:pulumi:Stack"

    secret = declared["certificate-alerts-webhook-secret"]
    assert secret.type == PASSWORD
    assert secret.inputs == {"length": SECRET_LENGTH, "special": False}  # letters and digits: a safe header value

    webhook = declared["certificate-alerts-webhook"]
    assert webhook.type == names.NOTIFICATION_WEBHOOK_RESOURCE
    assert webhook.inputs == {"accountId": ACCOUNT, "name": "saas-domains mailito.com: certificate alerts",
                              "url": WEBHOOK, "secret": secret.state["result"]}
    assert sorted(webhook.secret_inputs) == ["secret", "url"]  # encrypted in state, hidden in output
    assert secret.urn in webhook.dependencies

    policy = policy_of(rendering)
    assert_the_policy_names_the_zone_and_the_alert_type(policy)
    assert policy.inputs["mechanisms"] == {"webhooks": [{"id": webhook.id}],
                                           "emails": [{"id": address} for address in EMAILS]}
    assert webhook.urn in policy.dependencies and policy.secret_inputs == []

    assert rendering.outputs["alertPolicyId"] == policy.id
    assert rendering.outputs["alertWebhookSecret"] == secret.state["result"]
    assert rendering.secret_outputs == ["alertWebhookSecret"]


def test_the_webhook_url_is_read_as_a_secret_and_used_as_validated():
    rendering = run_program(accountId=ACCOUNT, alertWebhookUrl=f"  {WEBHOOK}\n")
    (webhook,) = rendering.of_type(names.NOTIFICATION_WEBHOOK_RESOURCE)
    assert webhook.inputs["url"] == WEBHOOK and "url" in webhook.secret_inputs


def test_webhook_only():
    rendering = run_program(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK)
    (webhook,) = rendering.of_type(names.NOTIFICATION_WEBHOOK_RESOURCE)
    assert policy_of(rendering).inputs["mechanisms"] == {"webhooks": [{"id": webhook.id}]}
    assert set(rendering.outputs) >= {"alertPolicyId", "alertWebhookSecret"}


def test_emails_only_declare_no_webhook_and_no_secret():
    rendering = run_program(accountId=ACCOUNT, alertEmails=EMAILS)
    assert sorted(alert_resources(rendering)) == ["certificate-alerts", "certificate-alerts-policy"]
    assert not rendering.of_type(names.NOTIFICATION_WEBHOOK_RESOURCE)
    assert [r.name for r in rendering.of_type(PASSWORD)] == ["origin-auth-header-secret"]  # origin auth's only
    policy = policy_of(rendering)
    assert_the_policy_names_the_zone_and_the_alert_type(policy)
    assert policy.inputs["mechanisms"] == {"emails": [{"id": "ops@mailito.com"}, {"id": "oncall@mailito.com"}]}
    assert rendering.outputs["alertPolicyId"] == policy.id
    assert "alertWebhookSecret" not in rendering.outputs and rendering.secret_outputs == []


def test_unconfigured_stacks_declare_no_alert_and_export_none():
    for rendering in (render(PROJECT_ROOT, "dev"), run_stack("shard-example-core"), run_stack("gcp-example")):
        assert not {r.type for r in rendering.resources} & ALERT_TYPES
        assert not {"alertPolicyId", "alertWebhookSecret"} & set(rendering.outputs)


def test_a_core_stack_declares_them():
    rendering = run_stack("shard-example-core", accountId=ACCOUNT, alertWebhookUrl=WEBHOOK, alertEmails=EMAILS[:1])
    assert not rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)
    assert sorted(alert_resources(rendering)) == ["certificate-alerts", "certificate-alerts-policy",
                                                  "certificate-alerts-webhook", "certificate-alerts-webhook-secret"]
    assert set(rendering.outputs) >= {"alertPolicyId", "alertWebhookSecret", "zoneId", "cnameDomain"}


def test_a_cloud_run_stack_declares_them_too():
    rendering = run_stack("gcp-example", accountId=ACCOUNT, alertEmails=EMAILS)
    assert policy_of(rendering).inputs["mechanisms"]["emails"][0] == {"id": "ops@mailito.com"}


def test_a_shard_with_alert_settings_stops_before_declaring_anything():
    with pytest.raises(ProgramError, match="alerts are account-wide: the core stack declares them") as stopped:
        run_stack("shard-example-0", accountId=ACCOUNT, alertWebhookUrl=WEBHOOK)
    assert "do-not-print-me" not in str(stopped.value)


@pytest.mark.parametrize("url", ["http://hooks.example.com/do-not-print-me", "hooks.example.com/do-not-print-me"])
def test_the_program_refuses_a_webhook_url_that_is_not_https_without_showing_it(url):
    with pytest.raises(ProgramError, match="saas-domains:alertWebhookUrl must be an https:// URL") as stopped:
        run_program(accountId=ACCOUNT, alertWebhookUrl=url)
    assert "do-not-print-me" not in str(stopped.value) and "hooks.example.com" not in str(stopped.value)


@pytest.fixture
def project_with_encrypted_url(tmp_path):
    """A project copy whose stack `alerts` holds the webhook URL as `pulumi config set --secret` writes it."""
    copy_example_project(tmp_path)
    (tmp_path / "customers.yaml").write_text("customers:\n  - id: initech\n    hostnames: [portal.initech.example]\n")
    dev = (tmp_path / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").unlink()
    (tmp_path / "Pulumi.alerts.yaml").write_text(
        dev.replace('saas-domains:accountId: ""', f"saas-domains:accountId: {ACCOUNT}")
        .replace('saas-domains:alertWebhookUrl: ""',
                 "saas-domains:alertWebhookUrl:\n    secure: v1:c2FsdA==:Y2lwaGVydGV4dA=="))
    return tmp_path


def test_an_encrypted_url_in_a_stack_file_renders_with_a_secret_placeholder(project_with_encrypted_url):
    rendering = render(project_with_encrypted_url, "alerts")
    (webhook,) = rendering.of_type(names.NOTIFICATION_WEBHOOK_RESOURCE)
    (setting,) = [s for s in SETTINGS if s.key == "alertWebhookUrl"]
    assert webhook.inputs["url"] == setting.offline_placeholder and "url" in webhook.secret_inputs
    assert policy_of(rendering).inputs["mechanisms"] == {"webhooks": [{"id": webhook.id}]}


def test_a_secret_the_team_chose_is_sent_instead_of_a_random_one():
    """alertWebhookSecret: the receiver knows it before the first up (Cloudflare tests the destination on create)."""
    chosen = "0123456789abcdef" * 4
    rendering = run_program(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK, alertWebhookSecret=chosen)
    declared = alert_resources(rendering)
    assert "certificate-alerts-webhook-secret" not in declared and all(r.type != PASSWORD for r in declared.values())
    webhook = declared["certificate-alerts-webhook"]
    assert webhook.inputs["secret"] == chosen and sorted(webhook.secret_inputs) == ["secret", "url"]
    assert rendering.outputs["alertWebhookSecret"] == chosen and "alertWebhookSecret" in rendering.secret_outputs
    # the rest of the rendering is the same as with a generated secret
    generated = alert_resources(run_program(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK))
    assert {k: v.inputs for k, v in generated.items() if k != "certificate-alerts-webhook-secret"} == {
        k: ({**v.inputs, "secret": generated["certificate-alerts-webhook"].inputs["secret"]}
            if k == "certificate-alerts-webhook" else v.inputs) for k, v in declared.items()}
