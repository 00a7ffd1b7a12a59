"""`saas-domains instructions`: the customer's e-mail, in text, Markdown and JSON, from live API values."""

from __future__ import annotations

import json

from tests.cli.helpers import run_cli
from tests.fakes.cloudflare import custom_hostname

# fixtures: cloudflare_api (the local API), fresh_dns (the local DNS server), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]


def test_text_is_ready_to_paste_with_the_live_ownership_token(project, cloudflare_api, capsys):
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation")
    cloudflare_api.hostnames = [item]
    token = item["ownership_verification"]["value"]
    result = run_cli(capsys, "instructions", "mail.mkdev.me")
    # stdout is the e-mail alone; the stack it was read with is said beside it
    assert result.code == 0
    assert result.err == "read with the settings of stack dev (the default; set --stack or PULUMI_STACK)\n"
    assert result.out.splitlines()[:8] == [
        "DNS records for mail.mkdev.me",
        "",
        "Please add these records at the DNS provider of mkdev.me:",
        "",
        "  TYPE   NAME                               VALUE",
        "  CNAME  mail.mkdev.me                      mkdev.cname.mailito.com",
        f"  TXT    _cf-custom-hostname.mail.mkdev.me  {token}  (optional)",
        "",
    ]
    assert ("  - TXT _cf-custom-hostname.mail.mkdev.me (optional): proves ownership before the CNAME moves, for a "
            "switch without downtime") in result.out.splitlines()
    assert "With the CNAME in place, the certificate is validated over HTTP: no other record is needed." in result.out


def test_a_customer_id_gives_every_hostname_of_that_customer(project, cloudflare_api, capsys):
    cloudflare_api.hostnames = [custom_hostname("mail.acme-corp.com"), custom_hostname("newsletter.acme-corp.com")]
    result = run_cli(capsys, "instructions", "acme", "--format", "json")
    assert result.code == 0
    document = json.loads(result.out)
    assert (document["stack"], document["stack_from"]) == ("dev", "default")
    assert [h["hostname"] for h in document["hostnames"]] == ["mail.acme-corp.com", "newsletter.acme-corp.com"]
    first = document["hostnames"][0]
    assert first["records"][0] == {"type": "CNAME", "name": "mail.acme-corp.com", "value": "acme.cname.mailito.com",
                                   "required": True, "purpose": first["records"][0]["purpose"]}
    assert first["status"] == "active" and first["not_yet_available"] == []
    assert cloudflare_api.count("/custom_hostnames$") == 2  # one filtered request per hostname


def test_records_not_there_yet_are_named_on_stderr_and_exit_1(project, cloudflare_api, capsys):
    cloudflare_api.hostnames = [custom_hostname("post.globex.io", status="pending", ssl_status="initializing",
                                                method="txt", ownership=False)]
    result = run_cli(capsys, "instructions", "post.globex.io")
    assert result.code == 1
    assert "  CNAME  post.globex.io  globex.cname.mailito.com" in result.out.splitlines()
    assert result.err.splitlines() == [
        "read with the settings of stack dev (the default; set --stack or PULUMI_STACK)",
        "not available yet for post.globex.io: the ownership TXT record: Cloudflare has not published it yet",
        "not available yet for post.globex.io: the certificate validation TXT record: Cloudflare publishes it a few "
        "minutes after the hostname is created; run this command again later"]


def test_certificate_txt_records_come_from_the_api_when_they_appear(project, cloudflare_api, capsys):
    record = {"txt_name": "_acme-challenge.post.globex.io", "txt_value": "dcv-token-1", "status": "pending"}
    cloudflare_api.hostnames = [custom_hostname("post.globex.io", status="pending", ssl_status="pending_validation",
                                                method="txt", validation_records=[record])]
    result = run_cli(capsys, "instructions", "post.globex.io", "--format", "markdown")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "### DNS records for `post.globex.io`"
    assert lines[4:6] == ["| Type | Name | Value | Needed | Why |", "| --- | --- | --- | --- | --- |"]
    assert ("| TXT | `_acme-challenge.post.globex.io` | `dcv-token-1` | required | lets the certificate authority "
            "validate the certificate |") in lines


def test_a_hostname_not_yet_in_cloudflare_still_gets_its_cname(project, cloudflare_api, capsys):
    result = run_cli(capsys, "instructions", "MAIL.MKDEV.ME.")  # normalised like the customers file
    assert result.code == 1
    assert "  CNAME  mail.mkdev.me  mkdev.cname.mailito.com" in result.out.splitlines()
    assert ("the hostname is not in Cloudflare (not created yet, or deleted by Cloudflare after 7 days pending or "
            "moved); a TXT value sent before no longer counts") in result.err


def test_an_apex_hostname_explains_flattening(project, cloudflare_api, capsys):
    (project / "customers.yaml").write_text("customers:\n  - id: mkdev\n    hostnames: [mkdev.me]\n")
    cloudflare_api.hostnames = [custom_hostname("mkdev.me")]
    result = run_cli(capsys, "instructions", "mkdev")
    assert "  CNAME (flattened) / ALIAS  mkdev.me" in result.out
    assert ("mkdev.me is an apex domain, which cannot hold a CNAME record: use your DNS provider's CNAME flattening "
            "or an ALIAS/ANAME record pointing at mkdev.cname.mailito.com") in result.out


def test_unknown_targets_and_missing_tokens_are_usage_errors(project, cloudflare_api, capsys, monkeypatch):
    result = run_cli(capsys, "instructions", "nobody.example.org")
    assert result.code == 2
    assert result.err == ("saas-domains instructions: 'nobody.example.org' is neither a customer id nor a hostname "
                          "in customers.yaml\n")
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    result = run_cli(capsys, "instructions", "mkdev")
    assert result.code == 2 and "CLOUDFLARE_API_TOKEN is not set" in result.err
