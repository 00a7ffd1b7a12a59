"""The status -> next-step wording and the customer's DNS records, on dicts shaped like the API's JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.model.customers import parse_customers
from infra.model.hostnames import is_apex, registrable_domain
from infra.model.settings import settings_from_stack_config
from infra.operations.custom_hostname_fields import api_hostname, format_age
from infra.operations.instructions import instructions_for, live_instructions
from infra.operations.status import LIVE, PROBLEM, WAITING, assess_fallback_origin, assess_hostname, status_report
from infra.stack_files import read_stack_file
from tests.conftest import EXAMPLE_CUSTOMERS, PROJECT_ROOT
from tests.fakes.cloudflare import custom_hostname

TARGET = "mkdev.cname.mailito.com"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RECENT = "2026-03-01T10:30:00Z"  # 1h 30m before NOW


def step(item: dict, **options) -> tuple[str, str]:
    diagnosis = assess_hostname(item, cname_target=TARGET, now=NOW, **options)
    return diagnosis.level, diagnosis.next_step


def test_active_hostname_with_active_certificate_is_live():
    assert step(custom_hostname("mail.mkdev.me")) == (LIVE, "live")


def test_pending_hostname_waits_for_the_customers_cname_and_names_the_txt_alternative():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation", created_at=RECENT,
                           verification_errors=["custom hostname does not CNAME to this zone."])
    assert step(item) == (WAITING, "waiting for the customer's CNAME: mail.mkdev.me CNAME mkdev.cname.mailito.com "
                                   "(or the ownership TXT _cf-custom-hostname.mail.mkdev.me to pre-validate)")


def test_a_hostname_pending_longer_than_the_threshold_needs_attention():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation",
                           created_at="2026-02-25T12:00:00Z")
    level, text = step(item)
    assert level == PROBLEM
    assert text.startswith("pending for 4d (Cloudflare gives up after 7 days): waiting for the customer's CNAME")
    assert step(item, stale_after=timedelta(days=5))[0] == WAITING


def test_moved_hostname_is_a_problem_with_the_seven_day_deadline():
    item = custom_hostname("mail.mkdev.me", status="moved")
    assert step(item) == (PROBLEM, "moved: the customer's DNS no longer points here; it will be deleted after 7 days "
                                   "unless mail.mkdev.me CNAMEs to mkdev.cname.mailito.com again")


def test_caa_error_wins_over_waiting_and_says_the_ca_is_blocked():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation", created_at=RECENT,
                           validation_errors=["caa_error: CAA record for mkdev.me prevents issuance by pki.goog"])
    level, text = step(item)
    assert level == PROBLEM and text.startswith("CAA record blocks the CA:")
    assert "`saas-domains check mail.mkdev.me`" in text


@pytest.mark.parametrize("status", ["blocked", "pending_blocked", "test_blocked"])
def test_blocked_hostnames_go_to_cloudflare_support(status):
    level, text = step(custom_hostname("mail.mkdev.me", status=status))
    assert level == PROBLEM and "contact Cloudflare support" in text


def test_timed_out_validation_explains_how_to_restart_it():
    item = custom_hostname("mail.mkdev.me", status="active", ssl_status="validation_timed_out")
    level, text = step(item)
    assert level == PROBLEM
    assert text.startswith("certificate validation timed out: fix the customer's DNS")
    assert "sending the same ssl settings again" in text


def test_active_hostname_with_pending_certificate_warns_of_tls_errors():
    item = custom_hostname("mail.mkdev.me", status="active", ssl_status="pending_validation", created_at=RECENT)
    level, text = step(item)
    assert level == WAITING
    assert text == ("hostname active but TLS fails until the certificate is issued: waiting for validation over "
                    "HTTP: mail.mkdev.me must CNAME to mkdev.cname.mailito.com")


def test_txt_validation_names_the_record_or_says_it_is_not_published_yet():
    record = {"txt_name": "_acme-challenge.mail.mkdev.me", "txt_value": "ca3-token", "status": "pending"}
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation", method="txt",
                           created_at=RECENT, validation_records=[record])
    certificate_step = assess_hostname({**item, "status": "active"}, cname_target=TARGET, now=NOW).next_step
    assert certificate_step.endswith("waiting for the customer's certificate TXT record: "
                                     "_acme-challenge.mail.mkdev.me TXT ca3-token")
    item["ssl"]["validation_records"] = []
    assert "waiting for Cloudflare to publish the certificate TXT record" in assess_hostname(
        {**item, "status": "active"}, cname_target=TARGET, now=NOW).next_step


@pytest.mark.parametrize("ssl_status, words", [("pending_issuance", "issuing"), ("pending_deployment", "deployed"),
                                               ("initializing", "preparing")])
def test_certificate_in_progress_needs_nothing_from_anyone(ssl_status, words):
    level, text = step(custom_hostname("mail.mkdev.me", ssl_status=ssl_status, created_at=RECENT))
    assert level == WAITING and words in text


def test_ages_read_in_two_units():
    assert format_age(timedelta(days=12, hours=3, minutes=5)) == "12d 3h"
    assert format_age(timedelta(hours=5, minutes=20)) == "5h 20m"
    assert format_age(timedelta(minutes=7, seconds=59)) == "7m"
    assert format_age(None) == "?"


@pytest.mark.parametrize("hostname, domain", [("mail.mkdev.me", "mkdev.me"), ("a.b.example.co.uk", "example.co.uk"),
                                              ("example.com", "example.com"), ("*.shop.example.com", "example.com")])
def test_registrable_domain(hostname, domain):
    assert registrable_domain(hostname) == domain


def test_instructions_give_cname_and_live_ownership_txt():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation")
    result = instructions_for("mail.mkdev.me", "mkdev", TARGET, item)
    assert [(r.type, r.name, r.value, r.required) for r in result.records] == [
        ("CNAME", "mail.mkdev.me", TARGET, True),
        ("TXT", "_cf-custom-hostname.mail.mkdev.me", item["ownership_verification"]["value"], False)]
    assert result.complete and not result.apex


def test_instructions_say_what_is_not_there_yet():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="initializing", method="txt", ownership=False)
    result = instructions_for("mail.mkdev.me", "mkdev", TARGET, item)
    assert not result.complete
    assert result.not_yet == [
        "the ownership TXT record: Cloudflare has not published it yet",
        "the certificate validation TXT record: Cloudflare publishes it a few minutes after the hostname is "
        "created; run this command again later"]
    missing = instructions_for("mail.mkdev.me", "mkdev", TARGET, None)
    assert [r.type for r in missing.records] == ["CNAME"] and "the hostname is not in Cloudflare" in missing.not_yet[0]
    assert "a TXT value sent before no longer counts" in missing.not_yet[0]  # never a token Cloudflare dropped


def test_instructions_for_an_apex_explain_flattening():
    assert is_apex("mkdev.me") and not is_apex("mail.mkdev.me")
    result = instructions_for("mkdev.me", "mkdev", TARGET, custom_hostname("mkdev.me"))
    assert result.records[0].type == "CNAME (flattened) / ALIAS"
    assert result.notes[0].startswith("mkdev.me is an apex domain, which cannot hold a CNAME record: use your DNS "
                                      "provider's CNAME flattening or an ALIAS/ANAME record")


def test_instructions_list_certificate_records_and_the_caa_fix():
    records = [{"txt_name": "_acme-challenge.mail.mkdev.me", "txt_value": "tok"},
               {"http_url": "http://mail.mkdev.me/.well-known/acme-challenge/x", "http_body": "body"}]
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation", method="txt",
                           validation_records=records, validation_errors=["CAA record prevents issuance"],
                           ssl_certificate_authority="lets_encrypt")
    result = instructions_for("mail.mkdev.me", "mkdev", TARGET, item)
    certificate = [r for r in result.records if r.name.startswith("_acme")]
    assert [(r.type, r.value, r.required) for r in certificate] == [("TXT", "tok", True)]
    assert not any(r.type == "HTTP" for r in result.records)  # HTTP tokens only for the http method
    assert "add CAA issue records for letsencrypt.org" in result.notes[-1]


def test_without_a_method_from_cloudflare_the_declared_one_decides_what_is_required():
    item = custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation",
                           validation_records=[{"txt_name": "_acme-challenge.mail.mkdev.me", "txt_value": "tok"}])
    del item["ssl"]["method"]  # optional in Cloudflare's spec
    as_txt = instructions_for("mail.mkdev.me", "mkdev", TARGET, item, declared_method="txt")
    assert [r.required for r in as_txt.records if r.type == "TXT" and r.name.startswith("_acme")] == [True]
    assert not any("validated over HTTP" in note for note in as_txt.notes)
    as_http = instructions_for("mail.mkdev.me", "mkdev", TARGET, item)
    assert any("validated over HTTP" in note for note in as_http.notes)


# -- the status report --------------------------------------------------------------------------------

FALLBACK = "proxy-fallback.mailito.com"


@pytest.mark.parametrize(("origin", "level", "next_step"), [
    (None, PROBLEM, f"no fallback origin: run `pulumi up` (it sets {FALLBACK})"),
    ({"origin": FALLBACK, "status": "active"}, LIVE, "active"),
    ({"origin": FALLBACK, "status": "pending_deployment"}, WAITING, "being deployed by Cloudflare (minutes)"),
    ({"origin": FALLBACK}, PROBLEM, f"no status reported: check that {FALLBACK} is a proxied DNS record in the zone"),
    ({"origin": "old.mailito.com", "status": "active"}, PROBLEM,
     f"the fallback origin is old.mailito.com, the stack sets {FALLBACK}: run `pulumi up`"),
])
def test_the_fallback_origin_is_assessed_against_the_stack(origin, level, next_step):
    assessed = assess_fallback_origin(origin, FALLBACK)
    assert (assessed["level"], assessed["next_step"]) == (level, next_step)
    assert assessed["expected"] == FALLBACK


def test_an_api_hostname_is_compared_in_the_files_canonical_form():
    assert api_hostname({"hostname": "Mail.MKDEV.me."}) == "mail.mkdev.me"
    assert api_hostname({"hostname": "not a hostname."}) == "not a hostname"
    assert api_hostname({}) == ""


def test_the_status_report_shows_drift_both_ways_and_needs_attention_for_it():
    settings = settings_from_stack_config(read_stack_file(PROJECT_ROOT, "dev"))
    customers = parse_customers((EXAMPLE_CUSTOMERS).read_bytes(), settings.validation_rules())
    declared = [h for h in customers.hostnames if h.customer_id == "acme"]
    live = [custom_hostname("MAIL.acme-corp.com", created_at=RECENT), custom_hostname("stray.example.com")]
    fallback = {"origin": FALLBACK, "status": "active"}

    report = status_report("dev", settings, customers, declared, live, fallback, now=NOW)
    assert [row["hostname"] for row in report["hostnames"]] == ["mail.acme-corp.com"]
    assert report["hostnames"][0]["age"] == "1h 30m" and report["hostnames"][0]["level"] == LIVE
    assert [m["hostname"] for m in report["missing_in_cloudflare"]] == ["newsletter.acme-corp.com"]
    assert [e["hostname"] for e in report["not_in_customers_file"]] == ["stray.example.com"]
    assert report["summary"] == {"declared": 2, "live": 1, "waiting": 0, "problem": 0, "missing_in_cloudflare": 1,
                                 "not_in_customers_file": 1, "in_cloudflare": 2}
    assert report["attention"] is True

    scoped = status_report("dev", settings, customers, declared, live[:1] + [custom_hostname(
        "newsletter.acme-corp.com")], fallback, customer="acme", now=NOW)
    assert scoped["not_in_customers_file"] == [] and scoped["attention"] is False
    assert status_report("dev", settings, customers, [], [], None, now=NOW)["attention"] is True


def test_live_instructions_ask_for_each_hostname_and_match_it_in_canonical_form():
    settings = settings_from_stack_config(read_stack_file(PROJECT_ROOT, "dev"))
    customers = parse_customers((EXAMPLE_CUSTOMERS).read_bytes(), settings.validation_rules())
    entries = [h for h in customers.hostnames if h.customer_id == "acme"]

    class Api:
        asked: list[tuple[str, str]] = []

        def custom_hostnames(self, zone_id: str, *, hostname: str) -> list[dict]:
            self.asked.append((zone_id, hostname))
            return [custom_hostname("MAIL.acme-corp.com.")] if hostname == "mail.acme-corp.com" else []

    api = Api()
    results = live_instructions(api, "zone-1", entries, settings)
    assert api.asked == [("zone-1", "mail.acme-corp.com"), ("zone-1", "newsletter.acme-corp.com")]
    assert [(r.hostname, r.customer, r.cname_target, r.complete) for r in results] == [
        ("mail.acme-corp.com", "acme", "acme.cname.mailito.com", True),
        ("newsletter.acme-corp.com", "acme", "acme.cname.mailito.com", False)]
