"""`saas-domains check` against a real DNS server on loopback (dnslib) and the local Cloudflare API."""

from __future__ import annotations

import json

import pytest

from infra.cli.check import parse_resolver
from infra.cli.errors import CommandError
from infra.operations.check import FAIL, INFO, OK, WARN, Finding, expectations, passes
from tests.cli.helpers import run_cli
from tests.fakes.cloudflare import custom_hostname

# fixtures: cloudflare_api (the local API), fresh_dns (the local DNS server), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]

# Our side: what the proxied wildcard *.cname.mailito.com answers for each customer target.
OUR_SIDE = """
mailito.com. 300 IN SOA ns.mailito.com. dns.mailito.com. 1 3600 600 86400 300
mkdev.cname.mailito.com. 300 IN A 104.16.1.1
mkdev.cname.mailito.com. 300 IN AAAA 2606:4700::1
acme.cname.mailito.com. 300 IN A 104.16.1.2
globex.cname.mailito.com. 300 IN A 104.16.1.3
"""


def check(capsys, dns, *args: str):
    return run_cli(capsys, "check", *args, "--resolver", dns.resolver_argument, "--timeout", "1")


def rows(out: str) -> list[tuple[str, str, str]]:
    """(status, check, finding) from the text table."""
    found = []
    for line in out.splitlines()[2:-1]:
        status, name, finding = line.split(maxsplit=2)
        found.append((status, name, finding))
    return found


def test_a_cname_chain_to_the_target_and_the_right_txt_pass(project, cloudflare_api, fresh_dns, capsys):
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation")
    cloudflare_api.hostnames = [item]
    token = item["ownership_verification"]["value"]
    fresh_dns.load(OUR_SIDE + f"""
        mkdev.me. 300 IN SOA ns.mkdev.me. admin.mkdev.me. 1 3600 600 86400 300
        mail.mkdev.me. 300 IN CNAME edge.mkdev.me.
        edge.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.
        _cf-custom-hostname.mail.mkdev.me. 300 IN TXT "{token}"
    """)
    result = check(capsys, fresh_dns, "mail.mkdev.me")
    assert result.code == 0, result.out
    assert result.out.splitlines()[0] == (f"saas-domains check mail.mkdev.me: customer mkdev, target "
                                          f"mkdev.cname.mailito.com, resolver {fresh_dns.resolver_argument}, "
                                          "stack dev (the default; set --stack or PULUMI_STACK)")
    assert rows(result.out) == [
        ("ok", "target", "mkdev.cname.mailito.com resolves (A 104.16.1.1; AAAA 2606:4700::1)"),
        ("ok", "cname", "CNAME chain reaches the target: mail.mkdev.me → edge.mkdev.me → mkdev.cname.mailito.com"),
        ("ok", "caa", "no CAA records on the hostname or its parents: any CA may issue"),
        ("ok", "ownership_txt", "_cf-custom-hostname.mail.mkdev.me TXT holds Cloudflare's token"),
        ("info", "cloudflare", "hostname pending, certificate pending_validation"),
    ]
    assert result.out.splitlines()[-1] == "0 failing, 0 warnings: the DNS is right"


def test_a_cname_to_another_target_fails(project, cloudflare_api, fresh_dns, capsys):
    fresh_dns.load(OUR_SIDE + "mail.acme-corp.com. 300 IN CNAME mkdev.cname.mailito.com.")
    result = check(capsys, fresh_dns, "mail.acme-corp.com", "--no-api")
    assert result.code == 1
    assert ("fail", "cname", "mail.acme-corp.com is a CNAME to mkdev.cname.mailito.com (chain: "
            "mkdev.cname.mailito.com), not to acme.cname.mailito.com: point it at acme.cname.mailito.com"
            ) in rows(result.out)
    assert result.out.splitlines()[-1] == "1 failing, 0 warnings: fix the failing checks"


