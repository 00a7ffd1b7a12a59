"""The Cloudflare emulator behaves as Cloudflare documents it, through the Prism proxy that holds it to the spec.

Calls go the way the provider and the commands make them: the official `cloudflare` SDK, and raw
httpx where the SDK hides something (headers, a body the SDK would not build). Assertions are on the
emulator's state and request log. Every test also ends with the fixture's check that Prism and the
emulator reported no request or answer outside the spec; tests that provoke one take it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import cloudflare
import httpx
import pytest

from infra.clients.cloudflare import CloudflareApi
from infra.components.fallback_origin_waiter import wait_until_released
from tests.cli.helpers import run_cli
from tests.emulator.cloudflare import ACCOUNT_ID, PROVIDER_V4_DUPLICATE_RULESET, TOKEN, ZONE_ID, Exchange
from tests.emulator.remote import emulator_process
from tests.emulator.server import CloudflareEmulator, SpecViolations, assert_no_violations
from tests.fakes.loopback import json_handler, loopback_server

pytest_plugins = ["tests.emulator.fixtures", "tests.fakes.ops_fixtures", "pytester"]

HOSTNAME = "shop.acme-customer.com"
FALLBACK = "proxy-fallback.mailito.com"
SSL = {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2", "http2": "on"}}
HOSTNAMES = f"/zones/{ZONE_ID}/custom_hostnames"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RULE = {"action": "rewrite", "expression": 'http.host eq "shop.acme-customer.com"', "description": "auth header",
        "enabled": True, "action_parameters": {"headers": {"X-Origin-Auth": {"operation": "set", "value": "s3cret"}}}}


def create(client: cloudflare.Cloudflare, hostname: str = HOSTNAME, **fields):
    return client.custom_hostnames.create(zone_id=ZONE_ID, hostname=hostname, ssl=fields.pop("ssl", SSL), **fields)


def messages(err: cloudflare.APIStatusError) -> list[tuple[int, str]]:
    return [(e["code"], e["message"]) for e in err.body["errors"]]


# -- custom hostnames -------------------------------------------------------------------------------------


def test_a_created_hostname_has_cloudflare_s_ownership_records_status_and_ssl_defaults(cloudflare_emulator,
                                                                                        cloudflare_client):
    made = create(cloudflare_client, custom_metadata={"customer": "acme"})
    held = cloudflare_emulator.hostname(HOSTNAME)
    assert held["id"] == made.id and re.fullmatch(r"[0-9a-f]{32}", made.id)  # the spec: at most 32 characters
    assert held["status"] == "pending" and held["ssl"]["status"] == "initializing"
    verification = held["ownership_verification"]
    assert verification["type"] == "txt" and verification["name"] == f"_cf-custom-hostname.{HOSTNAME}"
    assert uuid.UUID(verification["value"]).version == 4
    assert held["ownership_verification_http"] == {
        "http_url": f"http://{HOSTNAME}/.well-known/cf-custom-hostname-challenge/{made.id}",
        "http_body": verification["value"]}
    assert held["ssl"]["method"] == "http" and held["ssl"]["settings"] == SSL["settings"]
    assert held["ssl"]["bundle_method"] == "ubiquitous"  # the spec's default for an omitted field
    assert "certificate_authority" not in held["ssl"] and held["created_at"].endswith("Z")
    read = cloudflare_client.custom_hostnames.get(made.id, zone_id=ZONE_ID).ssl  # read: validation begins
    assert read.status == "pending_validation" and read.validation_records[0].http_url.startswith(
        f"http://{HOSTNAME}/.well-known/pki-validation/")
    other = create(cloudflare_client, "www.acme-customer.com", ssl={"method": "txt", "type": "dv"})
    [txt] = cloudflare_client.custom_hostnames.get(other.id, zone_id=ZONE_ID).ssl.validation_records
    assert txt.txt_name == "_acme-challenge.www.acme-customer.com" and txt.txt_value
    assert other.ownership_verification.value != verification["value"]  # a fresh token per hostname
    post = cloudflare_emulator.calls("POST", "custom_hostnames")[0]
    assert post.body == {"hostname": HOSTNAME, "ssl": SSL, "custom_metadata": {"customer": "acme"}}
    assert post.status == 200 and post.token == TOKEN and post.response["result"]["id"] == made.id


def test_a_patch_changes_only_the_fields_it_carries(cloudflare_emulator, cloudflare_client):
    made = create(cloudflare_client, custom_metadata={"customer": "acme"}, custom_origin_server="origin.mailito.com")
    before = cloudflare_emulator.hostname(HOSTNAME)
    cloudflare_client.custom_hostnames.edit(made.id, zone_id=ZONE_ID, custom_metadata={"customer": "acme-2"})
    after = cloudflare_emulator.hostname(HOSTNAME)
    assert after["custom_metadata"] == {"customer": "acme-2"}
    assert {k: v for k, v in after.items() if k != "custom_metadata"} == {
        k: v for k, v in before.items() if k != "custom_metadata"}
    cloudflare_client.custom_hostnames.edit(made.id, zone_id=ZONE_ID, ssl={"method": "txt", "type": "dv"})
    ssl = cloudflare_emulator.hostname(HOSTNAME)["ssl"]
    assert ssl["method"] == "txt" and ssl["settings"] == SSL["settings"]  # settings not carried: kept
    assert ssl["status"] == "pending_validation"  # a PATCH with ssl restarts validation
    assert cloudflare_emulator.hostname(HOSTNAME)["custom_origin_server"] == "origin.mailito.com"
    patches = cloudflare_emulator.calls("PATCH")
    assert [p.body for p in patches] == [{"custom_metadata": {"customer": "acme-2"}},
                                         {"ssl": {"method": "txt", "type": "dv"}}]


def test_origin_and_metadata_are_cleared_only_by_an_empty_value_never_by_leaving_them_out(cloudflare_emulator,
                                                                                         cloudflare_client):
    made = create(cloudflare_client, custom_metadata={"customer": "acme"}, custom_origin_server="origin.mailito.com",
                  custom_origin_sni="sni.mailito.com")
    cloudflare_client.custom_hostnames.edit(made.id, zone_id=ZONE_ID, ssl=SSL)  # neither carried: both kept
    held = cloudflare_emulator.hostname(HOSTNAME)
    assert held["custom_origin_server"] == "origin.mailito.com" and held["custom_metadata"] == {"customer": "acme"}
    cloudflare_client.custom_hostnames.edit(made.id, zone_id=ZONE_ID, custom_origin_server="", custom_metadata={})
    held = cloudflare_emulator.hostname(HOSTNAME)
    assert "custom_origin_server" not in held and "custom_metadata" not in held
    assert held["custom_origin_sni"] == "sni.mailito.com"
    got = cloudflare_client.custom_hostnames.get(made.id, zone_id=ZONE_ID)
    assert got.custom_origin_server is None and got.custom_metadata is None


def test_null_is_not_a_way_to_clear_a_field_the_spec_refuses_it_and_so_does_the_emulator(cloudflare_emulator,
                                                                                        cloudflare_client):
    made = create(cloudflare_client, custom_origin_server="origin.mailito.com")
    answer = httpx.patch(f"{cloudflare_emulator.base_url}{HOSTNAMES}/{made.id}", headers=AUTH,
                         json={"custom_origin_server": None})
    assert answer.status_code == 400 and answer.json()["success"] is False
    assert cloudflare_emulator.hostname(HOSTNAME)["custom_origin_server"] == "origin.mailito.com"
    found = cloudflare_emulator.take_violations()
    assert any("custom_origin_server" in v and "null" in v for v in found), found


def test_a_duplicate_hostname_is_cloudflare_s_1406_and_nothing_is_added(cloudflare_emulator, cloudflare_client):
    create(cloudflare_client)
    with pytest.raises(cloudflare.ConflictError) as caught:
        create(cloudflare_client, HOSTNAME.upper())
    assert messages(caught.value) == [(1406, "Duplicate custom hostname found.")]
    assert len(cloudflare_emulator.hostnames()) == 1


def test_cloudflare_s_hostname_rules_refuse_reserved_names(cloudflare_emulator, cloudflare_client):
    for name, code in (("shop.example.com", 1411), ("shop.test", 1409), ("192.0.2.1", 1407), ("a b.com", 1407)):
        with pytest.raises(cloudflare.BadRequestError) as caught:
            create(cloudflare_client, name)
        assert messages(caught.value)[0][0] == code
    assert cloudflare_emulator.hostnames() == []


def test_unknown_ids_are_404_in_cloudflare_s_envelope(cloudflare_emulator, cloudflare_client):
    for call in (lambda: cloudflare_client.custom_hostnames.get("0" * 32, zone_id=ZONE_ID),
                 lambda: cloudflare_client.dns.records.get("0" * 32, zone_id=ZONE_ID),
                 lambda: cloudflare_client.rulesets.get("0" * 32, zone_id=ZONE_ID),
                 lambda: cloudflare_client.zones.get(zone_id="f" * 32)):
        with pytest.raises(cloudflare.NotFoundError) as caught:
            call()
        body = caught.value.body
        assert body["success"] is False and body["messages"] == [] and body["result"] is None
        assert isinstance(body["errors"][0]["code"], int) and body["errors"][0]["message"]


def test_the_listing_pages_and_filters_by_hostname(cloudflare_emulator, cloudflare_client):
    names = [f"shop{i}.acme-customer.com" for i in range(7)]
    for name in names:
        create(cloudflare_client, name)
    first = cloudflare_client.custom_hostnames.list(zone_id=ZONE_ID, per_page=5)
    assert len(first.result) == 5 and first.result_info.total_count == 7 and first.result_info.total_pages == 2
    second = first.get_next_page()
    assert [h.hostname for h in first.result + second.result] == names
    exact = cloudflare_client.custom_hostnames.list(zone_id=ZONE_ID, hostname={"exact": names[3]})
    assert [h.hostname for h in exact.result] == [names[3]]
    api = CloudflareApi.from_environment()  # the commands' own client reads the same
    assert [h["hostname"] for h in api.custom_hostnames(ZONE_ID)] == names
    assert [h["hostname"] for h in api.custom_hostnames(ZONE_ID, hostname=names[6])] == [names[6]]


def test_hostnames_left_pending_or_moved_for_seven_days_disappear(cloudflare_emulator, cloudflare_client):
    cloudflare_emulator.seed({"custom_hostnames": [
        {"hostname": "old.acme-customer.com", "ssl": SSL, "status": "pending"},
        {"hostname": "moved.acme-customer.com", "ssl": SSL, "status": "moved"},
        {"hostname": "live.acme-customer.com", "ssl": SSL, "status": "active", "ssl_status": "active"}]})
    cloudflare_emulator.advance(7 * 24 * 3600 - 60)
    assert len(cloudflare_client.custom_hostnames.list(zone_id=ZONE_ID).result) == 3
    cloudflare_emulator.advance(120)
    listed = cloudflare_client.custom_hostnames.list(zone_id=ZONE_ID).result
    assert [h.hostname for h in listed] == ["live.acme-customer.com"]
    live = cloudflare_emulator.hostname("live.acme-customer.com")
    cloudflare_emulator.emulator.expire_hostname(ZONE_ID, live["id"])  # or at will
    assert cloudflare_emulator.hostnames() == []


# -- the fallback origin and its record -------------------------------------------------------------------


def test_fallback_origin_deletion_is_asynchronous_and_its_record_is_1039_meanwhile(cloudflare_emulator,
                                                                                    cloudflare_client):
    cloudflare_emulator.configure(fallback_deletion_gets=2)
    record = cloudflare_client.dns.records.create(zone_id=ZONE_ID, name=FALLBACK, type="CNAME", ttl=1,
                                                  content="alb-123.eu-west-1.elb.amazonaws.com", proxied=True)
    put = cloudflare_client.custom_hostnames.fallback_origin.update(zone_id=ZONE_ID, origin=FALLBACK)
    assert (put.origin, put.status, put.errors) == (FALLBACK, "pending_deployment", [])  # active once deployed
    assert cloudflare_client.custom_hostnames.fallback_origin.get(zone_id=ZONE_ID).status == "active"
    deleted = cloudflare_client.custom_hostnames.fallback_origin.delete(zone_id=ZONE_ID)
    assert deleted.status == "pending_deletion"
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cloudflare_client.dns.records.delete(record.id, zone_id=ZONE_ID)
    assert messages(caught.value)[0][0] == 1039
    assert [r["name"] for r in cloudflare_emulator.records()] == [FALLBACK]  # refused: still there
    statuses = [cloudflare_client.custom_hostnames.fallback_origin.get(zone_id=ZONE_ID).status for _ in range(2)]
    assert statuses == ["pending_deletion", "pending_deletion"]
    with pytest.raises(cloudflare.NotFoundError):
        cloudflare_client.custom_hostnames.fallback_origin.get(zone_id=ZONE_ID)
    cloudflare_client.dns.records.delete(record.id, zone_id=ZONE_ID)
    assert cloudflare_emulator.records() == [] and cloudflare_emulator.fallback_origin() is None


def test_a_fallback_origin_without_a_proxied_record_stays_pending_with_cloudflare_s_error(cloudflare_emulator,
                                                                                          cloudflare_client):
    cloudflare_client.custom_hostnames.fallback_origin.update(zone_id=ZONE_ID, origin=FALLBACK)
    got = cloudflare_client.custom_hostnames.fallback_origin.get(zone_id=ZONE_ID)
    assert got.status == "pending_deployment" and "proxied A/AAAA/CNAME" in got.errors[0]


def test_the_fallback_origin_waiter_returns_once_the_emulator_says_404(cloudflare_emulator):
    cloudflare_emulator.configure(fallback_deletion_gets=3, fallback_deletion_seconds=0.2)
    cloudflare_emulator.seed({"fallback_origin": {"origin": FALLBACK, "status": "active"}})
    api = CloudflareApi.from_environment()
    api.client.custom_hostnames.fallback_origin.delete(zone_id=ZONE_ID)
    logged = []
    assert wait_until_released(api, ZONE_ID, FALLBACK, deadline=30, interval=0.05, log=logged.append) == "gone"
    gets = cloudflare_emulator.calls("GET", "fallback_origin")
    assert [g.status for g in gets][-1] == 404 and len(gets) >= 4


# -- DNS records ------------------------------------------------------------------------------------------


def test_dns_put_replaces_the_record_patch_merges_and_names_conflict_as_cloudflare_says(cloudflare_emulator,
                                                                                       cloudflare_client):
    record = cloudflare_client.dns.records.create(zone_id=ZONE_ID, name="app", type="A", content="192.0.2.10",
                                                  ttl=300, proxied=False, comment="first")
    held = cloudflare_emulator.records()[0]
    assert held["name"] == "app.mailito.com" and held["ttl"] == 300 and held["comment"] == "first"
    cloudflare_client.dns.records.edit(record.id, zone_id=ZONE_ID, name="app.mailito.com", type="A", ttl=600)
    held = cloudflare_emulator.records()[0]
    assert (held["ttl"], held["content"], held["comment"]) == (600, "192.0.2.10", "first")
    cloudflare_client.dns.records.update(record.id, zone_id=ZONE_ID, name="app.mailito.com", type="A",
                                         content="192.0.2.11", ttl=1, proxied=True)
    held = cloudflare_emulator.records()[0]
    assert (held["content"], held["proxied"], held["comment"]) == ("192.0.2.11", True, None)  # PUT: comment gone
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cloudflare_client.dns.records.create(zone_id=ZONE_ID, name="app.mailito.com", type="CNAME",
                                             content="elsewhere.mailito.com", ttl=1)
    assert messages(caught.value)[0][0] == 81053
    found = cloudflare_client.dns.records.list(zone_id=ZONE_ID, name={"exact": "app.mailito.com"}, type="A")
    assert [r.id for r in found.result] == [record.id]
    assert cloudflare_client.dns.records.list(zone_id=ZONE_ID, type="CNAME").result == []
    assert [r["id"] for r in CloudflareApi.from_environment().dns_records(ZONE_ID, "app.mailito.com", "A")] == [
        record.id]


def test_prism_s_reports_on_records_are_tolerated_only_when_the_record_passes_the_in_process_check(
        cloudflare_emulator, cloudflare_client):
    record = cloudflare_client.dns.records.create(zone_id=ZONE_ID, name="app", type="A", content="192.0.2.10", ttl=1)
    [post] = cloudflare_emulator.calls("POST")
    assert {t["location"][-1] for t in post.tolerated} >= {"comment"}  # null, as Cloudflare answers it
    path = f"/zones/{ZONE_ID}/dns_records/{record.id}"
    report = {"location": ["response", "body", "result"], "severity": "Error", "message": "required 'data'"}
    good = Exchange("x", 0, "GET", path, {}, None, TOKEN, status=200, response=post.response)
    assert cloudflare_emulator.hops.tolerated("GET", path, report, good) is not None
    broken = json.loads(json.dumps(post.response))
    broken["result"]["ttl"] = "automatic"  # a real defect: not excused
    bad = Exchange("y", 0, "GET", path, {}, None, TOKEN, status=200, response=broken)
    assert cloudflare_emulator.hops.tolerated("GET", path, report, bad) is None


def test_the_operations_commands_read_the_emulator_within_the_spec(cloudflare_emulator, project, capsys):
    http = {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}}
    cloudflare_emulator.seed({
        "dns_records": [{"name": FALLBACK, "type": "CNAME", "content": "alb.eu-west-1.elb.amazonaws.com",
                         "proxied": True, "ttl": 1}],
        "fallback_origin": {"origin": FALLBACK, "status": "active"},
        "custom_hostnames": [
            {"hostname": "mail.mkdev.me", "ssl": http, "status": "active", "ssl_status": "active"},
            {"hostname": "mail.acme-corp.com", "ssl": http, "status": "pending"},
            {"hostname": "shop.not-in-the-file.io", "ssl": http, "status": "active"}]})
    status = run_cli(capsys, "status", "--json")
    report = json.loads(status.out)
    assert status.code in (0, 1) and report["summary"]["declared"] == 4 and report["summary"]["in_cloudflare"] == 3
    assert [h["hostname"] for h in report["not_in_customers_file"]] == ["shop.not-in-the-file.io"]
    instructions = run_cli(capsys, "instructions", "acme", "--format", "json")
    assert instructions.code in (0, 1), instructions.err
    assert {r["hostname"] for r in json.loads(instructions.out)["hostnames"]} == {"mail.acme-corp.com",
                                                                                   "newsletter.acme-corp.com"}
    paths = {e.path for e in cloudflare_emulator.requests}
    assert "/zones" in paths and f"{HOSTNAMES}/fallback_origin" in paths
    assert all(e.method == "GET" for e in cloudflare_emulator.requests)  # the commands only read


# -- rulesets ---------------------------------------------------------------------------------------------


def test_a_second_zone_entrypoint_for_a_phase_is_refused_as_cloudflare_does(cloudflare_emulator, cloudflare_client):
    cloudflare_emulator.seed({"rulesets": [{  # made in the dashboard, with rules
        "name": "default", "kind": "zone", "phase": "http_request_late_transform", "description": "",
        "rules": [{"action": "rewrite", "expression": "true", "enabled": True,
                   "action_parameters": {"headers": {"X-Dashboard": {"operation": "set", "value": "1"}}}}]}]})
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cloudflare_client.rulesets.create(zone_id=ZONE_ID, kind="zone", phase="http_request_late_transform",
                                          name="saas-domains origin authentication", rules=[RULE])
    assert messages(caught.value) == [(20217, "'zone' is not a valid value for kind because exceeded maximum "
                                              "number of zone rulesets for phase http_request_late_transform")]
    assert caught.value.body["errors"][0]["source"] == {"pointer": "/kind"}
    assert "A similar configuration with rules already exists" in PROVIDER_V4_DUPLICATE_RULESET  # not the API's
    [dashboard] = cloudflare_emulator.rulesets()
    assert dashboard["name"] == "default" and len(dashboard["rules"]) == 1  # untouched
    entry = cloudflare_client.rulesets.phases.get("http_request_late_transform", zone_id=ZONE_ID)
    assert entry.id == dashboard["id"]
    cloudflare_client.rulesets.create(zone_id=ZONE_ID, kind="custom", phase="http_request_firewall_custom",
                                      name="a custom ruleset", rules=[{"action": "block", "expression": "true"}])
    assert len(cloudflare_emulator.rulesets()) == 2


def test_a_ruleset_is_created_updated_versioned_and_deleted(cloudflare_emulator, cloudflare_client):
    made = httpx.post(f"{cloudflare_emulator.base_url}/zones/{ZONE_ID}/rulesets", headers=AUTH, json={
        "kind": "zone", "phase": "http_request_late_transform", "name": "saas-domains", "rules": [RULE]}).json()
    ruleset = made["result"]
    assert ruleset["version"] == "1" and ruleset["rules"][0]["ref"] == ruleset["rules"][0]["id"]
    updated = httpx.put(f"{cloudflare_emulator.base_url}/zones/{ZONE_ID}/rulesets/{ruleset['id']}", headers=AUTH,
                        json={"kind": "zone", "phase": "http_request_late_transform", "name": "saas-domains",
                              "rules": [{**RULE, "id": ruleset["rules"][0]["id"], "description": "changed"}]})
    assert updated.json()["result"]["version"] == "2"
    assert cloudflare_emulator.rulesets()[0]["rules"][0]["description"] == "changed"
    listed = cloudflare_client.rulesets.list(zone_id=ZONE_ID)
    assert [r.id for r in listed.result] == [ruleset["id"]]
    cloudflare_client.rulesets.delete(ruleset["id"], zone_id=ZONE_ID)
    assert cloudflare_emulator.calls("DELETE")[-1].status == 204 and cloudflare_emulator.rulesets() == []
    tolerated = {t["reason"] for e in cloudflare_emulator.requests for t in e.tolerated}
    assert tolerated == {"Prism requires the readOnly version and last_updated of each rule; the emulator's check "
                         "passed"}  # Prism's known false report on rules, judged again in process


# -- the rest the provider calls ----------------------------------------------------------------------------


def test_zone_lookup_ssl_mode_origin_pulls_and_ip_ranges(cloudflare_emulator, cloudflare_client):
    zones = cloudflare_client.zones.list(name="mailito.com", match="all")  # what get_zone(filter=...) sends
    assert [z.id for z in zones.result] == [ZONE_ID]
    assert cloudflare_client.zones.list(name="other.com").result == []
    cloudflare_client.zones.settings.edit(setting_id="ssl", zone_id=ZONE_ID, value="full")
    assert cloudflare_emulator.state()["settings"][ZONE_ID]["ssl"]["value"] == "full"
    assert cloudflare_client.zones.settings.get(setting_id="ssl", zone_id=ZONE_ID).value == "full"
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    made = cloudflare_client.origin_tls_client_auth.zone_certificates.create(
        zone_id=ZONE_ID, certificate=pem, private_key=key)
    assert made.status == "active" and cloudflare_emulator.state()["aop_certificates"][ZONE_ID][made.id]
    cloudflare_client.origin_tls_client_auth.settings.update(zone_id=ZONE_ID, enabled=True)
    assert cloudflare_emulator.state()["aop_settings"][ZONE_ID] == {"enabled": True}
    cloudflare_client.origin_tls_client_auth.zone_certificates.delete(made.id, zone_id=ZONE_ID)
    assert cloudflare_emulator.state()["aop_certificates"][ZONE_ID] == {}
    ranges = cloudflare_client.ips.list()
    assert "173.245.48.0/20" in ranges.ipv4_cidrs and "2606:4700::/32" in ranges.ipv6_cidrs


def test_a_webhook_gets_cloudflare_s_test_message_and_a_policy_must_name_existing_webhooks(cloudflare_emulator,
                                                                                           cloudflare_client):
    received = []

    def respond(method, path, headers, raw):
        received.append((method, path, headers, json.loads(raw)))
        return (500 if path == "/broken" else 200), {}, {"ok": True}

    with loopback_server(json_handler(respond)) as url:
        hook = cloudflare_client.alerting.destinations.webhooks.create(
            account_id=ACCOUNT_ID, name="saas-domains alerts", url=f"{url}/hook", secret="shared-secret")
        [(method, path, headers, body)] = received
        assert (method, path, headers["cf-webhook-auth"], body["name"]) == ("POST", "/hook", "shared-secret",
                                                                            "saas-domains alerts")
        assert "test message" in body["text"]
        cloudflare_client.alerting.destinations.webhooks.update(hook.id, account_id=ACCOUNT_ID, name="renamed",
                                                                url=f"{url}/hook2")
        assert [r[1] for r in received] == ["/hook", "/hook2"]  # a change is tested again
        with pytest.raises(cloudflare.BadRequestError):
            cloudflare_client.alerting.destinations.webhooks.create(account_id=ACCOUNT_ID, name="x",
                                                                    url=f"{url}/broken")
    assert [d["status"] for d in cloudflare_emulator.deliveries()] == [200, 200, 500]
    assert list(cloudflare_emulator.state()["webhooks"][ACCOUNT_ID]) == [hook.id]
    read = cloudflare_client.alerting.destinations.webhooks.get(hook.id, account_id=ACCOUNT_ID)
    assert read.name == "renamed" and read.url == f"{url}/hook2"
    policy = cloudflare_client.alerting.policies.create(
        account_id=ACCOUNT_ID, name="certs", alert_type="universal_ssl_event_type", enabled=True,
        mechanisms={"webhooks": [{"id": hook.id}], "email": [{"id": "ops@mailito.com"}]})
    assert cloudflare_emulator.state()["notification_policies"][ACCOUNT_ID][policy.id]["mechanisms"]["webhooks"] == [
        {"id": hook.id}]
    with pytest.raises(cloudflare.BadRequestError):
        cloudflare_client.alerting.policies.create(account_id=ACCOUNT_ID, name="x", enabled=True,
                                                   alert_type="universal_ssl_event_type",
                                                   mechanisms={"webhooks": [{"id": "0" * 32}]})


# -- tokens, rate limits, faults --------------------------------------------------------------------------


def test_the_rate_limit_answers_429_with_retry_after_per_token(cloudflare_emulator):
    cloudflare_emulator.configure(tokens=[TOKEN, "second-token-abcdefghijklmnopqrstuvwxyz"])
    cloudflare_emulator.rate_limit(5, 60)
    url = f"{cloudflare_emulator.base_url}{HOSTNAMES}"
    statuses = [httpx.get(url, headers=AUTH).status_code for _ in range(5)]
    limited = httpx.get(url, headers=AUTH)
    assert statuses == [200] * 5 and limited.status_code == 429
    assert int(limited.headers["retry-after"]) == 60  # blocked for the rest of the window
    body = limited.json()
    assert body["success"] is False and body["result"] is None and body["errors"][0]["code"] == 10000
    other = httpx.get(url, headers={"Authorization": "Bearer second-token-abcdefghijklmnopqrstuvwxyz"})
    assert other.status_code == 200
    with pytest.raises(cloudflare.RateLimitError):
        cloudflare.Cloudflare(api_token=TOKEN, base_url=cloudflare_emulator.base_url, max_retries=0,
                              api_key=None).custom_hostnames.list(zone_id=ZONE_ID)


def test_requests_without_a_valid_token_are_refused_as_cloudflare_refuses_them(cloudflare_emulator):
    url = f"{cloudflare_emulator.base_url}{HOSTNAMES}"
    missing = httpx.get(url)
    assert missing.status_code == 400 and missing.json()["errors"] == [
        {"code": 9106, "message": "Missing X-Auth-Key, X-Auth-Email or Authorization headers"}]
    wrong = httpx.get(url, headers={"Authorization": "Bearer not-a-token-of-this-account"})
    assert wrong.status_code == 403 and wrong.json()["errors"][0]["code"] == 9109
    assert any("security" in v.lower() or "401" in v or "Invalid security" in v
               for v in cloudflare_emulator.take_violations())  # the spec requires credentials: Prism says so
    assert httpx.get(f"{cloudflare_emulator.base_url}/ips").status_code == 200  # none needed there


def test_a_create_that_committed_before_the_connection_dropped(cloudflare_emulator, cloudflare_client):
    cloudflare_emulator.add_fault("POST", "/zones/{zone_id}/custom_hostnames", "drop_after", nth=1)
    with pytest.raises(cloudflare.APIConnectionError):
        create(cloudflare_client)
    [held] = cloudflare_emulator.hostnames()  # it exists although the client saw an error
    assert held["hostname"] == HOSTNAME
    [post] = cloudflare_emulator.calls("POST")
    assert post.status == 200 and post.fault == "drop_after" and post.response["result"]["id"] == held["id"]
    with pytest.raises(cloudflare.ConflictError):  # what a blind retry meets
        create(cloudflare_client)


def test_a_connection_dropped_before_the_request_changes_nothing(cloudflare_emulator, cloudflare_client):
    cloudflare_emulator.add_fault("POST", "/zones/*/dns_records", "drop_before", nth=2)
    cloudflare_client.dns.records.create(zone_id=ZONE_ID, name="a", type="A", content="192.0.2.1", ttl=1)
    with pytest.raises(cloudflare.APIConnectionError):
        cloudflare_client.dns.records.create(zone_id=ZONE_ID, name="b", type="A", content="192.0.2.2", ttl=1)
    assert [r["name"] for r in cloudflare_emulator.records()] == ["a.mailito.com"]
    assert [(c.fault, c.served_by) for c in cloudflare_emulator.calls("POST")] == [(None, "emulator"),
                                                                                   ("drop_before", "nobody")]


def test_injected_server_errors_rate_limits_and_slow_answers_hit_the_nth_request(cloudflare_emulator,
                                                                                cloudflare_client):
    cloudflare_emulator.add_fault("GET", "/zones/{zone_id}/custom_hostnames", "status", nth=2, status=503)
    cloudflare_emulator.add_fault("GET", "/zones/{zone_id}/custom_hostnames", "status", nth=3, status=429,
                                  retry_after=7)
    list_them = lambda: cloudflare_client.custom_hostnames.list(zone_id=ZONE_ID)  # noqa: E731
    list_them()
    with pytest.raises(cloudflare.InternalServerError) as server_error:
        list_them()
    assert server_error.value.status_code == 503 and server_error.value.body["success"] is False
    with pytest.raises(cloudflare.RateLimitError) as limited:
        list_them()
    assert limited.value.response.headers["retry-after"] == "7"
    list_them()
    cloudflare_emulator.add_fault("POST", "/zones/{zone_id}/custom_hostnames", "delay", delay=1.0)
    slow = cloudflare.Cloudflare(api_token=TOKEN, base_url=cloudflare_emulator.base_url, max_retries=0, timeout=0.3)
    with pytest.raises(cloudflare.APITimeoutError):
        create(slow)
    assert [c.status for c in cloudflare_emulator.calls("GET")] == [200, 503, 429, 200]


# -- the spec holds every request and answer ----------------------------------------------------------


def test_an_unknown_field_or_a_wrong_type_is_a_violation_and_fails_the_collector(cloudflare_emulator):
    url = f"{cloudflare_emulator.base_url}{HOSTNAMES}"
    unknown = httpx.post(url, headers=AUTH, json={"hostname": HOSTNAME, "ssl": SSL, "colour": "blue"})
    assert unknown.status_code == 200  # Cloudflare ignores it; the spec does not declare it
    with pytest.raises(SpecViolations, match="'colour'"):
        assert_no_violations(cloudflare_emulator)
    cloudflare_emulator.take_violations()
    wrong = httpx.post(url, headers=AUTH, json={"hostname": 42, "ssl": SSL})
    assert wrong.status_code == 400 and len(cloudflare_emulator.hostnames()) == 1
    found = cloudflare_emulator.take_violations()
    assert any("request.body.hostname" in v and "must be string" in v for v in found), found  # Prism's words
    too_many = httpx.get(url, headers=AUTH, params={"per_page": 1001})  # the spec's maximum is 1000
    assert too_many.status_code == 400 and "per_page" in too_many.json()["errors"][0]["message"]
    assert any("per_page must be <= 1000" in v for v in cloudflare_emulator.take_violations())
    missing = httpx.get(f"{cloudflare_emulator.base_url}/zones/{ZONE_ID}/workers/routes", headers=AUTH)
    assert missing.status_code == 404
    assert any("no such operation" in v for v in cloudflare_emulator.take_violations())
    assert_no_violations(cloudflare_emulator)  # taken: nothing left


def test_the_fixture_fails_a_test_whose_requests_break_the_spec(pytester):
    pytester.makepyfile(test_inner=textwrap.dedent(f"""
        import httpx
        pytest_plugins = ["tests.emulator.fixtures"]

        def test_sends_a_wrong_type(cloudflare_emulator):
            httpx.post(cloudflare_emulator.base_url + "{HOSTNAMES}",
                       headers={{"Authorization": "Bearer {TOKEN}"}}, json={{"hostname": ["not", "a", "string"]}})

        def test_stays_within_the_spec(cloudflare_emulator):
            httpx.get(cloudflare_emulator.base_url + "{HOSTNAMES}", headers={{"Authorization": "Bearer {TOKEN}"}})
    """))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q",
                                          "-W", "ignore::pytest.PytestAssertRewriteWarning")
    result.assert_outcomes(passed=2, errors=1)  # the first passes its body, then fails at teardown
    result.stdout.fnmatch_lines(["*SpecViolations*break Cloudflare's OpenAPI spec*", "*request.body.hostname*"])


# -- admin endpoints and the emulator as a process ------------------------------------------------------------


def test_the_admin_endpoints_read_and_steer_the_emulator_over_http(cloudflare_emulator):
    admin = f"{cloudflare_emulator.base_url}/__emulator"
    seeded = httpx.post(f"{admin}/seed", json={"custom_hostnames": [{"hostname": HOSTNAME, "ssl": SSL}]}).json()
    assert [h["hostname"] for h in seeded["custom_hostnames"][ZONE_ID].values()] == [HOSTNAME]
    httpx.post(f"{admin}/faults", json={"method": "GET", "path": "/zones/*/custom_hostnames", "action": "status",
                                        "status": 502})
    assert httpx.get(f"{cloudflare_emulator.base_url}{HOSTNAMES}", headers=AUTH).status_code == 502
    log = httpx.get(f"{admin}/log").json()
    assert [(e["method"], e["status"], e["fault"]) for e in log] == [("GET", 502, "status")]
    assert httpx.get(f"{admin}/violations").json() == []
    assert httpx.get(f"{admin}/state").json()["zones"][ZONE_ID]["name"] == "mailito.com"


def test_the_emulator_runs_as_a_process_for_a_provider_in_another_process(tmp_path, cloudflare_emulator_session):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"custom_hostnames": [{"hostname": HOSTNAME, "ssl": SSL, "status": "active"}]}))
    with emulator_process(seed_file=seed, log=tmp_path / "prism") as remote:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=remote.base_url, max_retries=0)
        listed = client.custom_hostnames.list(zone_id=ZONE_ID)
        assert [h.hostname for h in listed.result] == [HOSTNAME] and listed.result[0].status == "active"
        remote.add_fault("POST", "/zones/{zone_id}/custom_hostnames", "drop_after")
        with pytest.raises(cloudflare.APIConnectionError):
            create(client, "www.acme-customer.com")
        names = sorted(h["hostname"] for h in remote.state()["custom_hostnames"][ZONE_ID].values())
        assert names == [HOSTNAME, "www.acme-customer.com"]
        assert [e["method"] for e in remote.requests()] == ["GET", "POST"] and remote.violations() == []


def test_the_emulator_without_prism_still_checks_bodies_in_process():
    with CloudflareEmulator(prism=False) as cf:
        answer = httpx.post(f"{cf.base_url}{HOSTNAMES}", headers=AUTH, json={"hostname": HOSTNAME, "extra": 1})
        assert answer.status_code == 200 and cf.prism_url is None
        assert any("'extra'" in v for v in cf.violations())


def test_the_process_prints_its_address_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator.server", "--no-prism"],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        reader = []
        thread = threading.Thread(target=lambda: reader.append(process.stdout.readline()), daemon=True)
        thread.start()
        thread.join(30)
        assert reader and reader[0].startswith("CLOUDFLARE_BASE_URL=http://127.0.0.1:")
        url = reader[0].split("=", 1)[1].strip()
        assert httpx.get(f"{url}/__emulator/state").status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
