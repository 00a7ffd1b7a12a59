"""Hostnames Cloudflare deletes on its own: pending or moved for 7 days (its validation backoff), then gone.

Against the emulator, which does the same: `status` names what is missing, why it may be, and the exact
`pulumi refresh --target ...` that drops it from the stack's state (an `up` without refresh would change
nothing: the provider removes a hostname from state only when a refresh reads a 404), and `instructions`
never hands out the ownership TXT value of the hostname Cloudflare deleted.
"""

from __future__ import annotations

import json

import pytest

from infra.model.names import custom_hostname_urn
from tests.cli.helpers import run_cli
from tests.emulator import cloudflare as emulated

pytest_plugins = ["tests.emulator.fixtures", "tests.fakes.ops_fixtures"]

SEVEN_DAYS = 7 * 24 * 3600


@pytest.fixture
def emulated_project(project, cloudflare_emulator):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace('saas-domains:zoneId: ""',
                                                         f"saas-domains:zoneId: {emulated.ZONE_ID}"))
    cloudflare_emulator.seed({"custom_hostnames": [
        {"hostname": name, "ssl": {"method": "http", "type": "dv"}, "status": "active", "ssl_status": "active"}
        for name in ("mail.acme-corp.com", "newsletter.acme-corp.com", "post.globex.io")]})
    cloudflare_emulator.seed({"custom_hostnames": [{"hostname": "mail.mkdev.me", "ssl": {"method": "http"}}]})
    return project


def test_a_hostname_left_pending_for_seven_days_is_reported_with_how_to_create_it_again(
        emulated_project, cloudflare_emulator, capsys):
    before = json.loads(run_cli(capsys, "instructions", "mkdev", "--format", "json").out)
    token = next(r["value"] for r in before["hostnames"][0]["records"] if r["type"] == "TXT")
    cloudflare_emulator.advance(SEVEN_DAYS + 60)  # the customer never added the CNAME

    status = run_cli(capsys, "status", "--json")
    report = json.loads(status.out)
    assert [m["hostname"] for m in report["missing_in_cloudflare"]] == ["mail.mkdev.me"]
    assert "deleted by Cloudflare after 7 days pending or moved" in report["missing_in_cloudflare"][0]["next_step"]
    assert report["recreate_missing"][0] == (
        f"pulumi refresh --stack dev --yes --target '{custom_hostname_urn('dev', 'mail.mkdev.me')}'")
    text = run_cli(capsys, "status").out
    assert "To create them again:" in text and "pulumi refresh --stack dev --yes --target" in text

    after = run_cli(capsys, "instructions", "mkdev", "--format", "json")
    assert token not in after.out + after.err  # the TXT value of the deleted hostname is never sent again
    [item] = json.loads(after.out)["hostnames"]
    assert [r["type"] for r in item["records"]] == ["CNAME"]
    assert "deleted by Cloudflare after 7 days pending or moved" in item["not_yet_available"][0]
