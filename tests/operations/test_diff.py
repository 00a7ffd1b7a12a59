"""`saas-domains diff`: what a customers-file change does, the removal guard, and its three formats."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from infra.model.customers import ValidationRules, parse_customers
from infra.model.removal_guard import RemovalGuard
from infra.operations.diff import Pricing, diff_customers, review_change
from tests.conftest import PROJECT_ROOT

RULES = ValidationRules(zone="mailito.com")

BASE = """\
customers:
  - id: mkdev
    hostnames: [mail.mkdev.me]
  - id: acme
    hostnames: [mail.acme-corp.com, newsletter.acme-corp.com]
  - id: globex
    hostnames: [post.globex.io]
    ssl: {min_tls_version: "1.3"}
"""


def parse(text: str):
    return parse_customers(textwrap.dedent(text), RULES)


def test_added_removed_changed_and_moved_hostnames():
    head = parse("""\
        customers:
          - id: mkdev
            hostnames: [mail.mkdev.me, newsletter.acme-corp.com]   # moved from acme
          - id: acme
            hostnames: [mail.acme-corp.com]
          - id: globex
            hostnames: [post.globex.io]
            metadata: {tier: gold}
          - id: initech
            hostnames: [mail.initech.com]
        """)
    diff = diff_customers(parse(BASE), head, max_hostnames=5000)
    assert [(c.hostname, c.customer) for c in diff.added] == [("mail.initech.com", "initech")]
    assert diff.removed == ()
    assert [(c.hostname, c.fields) for c in diff.changed] == [("post.globex.io", ("ssl.min_tls_version", "metadata"))]
    assert [(c.hostname, c.previous_customer, c.customer, c.renamed) for c in diff.moved] == [
        ("newsletter.acme-corp.com", "acme", "mkdev", False)]
    assert diff.customers_added == ("initech",) and diff.customers_removed == ()
    assert diff.cloud_changes == 2  # the move changes nothing at Cloudflare
    assert (diff.hostnames_before, diff.hostnames_after) == (4, 5)


def test_a_renamed_customer_is_reported_as_a_rename_not_as_removal_and_addition():
    head = parse(BASE.replace("id: acme", "id: acme-corp"))
    diff = diff_customers(parse(BASE), head, max_hostnames=5000)
    assert diff.added == () and diff.removed == () and diff.changed == ()
    assert diff.customers_renamed == (("acme", "acme-corp"),)
    assert diff.customers_added == () and diff.customers_removed == ()
    assert {(c.hostname, c.renamed) for c in diff.moved} == {
        ("mail.acme-corp.com", True), ("newsletter.acme-corp.com", True)}


def test_merging_two_customers_is_a_move_not_a_rename():
    head = parse("""\
        customers:
          - id: everyone
            hostnames: [mail.mkdev.me, mail.acme-corp.com, newsletter.acme-corp.com, post.globex.io]
            ssl: {min_tls_version: "1.2"}
        """)
    diff = diff_customers(parse(BASE), head, max_hostnames=5000)
    assert diff.customers_renamed == ()
    assert diff.customers_removed == ("acme", "globex", "mkdev") and diff.customers_added == ("everyone",)
    assert all(not c.renamed for c in diff.moved) and len(diff.moved) == 4


def test_normalised_hostnames_compare_equal():
    head = parse(BASE.replace("mail.mkdev.me", "MAIL.mkdev.me."))
    assert diff_customers(parse(BASE), head, max_hostnames=5000).cloud_changes == 0


@pytest.mark.parametrize(("hostnames", "cost"), [(0, 0.0), (100, 0.0), (101, 0.10), (5000, 490.0)])
def test_monthly_cost_follows_published_pricing(hostnames, cost):
    assert Pricing().monthly_cost(hostnames) == cost
    assert Pricing(included_hostnames=0, monthly_price_per_hostname=0.5).monthly_cost(4) == 2.0


def test_removal_guard_counts_against_max_or_a_confirmation():
    guard = RemovalGuard(max_removals=2)
    assert guard.refusal(["a", "b"], how_to_confirm="x") is None
    message = guard.refusal(["a", "b", "c"], how_to_confirm="use --allow-removals {count}")
    assert message.startswith("removal guard: this change deletes 3 custom hostnames (a, b, c)")
    assert message.endswith("use --allow-removals 3.")
    assert RemovalGuard(max_removals=2, allow_removals=3).refusal(["a", "b", "c"], how_to_confirm="x") is None


def test_a_review_applies_the_removal_guard_to_the_diff():
    head = parse("""\
        customers:
          - id: mkdev
            hostnames: [mail.mkdev.me]
        """)
    options = {"max_hostnames": 5000, "pricing": Pricing(), "how_to_confirm": "confirm {count}"}
    review = review_change(parse(BASE), head, guard=RemovalGuard(max_removals=2), **options)
    assert [c.hostname for c in review.diff.removed] == ["mail.acme-corp.com", "newsletter.acme-corp.com",
                                                         "post.globex.io"]
    assert review.refusal.startswith("removal guard: this change deletes 3 custom hostnames")
    assert review.refusal.endswith("If that is intended, confirm 3.")
    assert review_change(parse(BASE), head, guard=RemovalGuard(max_removals=2, allow_removals=3),
                         **options).refusal is None


def test_a_review_without_a_base_counts_every_hostname_as_added():
    review = review_change(None, parse(BASE), max_hostnames=5000, pricing=Pricing(), guard=RemovalGuard(),
                           how_to_confirm="x")
    assert len(review.diff.added) == 4 and review.diff.hostnames_before == 0 and review.refusal is None


# --- the command, in a real git repository -------------------------------------------------------


@pytest.fixture
def repo(tmp_path):
    """A git repository holding the project files, with BASE committed on `main`."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    (tmp_path / "customers.yaml").write_text(BASE)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    return tmp_path