def test_a_caa_record_that_excludes_the_configured_ca_fails_with_the_record_to_add(project, cloudflare_api,
                                                                                     fresh_dns, capsys):
    (project / "customers.yaml").write_text(
        "customers:\n  - id: globex\n    hostnames: [post.globex.io]\n    ssl: {certificate_authority: google}\n")
    fresh_dns.load(OUR_SIDE + """
        post.globex.io. 300 IN CNAME globex.cname.mailito.com.
        globex.io. 300 IN CAA 0 issue "letsencrypt.org"
        globex.io. 300 IN CAA 0 iodef "mailto:security@globex.io"
    """)
    result = check(capsys, fresh_dns, "post.globex.io", "--no-api")
    assert result.code == 1
    assert ("fail", "caa", 'CAA record blocks the CA: globex.io allows only letsencrypt.org; add globex.io CAA 0 '
            'issue "pki.goog"') in rows(result.out)


def test_caa_allowing_only_some_of_cloudflares_cas_is_a_warning(project, cloudflare_api, fresh_dns, capsys):
    (project / "customers.yaml").write_text("customers:\n  - id: globex\n    hostnames: [post.shop.globex.io]\n")
    fresh_dns.load(OUR_SIDE + """
        post.shop.globex.io. 300 IN CNAME globex.cname.mailito.com.
        shop.globex.io. 300 IN CAA 0 issue "pki.goog; cansignhttpexchanges=yes"
        globex.io. 300 IN CAA 0 issue "letsencrypt.org"
    """)
    result = check(capsys, fresh_dns, "post.shop.globex.io", "--no-api")
    assert result.code == 0  # the closest CAA set walking up from the hostname is the relevant one
    assert ("warn", "caa", 'CAA at shop.globex.io allows pki.goog; Cloudflare may pick another CA at renewal: add '
            'shop.globex.io CAA 0 issue "letsencrypt.org"; shop.globex.io CAA 0 issue "ssl.com"') in rows(result.out)
    assert result.out.splitlines()[-1] == "0 failing, 1 warning: the DNS is right"


def test_an_apex_with_flattening_passes_but_a_stray_aaaa_fails(project, cloudflare_api, fresh_dns, capsys):
    (project / "customers.yaml").write_text("customers:\n  - id: mkdev\n    hostnames: [mkdev.me]\n")
    fresh_dns.load(OUR_SIDE + """
        mkdev.me. 300 IN SOA ns.mkdev.me. admin.mkdev.me. 1 3600 600 86400 300
        mkdev.me. 300 IN A 104.16.1.1
        mkdev.me. 300 IN AAAA 2001:db8::5
    """)
    result = check(capsys, fresh_dns, "mkdev.me", "--no-api", "--json")
    assert result.code == 1
    findings = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert findings["cname"]["status"] == "ok" and findings["cname"]["details"] == {"apex": True}
    assert findings["addresses"]["status"] == "fail"
    assert findings["addresses"]["message"].startswith("conflicting AAAA 2001:db8::5: these addresses are not "
                                                       "Cloudflare's for the target")


def test_an_apex_pointing_elsewhere_explains_flattening(project, cloudflare_api, fresh_dns, capsys):
    (project / "customers.yaml").write_text("customers:\n  - id: mkdev\n    hostnames: [mkdev.me]\n")
    fresh_dns.load(OUR_SIDE + """
        mkdev.me. 300 IN SOA ns.mkdev.me. admin.mkdev.me. 1 3600 600 86400 300
        mkdev.me. 300 IN A 203.0.113.7
    """)
    found = dict(((c, (s, m)) for s, c, m in rows(check(capsys, fresh_dns, "mkdev.me", "--no-api").out)))
    assert found["cname"] == ("fail", "mkdev.me is an apex domain, which cannot hold a CNAME: the customer needs CNAME "
                                      "flattening or an ALIAS/ANAME record to mkdev.cname.mailito.com")
    assert found["addresses"] == ("fail", "conflicting A 203.0.113.7: these addresses are not Cloudflare's for the "
                                          "target, so visitors using them bypass it; remove them")


