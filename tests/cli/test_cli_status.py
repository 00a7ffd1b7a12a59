"""`saas-domains status` against the local Cloudflare API: rows, drift, JSON, exit codes, request count."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

from infra.cli.terminal import PageProgress
from tests.cli.helpers import run_cli
from tests.fakes.cloudflare import custom_hostname
from tests.fakes.markdown import html_or_mentions, tables

# fixtures: cloudflare_api (the local API), fresh_dns (the local DNS server), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]

FALLBACK = {"origin": "proxy-fallback.mailito.com", "status": "active", "errors": [],
            "created_at": "2026-01-01T00:00:00Z"}


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_like_the_example(fake) -> None:
    """The example customers file half onboarded, plus one hostname made by hand in the dashboard."""
    fake.fallback = dict(FALLBACK)
    fake.hostnames = [
        custom_hostname("mail.mkdev.me", created_at=ago(days=12, hours=3)),
        custom_hostname("mail.acme-corp.com", status="pending", ssl_status="pending_validation",
                        created_at=ago(hours=2, minutes=10),
                        verification_errors=["custom hostname does not CNAME to this zone."]),
        custom_hostname("newsletter.acme-corp.com", status="moved", created_at=ago(days=40)),
        custom_hostname("old.example.com", created_at=ago(days=100)),
    ]


def test_status_lists_every_hostname_with_its_next_step_and_the_drift(project, cloudflare_api, capsys):
    zone_like_the_example(cloudflare_api)
    result = run_cli(capsys, "status")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == ("saas-domains status: zone mailito.com, stack dev (the default; set --stack or PULUMI_STACK): "
                        "4 declared hostnames, 4 custom hostnames in Cloudflare")
    assert lines[1].split() == ["HOSTNAME", "CUSTOMER", "STATUS", "CERTIFICATE", "AGE", "NEXT", "STEP"]
    row = next(line for line in lines if line.startswith("mail.acme-corp.com "))
    assert row.split()[:6] == ["mail.acme-corp.com", "acme", "pending", "pending_validation", "2h", "10m"]
    assert row.endswith("waiting for the customer's CNAME: mail.acme-corp.com CNAME acme.cname.mailito.com "
                        "(or the ownership TXT _cf-custom-hostname.mail.acme-corp.com to pre-validate)")
    assert next(line for line in lines if line.startswith("mail.mkdev.me ")).split()[-1] == "live"
    assert ("moved: the customer's DNS no longer points here; it will be deleted after 7 days unless "
            "newsletter.acme-corp.com CNAMEs to acme.cname.mailito.com again") in result.out
    assert "  mail.acme-corp.com: custom hostname does not CNAME to this zone." in lines
    drift_missing = lines.index("Declared in the customers file but missing in Cloudflare (drift):")
    assert lines[drift_missing + 2].split()[:2] == ["post.globex.io", "globex"]
    drift_extra = lines.index("In Cloudflare but not in the customers file (drift):")
    assert lines[drift_extra + 2].startswith("  old.example.com  active")
    assert "Fallback origin: proxy-fallback.mailito.com: active" in lines
    assert lines[-1] == ("1 live, 1 waiting, 1 problem; drift: 1 missing in Cloudflare, 1 not in the customers "
                         "file; needs attention")


def test_status_makes_one_request_per_page_not_per_hostname(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname(f"h{n:04}.example.net") for n in range(2100)]
    result = run_cli(capsys, "status", "--json")
    assert result.code == 1  # 2,100 hostnames not in the file, 4 declared ones missing
    report = json.loads(result.out)
    assert len(report["not_in_customers_file"]) == 2100 and len(report["missing_in_cloudflare"]) == 4
    paths = [path for _, path, _ in cloudflare_api.requests]
    assert paths.count(f"/zones/{cloudflare_api.zone_id}/custom_hostnames") == 3  # 2,100 hostnames, 1,000 a page
    assert len(paths) == 5  # + the zone id lookup + the fallback origin
    assert {q["per_page"] for _, _, q in cloudflare_api.requests if "per_page" in q} == {"1000"}


def test_status_survives_an_answer_claiming_millions_of_pages(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname(f"h{n:04}.example.net") for n in range(1000)]
    cloudflare_api.claimed_total_pages = 25_000_000
    result = run_cli(capsys, "status", "--json")
    assert len(json.loads(result.out)["not_in_customers_file"]) == 1000
    assert cloudflare_api.count("/custom_hostnames$") == 2  # the full page, then the empty one ends it


def test_status_reads_a_listing_without_result_as_no_hostnames(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me")]
    cloudflare_api.omit_result = True
    result = run_cli(capsys, "status", "--json")
    assert result.code == 1 and json.loads(result.out)["summary"]["missing_in_cloudflare"] == 4


def test_status_json_items_carry_the_fields_machines_rely_on(project, cloudflare_api, capsys):
    zone_like_the_example(cloudflare_api)
    report = json.loads(run_cli(capsys, "status", "--json").out)
    pending = next(h for h in report["hostnames"] if h["hostname"] == "mail.acme-corp.com")
    assert {k: pending[k] for k in ("hostname", "customer", "status", "ssl_status", "level")} == {
        "hostname": "mail.acme-corp.com", "customer": "acme", "status": "pending",
        "ssl_status": "pending_validation", "level": "waiting"}
    assert pending["verification_errors"] == ["custom hostname does not CNAME to this zone."]
    assert 2 * 3600 <= pending["age_seconds"] < 3 * 3600
    assert report["missing_in_cloudflare"] == [{
        "hostname": "post.globex.io", "customer": "globex", "status": None, "ssl_status": None,
        "next_step": "not in Cloudflare (never created, or deleted by Cloudflare after 7 days pending or moved): "
                     "run the `pulumi refresh` below, then `pulumi up` creates it with a new ownership TXT value; "
                     "send the customer new instructions after that"}]
    # an `up` alone would change nothing where the state still holds it: refresh just that hostname first
    assert report["recreate_missing"] == [
        "pulumi refresh --stack dev --yes --target 'urn:pulumi:dev::saas-domains::saas-domains:index:"
        "CustomerHostnames$cloudflare:index/customHostname:CustomHostname::post.globex.io'",
        "pulumi up --stack dev"]
    assert [e["hostname"] for e in report["not_in_customers_file"]] == ["old.example.com"]
    assert report["fallback_origin"]["level"] == "live"
    assert report["summary"] == {"declared": 4, "live": 1, "waiting": 1, "problem": 1, "missing_in_cloudflare": 1,
                                 "not_in_customers_file": 1, "in_cloudflare": 4}
    assert report["attention"] is True


def test_everything_live_exits_0(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname(h) for h in ("mail.mkdev.me", "mail.acme-corp.com",
                                                             "newsletter.acme-corp.com", "post.globex.io")]
    result = run_cli(capsys, "status")
    assert result.code == 0
    assert result.out.splitlines()[-1] == ("4 live, 0 waiting, 0 problems; drift: 0 missing in Cloudflare, 0 not in "
                                           "the customers file; nothing needs attention")


def test_recent_pending_is_fine_but_stale_pending_needs_attention(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation",
                                                created_at=ago(days=2))]
    assert run_cli(capsys, "status", "--customer", "mkdev").code == 0
    result = run_cli(capsys, "status", "--customer", "mkdev", "--stale-after-days", "1", "--json")
    assert result.code == 1
    (row,) = json.loads(result.out)["hostnames"]
    assert row["level"] == "problem"
    assert row["next_step"].startswith("pending for 2d (Cloudflare gives up after 7 days)")


def test_customer_filter_leaves_out_others_and_unattributed_drift(project, cloudflare_api, capsys):
    zone_like_the_example(cloudflare_api)
    report = json.loads(run_cli(capsys, "status", "--customer", "mkdev", "--json").out)
    assert [h["hostname"] for h in report["hostnames"]] == ["mail.mkdev.me"]
    assert report["not_in_customers_file"] == [] and report["attention"] is False
    result = run_cli(capsys, "status", "--customer", "nobody")
    assert result.code == 2
    assert "no customer 'nobody' in customers.yaml (customers: acme, globex, mkdev)" in result.err


def test_a_missing_or_wrong_fallback_origin_needs_attention(project, cloudflare_api, capsys):
    cloudflare_api.hostnames = [custom_hostname(h) for h in ("mail.mkdev.me",)]
    report = json.loads(run_cli(capsys, "status", "--customer", "mkdev", "--json").out)
    assert report["fallback_origin"]["next_step"] == ("no fallback origin: run `pulumi up` (it sets "
                                                      "proxy-fallback.mailito.com)")
    cloudflare_api.fallback = {**FALLBACK, "origin": "old-origin.mailito.com"}
    result = run_cli(capsys, "status", "--customer", "mkdev")
    assert result.code == 1
    assert ("Fallback origin: old-origin.mailito.com: the fallback origin is old-origin.mailito.com, the stack sets "
            "proxy-fallback.mailito.com: run `pulumi up`") in result.out


def test_a_rate_limit_is_waited_out_and_said_on_the_terminal(project, cloudflare_api, capsys):
    zone_like_the_example(cloudflare_api)
    cloudflare_api.answer_first("/custom_hostnames$", 429, times=1, retry_after="1")
    started = time.monotonic()
    result = run_cli(capsys, "status", "--json")
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured, not ignored
    assert result.err.splitlines() == ["Cloudflare rate limit: waiting 1 s (Retry-After), attempt 2 of 5"]
    assert len(json.loads(result.out)["hostnames"]) == 3


def test_a_persistent_rate_limit_fails_clearly_with_exit_2(project, cloudflare_api, capsys):
    cloudflare_api.answer_first("/custom_hostnames$", 429, times=10, retry_after="0")
    result = run_cli(capsys, "status")
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines()[-1].startswith(
        "saas-domains status: Cloudflare rate limit: still limited after 5 attempts while listing custom hostnames")


def test_without_a_token_it_says_how_to_set_one(project, cloudflare_api, capsys, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    result = run_cli(capsys, "status")
    assert result.code == 2
    assert result.err.startswith("saas-domains status: CLOUDFLARE_API_TOKEN is not set: set CLOUDFLARE_API_TOKEN to "
                                 "an API token scoped to the SaaS zone")
    assert cloudflare_api.requests == []


def test_an_invalid_customers_file_stops_before_any_request(project, cloudflare_api, capsys):
    (project / "customers.yaml").write_text("customers:\n  - id: Bad_Id\n    hostnames: [x.example.com]\n")
    result = run_cli(capsys, "status")
    assert result.code == 1
    assert "the customers file is invalid; fix it first" in result.err and "Bad_Id" in result.err
    assert cloudflare_api.requests == []


def test_the_progress_bar_draws_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        bar = PageProgress("Listing custom hostnames", stream)
        bar(1, 4)
        bar(4, 4)
        bar.close()
    assert pipe.getvalue() == ""
    drawn = screen.getvalue().split("\r")
    assert "[######..................] page 1/4" in drawn[1]
    assert "[########################] page 4/4" in drawn[2]
    assert drawn[-1] == "\033[K"


def test_the_listing_bound_follows_a_stack_allowed_more_than_a_zone_usually_holds():
    from types import SimpleNamespace

    from infra.operations.zone import zone_hostnames

    asked = []
    api = SimpleNamespace(custom_hostnames=lambda zone_id, **options: asked.append(options["limit"]) or [])
    zone_hostnames(api, "zone", SimpleNamespace(max_hostnames=5000))
    zone_hostnames(api, "zone", SimpleNamespace(max_hostnames=120_000))  # an Enterprise contract
    assert asked == [50_000, 120_000]


# -- markdown: for a ticket, a job summary and the status issue ------------------------------------


def test_status_markdown_counts_states_then_lists_only_what_needs_attention(project, cloudflare_api, capsys):
    zone_like_the_example(cloudflare_api)
    result = run_cli(capsys, "status", "--format", "markdown")
    assert result.code == 1  # the same verdict as the text report: CI can act on it
    lines = result.out.splitlines()
    assert lines[0] == "### Custom hostname status: `mailito.com` (stack `dev`)"
    assert lines[2] == "🔴 **needs attention** · 4 declared hostnames · 4 custom hostnames in Cloudflare"
    counts = lines[lines.index("| State | Hostnames |") + 2:][:5]
    assert counts == ["| 🟢 live | 1 |", "| 🟡 waiting (in progress, no action yet) | 1 |", "| 🔴 problem | 1 |",
                      "| declared but missing in Cloudflare | 1 |",
                      "| in Cloudflare but not in the customers file | 1 |"]
    assert "**Fallback origin** `proxy-fallback.mailito.com`: 🟢 active" in lines
    table = lines[lines.index("#### Needs attention (3)") + 2:]
    rows = [line for line in table if line.startswith("| `")]
    assert [row.split(" | ")[0:3] for row in rows] == [
        ["| `newsletter.acme-corp.com`", "`acme`", "problem"],
        ["| `post.globex.io`", "`globex`", "missing in Cloudflare"],
        ["| `old.example.com`", "—", "not in the customers file"]]
    assert "moved: the customer's DNS no longer points here" in rows[0]
    assert rows[1].endswith("| not in Cloudflare (never created, or deleted by Cloudflare after 7 days pending or "
                            "moved): run the `pulumi refresh` below, then `pulumi up` creates it with a new ownership "
                            "TXT value; send the customer new instructions after that | — |")
    # live and waiting hostnames are counted, not listed: nothing to do about them yet
    assert "mail.mkdev.me" not in result.out and "mail.acme-corp.com" not in result.out


def test_status_markdown_when_all_is_well_says_so_and_has_no_attention_table(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname(h) for h in ("mail.mkdev.me", "mail.acme-corp.com",
                                                             "newsletter.acme-corp.com", "post.globex.io")]
    result = run_cli(capsys, "status", "--format", "markdown")
    assert result.code == 0
    assert "🟢 **nothing needs attention** · 4 declared hostnames" in result.out
    assert "Needs attention" not in result.out and "| 🟢 live | 4 |" in result.out


def test_status_markdown_neutralises_what_the_api_says(project, cloudflare_api, capsys):
    """A hostname or error text made by someone else must not mention people, link issues or break the table."""
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [
        custom_hostname("a|b.example.net", created_at=ago(days=1)),
        custom_hostname("mail.mkdev.me", status="pending", ssl_status="validation_timed_out", created_at=ago(days=1),
                        verification_errors=["@octocat see #1 <img src=x> `rm` |x|\nnext line"]),
    ]
    out = run_cli(capsys, "status", "--format", "markdown").out
    attention = tables(out)[-1]
    assert all(len(row) == 8 for row in attention)  # no stray pipe split a cell
    by_hostname = {row[0].code: row for row in attention[1:]}
    said = by_hostname[("mail.mkdev.me",)][7]
    assert said.code == ("@octocat see #1 <img src=x> `rm` |x| next line",)  # all of it, inert, in one code span
    assert ("a|b.example.net",) in by_hostname
    assert set(html_or_mentions(out)) <= {"<sub>", "</sub>", "<br>"}  # our own markup only


def test_status_markdown_bounds_the_table_and_counts_the_rest(project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [custom_hostname(f"h{n:04}.example.net") for n in range(250)]
    out = run_cli(capsys, "status", "--format", "markdown", "--max-rows", "20").out
    assert "#### Needs attention (254)" in out  # 250 not in the file, 4 declared ones missing
    assert sum(line.startswith("| `") for line in out.splitlines()) == 20
    assert "… and 234 more: run `saas-domains status --stack dev` (or `--json`) for all of them." in out
    assert run_cli(capsys, "status", "--format", "markdown", "--max-rows", "-1").code == 2


def test_status_saves_the_json_report_beside_any_format(project, cloudflare_api, capsys, tmp_path):
    zone_like_the_example(cloudflare_api)
    saved = tmp_path / "report.json"
    result = run_cli(capsys, "status", "--format", "markdown", "--save-report", str(saved))
    assert result.out.startswith("### Custom hostname status")
    report = json.loads(saved.read_text())
    assert report["summary"]["problem"] == 1 and report["attention"] is True
    assert datetime.fromisoformat(report["generated_at"].replace("Z", "+00:00")) <= datetime.now(UTC)
    assert len(cloudflare_api.requests) == 3  # one listing serves both: zone id, one page, the fallback origin
    unwritable = run_cli(capsys, "status", "--json", "--save-report", str(tmp_path / "no" / "such" / "r.json"))
    assert unwritable.code == 2 and "cannot write the report to" in unwritable.err