def diff_cli(repo, *args):
    return subprocess.run([sys.executable, "-m", "infra", "diff", "--base", "main", *args], cwd=repo,
                          capture_output=True, text=True, timeout=60)


def test_text_report_on_the_working_tree(repo):
    (repo / "customers.yaml").write_text(BASE + "  - id: initech\n    hostnames: [mail.initech.com]\n")
    result = diff_cli(repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "customers.yaml: main → working tree"
    assert lines[1] == "1 added, 0 removed, 0 changed"
    assert lines[2] == "hostnames 4 → 5 of the 5,000 cap (0.1%); monthly cost $0.00 → $0.00 (+$0.00)"
    assert "added   mail.initech.com  initech   customer sets CNAME → initech.cname.mailito.com" in result.stdout


def test_json_report_lists_added_removed_changed_with_hostname_and_customer(repo):
    (repo / "customers.yaml").write_text(BASE.replace("      - newsletter.acme-corp.com\n", "")
                                         .replace("[mail.acme-corp.com, newsletter.acme-corp.com]",
                                                  "[mail.acme-corp.com]")
                                         .replace('"1.3"', '"1.2"'))
    result = diff_cli(repo, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == []
    assert report["removed"] == [{"hostname": "newsletter.acme-corp.com", "customer": "acme"}]
    assert report["changed"] == [{"hostname": "post.globex.io", "customer": "globex",
                                  "fields": ["ssl.min_tls_version"]}]
    assert report["totals"]["hostnames_before"] == 4 and report["totals"]["hostnames_after"] == 3
    assert report["removal_guard"] == {"max_removals": 5, "allow_removals": 0, "refused": False, "message": None}


def test_markdown_comment_summarises_first_and_collapses_large_changes(repo):
    def customers(count):
        return "".join(f"  - id: c{i}\n    hostnames: [www.c{i}.example]\n" for i in range(count))

    many = customers(150)
    (repo / "customers.yaml").write_text(BASE + many)
    result = diff_cli(repo, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "<!-- saas-domains-diff -->"
    assert lines[3].startswith("**150 added, 0 removed, 0 changed** · hostnames 4 → 154 of the 5,000 cap")
    assert "monthly cost $0.00 → $5.40 (+$5.40)" in lines[3]
    assert "<details><summary>All 150 hostname changes</summary>" in lines
    assert "| added | `www.c0.example` | `c0` | customer sets CNAME → c0.cname.mailito.com |" in lines

    (repo / "customers.yaml").write_text(BASE + customers(3))
    small = diff_cli(repo, "--format", "markdown").stdout
    assert "<details>" not in small and "| added | `www.c1.example` |" in small


def test_removal_guard_exits_3_until_confirmed(repo):
    kept = "customers:\n  - id: mkdev\n    hostnames: [mail.mkdev.me]\n"
    (repo / "customers.yaml").write_text(kept)
    refused = diff_cli(repo, "--max-removals", "2", "--format", "markdown")
    assert refused.returncode == 3
    assert "removal guard: this change deletes 3 custom hostnames" in refused.stderr
    assert "--allow-removals 3" in refused.stderr
    assert "> **Removal guard:**" in refused.stdout  # the PR comment says so too
    assert diff_cli(repo, "--max-removals", "2", "--allow-removals", "3").returncode == 0
    # The stack's own settings are the defaults: Pulumi.dev.yaml allows 5.
    assert diff_cli(repo).returncode == 0
    stack = (repo / "Pulumi.dev.yaml").read_text().replace("maxRemovals: 5", "maxRemovals: 1")
    (repo / "Pulumi.dev.yaml").write_text(stack)
    assert diff_cli(repo).returncode == 3
    (repo / "Pulumi.dev.yaml").write_text(stack.replace("allowRemovals: 0", "allowRemovals: 3"))
    assert diff_cli(repo).returncode == 0


def test_invalid_head_exits_1_with_the_validation_errors(repo):
    (repo / "customers.yaml").write_text(BASE + "  - id: acme\n    hostnames: [x.example.com]\n")
    result = diff_cli(repo)
    assert result.returncode == 1
    assert "customers.yaml:9: customer 'acme' (entry 4): duplicate id 'acme'" in result.stderr
    assert result.stdout == ""


def test_invalid_base_exits_1_with_a_note(repo):
    (repo / "customers.yaml").write_text("customers: [\n")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "commit", "-qam", "broken"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text(BASE)
    result = diff_cli(repo)
    assert result.returncode == 1
    assert "at the base revision main does not pass validation" in result.stderr
    assert "main:customers.yaml:" in result.stderr


def test_head_revision_and_unknown_revisions(repo):
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "checkout", "-qb", "feature"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text(BASE + "  - id: initech\n    hostnames: [mail.initech.com]\n")
    subprocess.run([*git, "commit", "-qam", "add initech"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text("not: [valid")  # the working tree is ignored with --head
    result = diff_cli(repo, "--head", "feature", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == [{"hostname": "mail.initech.com", "customer": "initech"}]
    missing = diff_cli(repo, "--head", "no-such-branch")
    assert missing.returncode == 2 and "git revision 'no-such-branch' not found" in missing.stderr


def test_a_file_new_at_head_counts_everything_as_added(repo):
    subprocess.run(["git", "mv", "customers.yaml", "other.yaml"], cwd=repo, check=True)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "commit", "-qm", "move"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text(BASE)
    result = diff_cli(repo, "--base", "HEAD", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["added"]) == 4 and report["notes"] == [
        "customers.yaml does not exist at HEAD: every hostname counts as added."]


def test_readme_shows_the_real_pr_comment_for_the_example_change(tmp_path):
    """The README's example comment is what the tool prints for that change to this repo's file."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "customers.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    text = (tmp_path / "customers.yaml").read_text()
    text = (text.replace("      - newsletter.acme-corp.com\n", "")
            .replace('ssl: {min_tls_version: "1.3"}', 'ssl: {min_tls_version: "1.2"}'))
    (tmp_path / "customers.yaml").write_text(
        text + "\n  - id: initech\n    hostnames: [mail.initech.com, portal.initech.com]\n")

    printed = diff_cli(tmp_path, "--format", "markdown").stdout
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = readme.split("<!-- example-diff-start -->\n```markdown\n", 1)[1]
    block = block.split("\n```\n<!-- example-diff-end -->")[0]
    assert block == printed.rstrip("\n"), f"update the README example to:\n{printed}"