def test_a_stale_ownership_txt_is_a_failure(project, cloudflare_api, fresh_dns, capsys):
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation")
    cloudflare_api.hostnames = [item]
    fresh_dns.load(OUR_SIDE + """
        mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.
        _cf-custom-hostname.mail.mkdev.me. 300 IN TXT "token-of-an-older-hostname"
    """)
    result = check(capsys, fresh_dns, "mail.mkdev.me")
    assert result.code == 1
    expected = item["ownership_verification"]["value"]
    assert ("fail", "ownership_txt", f"_cf-custom-hostname.mail.mkdev.me TXT holds token-of-an-older-hostname, but "
            f"Cloudflare expects {expected} (a stale token from an earlier hostname?)") in rows(result.out)


def test_a_required_certificate_txt_that_is_missing_fails(project, cloudflare_api, fresh_dns, capsys):
    record = {"txt_name": "_acme-challenge.mail.mkdev.me", "txt_value": "dcv-1"}
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me", ssl_status="pending_validation", method="txt",
                                                validation_records=[record], ownership=False)]
    fresh_dns.load(OUR_SIDE + "mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.")
    result = check(capsys, fresh_dns, "mail.mkdev.me")
    assert ("fail", "certificate_txt", "_acme-challenge.mail.mkdev.me TXT is absent; the certificate authority "
            "expects dcv-1") in rows(result.out)


def test_a_hostname_that_does_not_exist_says_so(project, cloudflare_api, fresh_dns, capsys):
    fresh_dns.load(OUR_SIDE)
    result = check(capsys, fresh_dns, "mail.mkdev.me", "--no-api")
    assert result.code == 1
    assert rows(result.out)[0] == ("fail", "cname", "mail.mkdev.me does not exist in DNS (NXDOMAIN): the customer "
                                                    "has not added the record yet: mail.mkdev.me CNAME "
                                                    "mkdev.cname.mailito.com")


def test_a_resolver_that_denies_every_name_is_blamed_not_the_customer(project, cloudflare_api, fresh_dns, capsys):
    """A resolver answering NXDOMAIN for everything (a filtering one, a captive portal): even the SaaS zone
    "does not exist", so its NXDOMAIN for the hostname says nothing about the customer's records."""
    result = check(capsys, fresh_dns, "mail.mkdev.me", "--no-api")  # fresh_dns knows no name at all
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"saas-domains check: resolver {fresh_dns.resolver_argument} failed: it answers NXDOMAIN (no such name) for "
        "mail.mkdev.me and also for mailito.com, the SaaS zone, which exists: the resolver is the problem, not the "
        "customer's DNS (a filtering or split-horizon resolver, or a network that answers every name itself?); the "
        "customer's records were not judged. Ask another resolver: --resolver 1.1.1.1 (the default) or --resolver "
        "8.8.8.8\n")
    assert "has not added the record" not in result.err
    assert ("mailito.com", "SOA") in fresh_dns.zone.queries  # the name that must exist was asked

    fresh_dns.load("mailito.com. 300 IN SOA ns.mailito.com. dns.mailito.com. 1 3600 600 86400 300")
    known = check(capsys, fresh_dns, "mail.mkdev.me", "--no-api", "--format", "json")
    assert known.code == 1  # the zone resolves: now the missing record is the customer's
    assert json.loads(known.out)["findings"][0]["message"].startswith("mail.mkdev.me does not exist in DNS (NXDOMAIN)")


def test_check_markdown_is_a_table_for_a_ticket(project, cloudflare_api, fresh_dns, capsys):
    fresh_dns.load(OUR_SIDE + "mail.acme-corp.com. 300 IN CNAME mkdev.cname.mailito.com.")
    result = check(capsys, fresh_dns, "mail.acme-corp.com", "--no-api", "--format", "markdown")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "### saas-domains check: `mail.acme-corp.com`"
    assert lines[2] == (f"customer `acme`, target `acme.cname.mailito.com`, resolver `{fresh_dns.resolver_argument}`, "
                        "stack dev (the default; set --stack or PULUMI_STACK)")
    assert "| ok | target | acme.cname.mailito.com resolves (A 104.16.1.2) |" in lines
    assert lines[-1] == "**1 failing, 0 warnings: fix the failing checks**"


