"""`status`, `instructions`, `import` and `check` against a mock generated from Cloudflare's OpenAPI spec.

Each command runs in every scenario of conftest.SCENARIOS (Prism static and dynamic under several
seeds, answers as Prism gives them or thinned to what the spec requires). Whatever a valid answer
holds, a command must finish (bounded: a spinning one fails the test), exit 0 or 1 with its output,
or 2 with one clear sentence, never a traceback; Prism must report no request or answer violating
the spec; and the command must read no field the spec does not define where it reads it.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from tests.cli.helpers import Result, run_cli
from tests.contract.mock_api import MockApi
from tests.contract.spec import Reads
from tests.fakes.markdown import tables

# fixtures: project (a copy of the project), fresh_dns (the local DNS server); conftest.py: cli, reads
pytest_plugins = ["tests.fakes.ops_fixtures"]

COMMAND_TIMEOUT = 60.0  # seconds; a paging loop that follows the answers for ever fails here
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"  # any id the spec accepts (at most 32 characters)
OUR_SIDE = """
mailito.com. 300 IN SOA ns.mailito.com. dns.mailito.com. 1 3600 600 86400 300
mkdev.cname.mailito.com. 300 IN A 104.16.1.1
mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.
mkdev.me. 300 IN SOA ns.mkdev.me. dns.mkdev.me. 1 3600 600 86400 300
"""


def pin_zone_id(project: Path) -> None:
    stack = project / "Pulumi.dev.yaml"
    text = stack.read_text()
    assert 'saas-domains:zoneId: ""' in text, "the example stack no longer leaves zoneId empty"
    stack.write_text(text.replace('saas-domains:zoneId: ""', f"saas-domains:zoneId: {ZONE_ID}"))


def run(capsys: pytest.CaptureFixture, api: MockApi, reads: Reads, *argv: str, codes=(0, 1)) -> Result:
    """Run one command in-process with a deadline, then hold it to the contract."""
    before = len(api.exchanges)
    outcome: dict = {}

    def body() -> None:
        try:
            outcome["result"] = run_cli(capsys, *argv)
        except BaseException as err:  # noqa: BLE001  (re-raised below, in the test's thread)
            outcome["error"] = err

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(COMMAND_TIMEOUT)
    assert not worker.is_alive(), (f"`saas-domains {' '.join(argv)}` still running after {COMMAND_TIMEOUT:.0f} s "
                                   f"and {len(api.exchanges) - before} requests: it follows the answers for ever")
    if "error" in outcome:
        raise outcome["error"]  # a traceback is a defect: let pytest show it
    result = outcome["result"]
    assert "Traceback" not in result.err
    if "--json" not in argv and "json" not in argv:  # a field left out must not print as Python's None
        assert not re.search(r"\bNone\b(?! of\b)", result.out + result.err), result.out + result.err
    assert api.violations(before) == [], "Prism: requests or answers violating Cloudflare's spec"
    assert reads.undefined == set(), "fields read that the spec does not define there"
    assert len(api.exchanges) - before <= 60, "more requests than a bounded listing makes"
    if result.code == 2:
        command = argv[0]
        assert result.err.startswith(f"saas-domains {command}: ") and result.err.count("\n") <= 3, result.err
        assert 2 in codes, f"exit 2 where {codes} was expected: {result.err}"
    else:
        assert result.code in codes, (result.code, result.err)
    return result


@pytest.mark.parametrize("zone", ["pinned", "looked-up"])
def test_status_json(cli, project, reads, capsys, zone):
    if zone == "pinned":
        pin_zone_id(project)
    steered = cli.steering is not None and cli.scenario.steer
    result = run(capsys, cli, reads, "status", "--json",
                 codes=(0, 1) if zone == "pinned" else (0, 1, 2))
    if result.code == 2:  # the zone lookup's answer may hold no zone of that name (result is optional)
        assert "named mailito.com visible to this token" in result.err
        assert zone == "looked-up" and (cli.scenario.thin or not steered)
        return
    report = json.loads(result.out)
    assert report["summary"]["declared"] == 4
    if report["summary"]["in_cloudflare"]:  # the watcher saw the fields read (it is wired in)
        assert "custom_hostname.hostname" in reads.read
    assert report["summary"]["in_cloudflare"] >= len(report["hostnames"]) + len(report["not_in_customers_file"])
    assert report["fallback_origin"]["level"] in ("live", "waiting", "problem")


def test_status_text_and_one_customer(cli, project, reads, capsys):
    pin_zone_id(project)
    text = run(capsys, cli, reads, "status")
    assert "saas-domains status: zone mailito.com" in text.out
    assert "Fallback origin:" in text.out
    one = run(capsys, cli, reads, "status", "--customer", "acme", "--json")
    assert {h["customer"] for h in json.loads(one.out)["hostnames"]} <= {"acme"}
    markdown = run(capsys, cli, reads, "status", "--format", "markdown")
    assert markdown.out.startswith("### Custom hostname status: `mailito.com` (stack `dev`)")
    assert markdown.code == text.code  # the same verdict whatever the format
    assert all(len(row) == 2 for row in tables(markdown.out)[0])  # the counts come first, whole


@pytest.mark.parametrize("argv", [
    ("instructions", "acme", "--format", "json"),
    ("instructions", "mail.mkdev.me"),
    ("instructions", "globex", "--format", "markdown"),
], ids=["customer-json", "hostname-text", "customer-markdown"])
def test_instructions(cli, project, reads, capsys, argv):
    pin_zone_id(project)
    result = run(capsys, cli, reads, *argv)
    if argv[-1] == "json":
        results = json.loads(result.out)["hostnames"]
        assert {r["hostname"] for r in results} == {"mail.acme-corp.com", "newsletter.acme-corp.com"}
        assert all(r["records"][0]["type"] == "CNAME" for r in results)
    else:
        assert "DNS records for" in result.out


@pytest.mark.parametrize("argv", [
    ("import", "--dry-run", "--json"),
    ("import", "--dry-run"),
    ("import",),
    ("import", "--group-by", "metadata:customer", "--dry-run"),
], ids=["dry-run-json", "dry-run-text", "write", "group-by-metadata"])
def test_import(cli, project, reads, capsys, argv):
    pin_zone_id(project)
    before = (project / "customers.yaml").read_text()
    result = run(capsys, cli, reads, *argv)
    if result.code == 1:  # what Cloudflare holds cannot become a valid customers file: nothing written
        assert "the import would make the customers file invalid" in result.err
        assert (project / "customers.yaml").read_text() == before
    elif "--json" in argv:
        report = json.loads(result.out)
        assert report["dry_run"] is True and report["customers_file_changed"] is False
    if "--dry-run" in argv:
        assert (project / "customers.yaml").read_text() == before
    else:
        assert result.code != 0 or run(capsys, cli, reads, "validate").code == 0


@pytest.mark.parametrize("zone", ["pinned", "looked-up"])
def test_check(cli, project, reads, capsys, fresh_dns, zone):
    if zone == "pinned":
        pin_zone_id(project)
    fresh_dns.load(OUR_SIDE)
    result = run(capsys, cli, reads, "check", "mail.mkdev.me", "--resolver", fresh_dns.resolver_argument,
                 "--timeout", "1", "--json")
    findings = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert findings["target"]["status"] == "ok" and findings["cname"]["status"] == "ok"
    assert "cloudflare" in findings
    text = run(capsys, cli, reads, "check", "mail.mkdev.me", "--resolver", fresh_dns.resolver_argument,
               "--timeout", "1")
    assert text.out.startswith("saas-domains check mail.mkdev.me: customer mkdev")
