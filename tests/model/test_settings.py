"""Stack settings: the schema the program uses is the one Pulumi.yaml declares, and bad values are refused."""

from __future__ import annotations

import re

import pytest
import yaml

from infra.model.settings import ENCRYPTED, SETTINGS, SettingsError, settings_from, settings_from_stack_config
from tests.conftest import PROJECT_ROOT

PULUMI_YAML = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())


def test_project_name_backend_and_runtime():
    assert PULUMI_YAML["name"] == "saas-domains"
    assert PULUMI_YAML["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert PULUMI_YAML["backend"]["url"] == "file://./.pulumi-state"
    assert (PROJECT_ROOT / ".pulumi-state").is_dir()  # the file backend needs the folder to exist


def test_pulumi_yaml_declares_every_setting_with_the_same_type_and_default():
    declared = PULUMI_YAML["config"]
    assert set(declared) == {s.key for s in SETTINGS}
    for setting in SETTINGS:
        entry = declared[setting.key]
        assert entry["type"] == setting.type, setting.key
        assert entry["description"] == setting.description, setting.key
        if setting.required:
            assert "default" not in entry, setting.key
        else:
            assert entry["default"] == setting.default, setting.key
        if setting.type == "array":
            assert entry["items"] == {"type": "string"}


def test_a_setting_with_choices_names_each_of_them_in_its_description():
    """`pulumi config` shows Pulumi.yaml's description; it is the only place a user sees the allowed values."""
    with_choices = [s for s in SETTINGS if s.choices]
    assert {s.key for s in with_choices} == {"role", "origin", "originAuth", "transformRules", "targetType"}
    for setting in with_choices:
        assert setting.default in setting.choices, setting.key
        for choice in setting.choices:
            assert re.search(rf"\b{choice}\b", setting.description), (setting.key, choice)


def test_example_stack_sets_every_setting():
    config = yaml.safe_load((PROJECT_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert {f"saas-domains:{s.key}" for s in SETTINGS} <= set(config)
    assert config["aws:region"]
    settings = settings_from_stack_config(config)
    assert settings.zone == "mailito.com"
    assert settings.fallback_hostname == "proxy-fallback.mailito.com"
    assert settings.cname_target("mkdev") == "mkdev.cname.mailito.com"


def test_defaults_apply_when_only_the_zone_is_set():
    settings = settings_from({"zone": "Mailito.com."}.get)
    assert settings.zone == "mailito.com"
    for setting in SETTINGS:
        if setting.required:
            continue
        value = getattr(settings, _snake(setting.key))
        expected = setting.default
        if setting.key in ("zoneId", "vpcId", "cloudRunService", "cloudRunRegion", "originHostname", "coreStack",
                           "accountId", "alertWebhookUrl", "alertWebhookSecret"):
            expected = None
        if setting.type == "array":
            expected = tuple(expected)
        assert value == expected, setting.key


def test_values_as_pulumi_hands_them_over_are_parsed():
    settings = settings_from({
        "zone": "mailito.com", "allowWildcards": "true", "maxHostnames": "20000", "targetPort": "3000",
        "vpcId": "vpc-1", "subnetIds": '["subnet-a", "subnet-b"]'}.get)
    assert settings.allow_wildcards is True
    assert settings.max_hostnames == 20000 and settings.target_port == 3000
    assert settings.subnet_ids == ("subnet-a", "subnet-b")
    rules = settings.validation_rules()
    assert (rules.zone, rules.allow_wildcards, rules.max_hostnames) == ("mailito.com", True, 20000)


def test_customers_file_is_relative_to_the_project_unless_absolute(tmp_path):
    relative = settings_from({"zone": "mailito.com", "customersFile": "data/c.yaml"}.get)
    assert relative.customers_path(tmp_path) == tmp_path / "data" / "c.yaml"
    absolute = settings_from({"zone": "mailito.com", "customersFile": "/etc/c.yaml"}.get)
    assert str(absolute.customers_path(tmp_path)) == "/etc/c.yaml"


@pytest.mark.parametrize(("values", "message"), [
    ({}, "saas-domains:zone is required"),
    ({"zone": "localhost"}, "saas-domains:zone must be a domain"),
    ({"zone": "mail ito.com"}, "saas-domains:zone must be a domain"),
    ({"zone": "mailito.com", "allowWildcards": "yes"}, "saas-domains:allowWildcards must be true or false"),
    ({"zone": "mailito.com", "maxHostnames": "lots"}, "saas-domains:maxHostnames must be a whole number"),
    ({"zone": "mailito.com", "maxHostnames": "0"}, "saas-domains:maxHostnames must be at least 1, got 0"),
    ({"zone": "mailito.com", "maxRemovals": "-1"}, "saas-domains:maxRemovals must be 0 or more, got -1"),
    ({"zone": "mailito.com", "allowRemovals": "-2"}, "saas-domains:allowRemovals must be 0 or more, got -2"),
    ({"zone": "mailito.com", "targetPort": "70000"}, "saas-domains:targetPort must be a TCP port"),
    ({"zone": "mailito.com", "targetPort": "0"}, "saas-domains:targetPort must be a TCP port, got 0"),
    ({"zone": "mailito.com", "originAuth": "ip"}, "saas-domains:originAuth must be one of header, mtls, none"),
    ({"zone": "mailito.com", "targetType": "alb"}, "saas-domains:targetType must be one of ip, instance"),
    ({"zone": "mailito.com", "healthCheckPath": "health"}, "saas-domains:healthCheckPath must start with '/'"),
    ({"zone": "mailito.com", "subnetIds": "subnet-a"}, "saas-domains:subnetIds must be a list of strings"),
    ({"zone": "mailito.com", "cnameSubdomain": "a.b"}, "saas-domains:cnameSubdomain must be one DNS label"),
    ({"zone": "mailito.com", "fallbackSubdomain": "-fb"}, "saas-domains:fallbackSubdomain must be one DNS label"),
    ({"zone": "mailito.com", "vpcId": "vpc-1"}, "saas-domains:vpcId and saas-domains:subnetIds go together"),
])
def test_bad_settings_are_refused_with_the_key_named(values, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        settings_from(values.get)


def test_rules_run_in_table_order_then_the_stack_checks():
    """With several bad values the first in SETTINGS is reported; a stack check sees only values that passed."""
    with pytest.raises(SettingsError, match="saas-domains:cnameSubdomain must be one DNS label"):
        settings_from({"zone": "mailito.com", "cnameSubdomain": "a.b", "targetPort": "0", "vpcId": "vpc-1"}.get)
    with pytest.raises(SettingsError, match="saas-domains:targetPort must be a TCP port"):
        settings_from({"zone": "mailito.com", "targetPort": "0", "vpcId": "vpc-1"}.get)
    with pytest.raises(SettingsError, match="saas-domains:fallbackSubdomain must be one DNS label"):
        settings_from({"zone": "mailito.com", "fallbackSubdomain": "x" * 64}.get)  # not the ACM length


def test_rules_normalise_what_they_accept():
    settings = settings_from({"zone": "Mailito.COM.", "fallbackSubdomain": "FB", "cnameSubdomain": "CName",
                              "zoneId": " ", "vpcId": "", "originAuth": " mtls "}.get)
    assert (settings.zone, settings.fallback_subdomain, settings.cname_subdomain) == ("mailito.com", "fb", "cname")
    assert settings.zone_id is None and settings.vpc_id is None
    assert settings.origin_auth == "mtls"
    assert settings.fallback_hostname == "fb.mailito.com"


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def test_a_fallback_hostname_too_long_for_an_acm_certificate_is_refused():
    """ACM: "The first domain name you enter cannot exceed 64 octets, including periods"."""
    zone = "a" * 40 + ".example.com"  # proxy-fallback.<zone> is 67 characters
    with pytest.raises(SettingsError, match=r"'proxy-fallback\.a+\.example\.com' \(67 characters\).*ACM refuses"):
        settings_from_stack_config({"saas-domains:zone": zone})
    shorter = settings_from_stack_config({"saas-domains:zone": zone, "saas-domains:fallbackSubdomain": "fb"})
    assert shorter.fallback_hostname == f"fb.{zone}"


def test_the_cloud_run_origin_needs_its_service_and_region():
    with pytest.raises(SettingsError, match=r"saas-domains:origin gcp-cloud-run needs saas-domains:cloudRunService "
                                            r"and saas-domains:cloudRunRegion"):
        settings_from_stack_config({"saas-domains:zone": "mailito.com", "saas-domains:origin": "gcp-cloud-run"})
    settings = settings_from_stack_config({
        "saas-domains:zone": "mailito.com", "saas-domains:origin": "gcp-cloud-run",
        "saas-domains:cloudRunService": "app", "saas-domains:cloudRunRegion": "europe-west1"})
    assert (settings.origin, settings.cloud_run_service, settings.cloud_run_region) == (
        "gcp-cloud-run", "app", "europe-west1")
    with pytest.raises(SettingsError,
                       match="saas-domains:origin must be one of aws-alb, gcp-cloud-run, external, got 'azure'"):
        settings_from_stack_config({"saas-domains:zone": "mailito.com", "saas-domains:origin": "azure"})


# -- certificate alerts (issue 12) -----------------------------------------------------------------

ACCOUNT = "0123456789abcdef0123456789abcdef"
WEBHOOK = "https://hooks.example.com/cloudflare?token=do-not-print-me"


def alert_settings(**values: object):
    return settings_from({"zone": "mailito.com", **values}.get)


def test_alerts_are_off_by_default_and_on_with_an_account_and_a_destination():
    assert not alert_settings().declares_alerts
    settings = alert_settings(accountId=ACCOUNT.upper(), alertWebhookUrl=f" {WEBHOOK} ",
                              alertEmails='["ops@mailito.com", "Oncall@Mailito.com"]')
    assert settings.declares_alerts
    assert settings.account_id == ACCOUNT  # normalised to lower case, as Cloudflare shows it
    assert settings.alert_webhook_url == WEBHOOK
    assert settings.alert_emails == ("ops@mailito.com", "Oncall@Mailito.com")
    assert alert_settings(accountId=ACCOUNT, alertEmails='["ops@mailito.com"]').alert_webhook_url is None
    assert alert_settings(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK).alert_emails == ()


def test_the_webhook_url_never_appears_in_the_settings_repr():
    assert WEBHOOK not in repr(alert_settings(accountId=ACCOUNT, alertWebhookUrl=WEBHOOK))


@pytest.mark.parametrize("account", ["0123", "0123456789abcdef0123456789abcdeg", "x" * 32, ACCOUNT + "0"])
def test_the_account_id_is_32_hexadecimal_characters(account):
    with pytest.raises(SettingsError, match=rf"saas-domains:accountId must be a Cloudflare account id \(32 "
                                            rf"hexadecimal characters.*got '{account}'"):
        alert_settings(accountId=account, alertEmails='["ops@mailito.com"]')


@pytest.mark.parametrize(("url", "got"), [
    ("http://hooks.example.com/cloudflare?token=do-not-print-me", "got an http:// URL"),
    ("HTTP://hooks.example.com/do-not-print-me", "got an http:// URL"),
    ("ftp://hooks.example.com/do-not-print-me", "got something else"),
    ("hooks.example.com/do-not-print-me", "got something else"),
    ("https:///do-not-print-me", "got something else"),  # no host
    ("https://hooks.example.com/do not-print-me", "got something else"),
    ("https://[do-not-print-me/", "got something else"),  # urlsplit refuses it
])
def test_the_webhook_url_must_be_https_and_is_never_shown(url, got):
    with pytest.raises(SettingsError) as refused:
        alert_settings(accountId=ACCOUNT, alertWebhookUrl=url)
    message = str(refused.value)
    assert message.startswith("saas-domains:alertWebhookUrl must be an https:// URL with a host")
    assert got in message and "the value is secret and not shown" in message
    assert "do-not-print-me" not in message and "hooks.example.com" not in message


def test_a_webhook_url_of_the_wrong_type_is_not_shown_either():
    with pytest.raises(SettingsError, match="saas-domains:alertWebhookUrl must be a string, got a list") as refused:
        settings_from_stack_config({"saas-domains:zone": "mailito.com", "saas-domains:accountId": ACCOUNT,
                                    "saas-domains:alertWebhookUrl": ["https://do-not-print-me.example"]})
    assert "do-not-print-me" not in str(refused.value)


@pytest.mark.parametrize(("emails", "message"), [
    ('["ops"]', "entry 1 must be an e-mail address such as ops@mailito.com, got 'ops'"),
    ('["ops@mailito.com", "ops@localhost"]', "entry 2 must be an e-mail address.*got 'ops@localhost'"),
    ('["o ps@mailito.com"]', "entry 1 must be an e-mail address"),
    ('["ops@@mailito.com"]', "entry 1 must be an e-mail address"),
    ('["@mailito.com"]', "entry 1 must be an e-mail address"),
    ('["ops@-mailito.com"]', "entry 1 must be an e-mail address"),
    ('["ops@mailito.com", "OPS@mailito.com"]', r"lists 'OPS@mailito.com' twice \(entries 1 and 2\)"),
    ('"ops@mailito.com"', "must be a list of strings"),
])
def test_alert_emails_are_distinct_plausible_addresses(emails, message):
    with pytest.raises(SettingsError, match=f"saas-domains:alertEmails {message}"):
        alert_settings(accountId=ACCOUNT, alertEmails=emails)


@pytest.mark.parametrize(("values", "message"), [
    ({"alertWebhookUrl": WEBHOOK}, "saas-domains:alertWebhookUrl needs saas-domains:accountId"),
    ({"alertEmails": '["ops@mailito.com"]'}, "saas-domains:alertEmails needs saas-domains:accountId"),
    ({"alertWebhookUrl": WEBHOOK, "alertEmails": '["ops@mailito.com"]'},
     "saas-domains:alertWebhookUrl and saas-domains:alertEmails need saas-domains:accountId"),
    ({"accountId": ACCOUNT}, "saas-domains:accountId alone declares no alert"),
])
def test_alerts_need_an_account_and_a_destination(values, message):
    with pytest.raises(SettingsError, match=message) as refused:
        alert_settings(**values)
    assert "do-not-print-me" not in str(refused.value)


SHARD = {"role": "shard", "coreStack": "organization/saas-domains/core", "shards": "2"}


@pytest.mark.parametrize("values", [
    {"accountId": ACCOUNT, "alertEmails": '["ops@mailito.com"]'},
    {"alertWebhookUrl": WEBHOOK},
    {"accountId": ACCOUNT},
])
def test_a_shard_refuses_every_alert_setting(values):
    with pytest.raises(SettingsError, match="cannot be set on a shard: alerts are account-wide: the core stack "
                                            "declares them") as refused:
        alert_settings(**SHARD, **values)
    assert "do-not-print-me" not in str(refused.value)
    assert not alert_settings(**SHARD).declares_alerts


def test_a_core_stack_may_declare_alerts():
    assert alert_settings(role="core", accountId=ACCOUNT, alertWebhookUrl=WEBHOOK).declares_alerts


def test_an_encrypted_webhook_url_in_a_stack_file_counts_as_set_and_is_not_checked():
    """`pulumi config set --secret` writes `{secure: v1:...}`, which only Pulumi can decrypt."""
    config = {"saas-domains:zone": "mailito.com", "saas-domains:accountId": ACCOUNT,
              "saas-domains:alertWebhookUrl": {"secure": "v1:c2FsdA==:Y2lwaGVydGV4dA=="}}
    settings = settings_from_stack_config(config)
    assert settings.alert_webhook_url is ENCRYPTED and settings.declares_alerts
    with pytest.raises(SettingsError, match="saas-domains:alertWebhookUrl cannot be set on a shard"):
        settings_from_stack_config({**config, **{f"saas-domains:{k}": v for k, v in SHARD.items()},
                                    "saas-domains:accountId": ""})
    with pytest.raises(SettingsError, match="saas-domains:alertWebhookUrl needs saas-domains:accountId"):
        settings_from_stack_config({**config, "saas-domains:accountId": ""})


def test_only_secret_settings_may_be_encrypted():
    with pytest.raises(SettingsError, match="saas-domains:accountId must be a string"):
        settings_from_stack_config({"saas-domains:zone": "mailito.com", "saas-domains:accountId": {"secure": "v1:x"}})


def test_the_secret_settings_are_the_webhooks_with_a_placeholder_their_rules_accept():
    secret = [s for s in SETTINGS if s.secret]
    assert [s.key for s in secret] == ["alertWebhookUrl", "alertWebhookSecret"]
    assert all(s.check(s.offline_placeholder) == s.offline_placeholder for s in secret)
    assert all("--secret" in s.description for s in secret)


ALERTS = {"zone": "mailito.com", "accountId": "0123456789abcdef0123456789abcdef",
          "alertWebhookUrl": "https://hooks.example.com/cf"}


@pytest.mark.parametrize(("value", "accepted"), [
    ("0123456789abcdef" * 4, True), ("a" * 32, True), ("A-z_0.9~+/=" * 3, True), ("a" * 256, True),
    ("a" * 31, False), ("a" * 257, False), ("has space in it " * 3, False), ('quote"' * 8, False),
])
def test_the_webhook_secret_is_header_safe_and_long_and_never_shown(value, accepted):
    values = {**ALERTS, "alertWebhookSecret": value}
    if accepted:
        assert settings_from(values.get).alert_webhook_secret == value
        return
    with pytest.raises(SettingsError) as err:
        settings_from(values.get)
    assert "saas-domains:alertWebhookSecret must be 32 to 256 characters" in str(err.value)
    assert value not in str(err.value)


def test_the_webhook_secret_needs_the_webhook():
    values = {**ALERTS, "alertWebhookUrl": None, "alertEmails": '["ops@mailito.com"]',
              "alertWebhookSecret": "a" * 40}
    with pytest.raises(SettingsError,
                       match="alertWebhookSecret is the webhook's: it needs saas-domains:alertWebhookUrl"):
        settings_from(values.get)