def test_without_a_token_the_txt_is_shown_but_not_compared(project, cloudflare_api, fresh_dns, capsys, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    fresh_dns.load(OUR_SIDE + """
        mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.
        _cf-custom-hostname.mail.mkdev.me. 300 IN TXT "some-token"
    """)
    result = check(capsys, fresh_dns, "mail.mkdev.me")
    assert result.code == 0
    assert ("info", "ownership_txt", "_cf-custom-hostname.mail.mkdev.me holds some-token (not compared with "
            "Cloudflare's token: no API access)") in rows(result.out)
    assert ("info", "cloudflare", "no CLOUDFLARE_API_TOKEN: TXT values not compared with Cloudflare's"
            ) in rows(result.out)
    assert cloudflare_api.requests == []


def test_a_resolver_failure_is_exit_2(project, cloudflare_api, fresh_dns, capsys):
    fresh_dns.load(OUR_SIDE)
    fresh_dns.fail("mail.mkdev.me")
    result = check(capsys, fresh_dns, "mail.mkdev.me", "--no-api")
    assert result.code == 2
    assert result.err.startswith(f"saas-domains check: resolver {fresh_dns.resolver_argument} failed: the resolver "
                                 "gave no answer for mail.mkdev.me CNAME")


def test_an_undeclared_hostname_needs_an_explicit_target(project, cloudflare_api, fresh_dns, capsys):
    fresh_dns.load(OUR_SIDE + "www.example.org. 300 IN CNAME acme.cname.mailito.com.")
    result = check(capsys, fresh_dns, "www.example.org", "--no-api")
    assert result.code == 2
    assert "www.example.org is not in customers.yaml; pass --target to check it anyway" in result.err
    assert check(capsys, fresh_dns, "www.example.org", "--no-api", "--target", "acme.cname.mailito.com").code == 0


@pytest.mark.parametrize("value, port, expected", [
    ("1.1.1.1", None, ("1.1.1.1", 53)), ("127.0.0.1:5353", None, ("127.0.0.1", 5353)),
    ("[::1]:5300", None, ("::1", 5300)), ("::1", None, ("::1", 53)), ("127.0.0.1", 5400, ("127.0.0.1", 5400)),
    ("system", None, (None, 53))])
def test_resolver_addresses(value, port, expected):
    assert parse_resolver(value, port) == expected


def test_a_resolver_name_is_refused():
    with pytest.raises(CommandError, match="--resolver wants an IP address"):
        parse_resolver("dns.google", None)


def test_expectations_take_cloudflares_values_and_the_files_method_when_the_api_leaves_it_out():
    records = [{"txt_name": "_acme-challenge.mail.mkdev.me", "txt_value": "tok"}, {"txt_name": "incomplete"}]
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation",
                           validation_records=records, ssl_certificate_authority="google")
    del item["ssl"]["method"]  # optional in Cloudflare's spec
    expect = expectations("mail.mkdev.me", "mkdev.cname.mailito.com", None, item, declared_method="txt")
    assert expect.certificate_txt == (("_acme-challenge.mail.mkdev.me", "tok"),)
    assert expect.certificate_txt_required and expect.compared_with_cloudflare
    assert expect.chosen_authority == "google"
    assert expect.ownership_txt == (item["ownership_verification"]["name"], item["ownership_verification"]["value"])
    unknown = expectations("mail.mkdev.me", "mkdev.cname.mailito.com", "ssl_com", {})
    assert (unknown.ownership_txt, unknown.certificate_txt, unknown.compared_with_cloudflare) == (None, (), False)
    assert unknown.certificate_authority == "ssl_com"


def test_warnings_pass_a_failing_check_does_not():
    assert passes([Finding("caa", WARN, "w"), Finding("cname", OK, "o"), Finding("cloudflare", INFO, "i")])
    assert not passes([Finding("cname", FAIL, "f"), Finding("caa", OK, "o")])
