"""`saas-domains diff`: what a customers-file change does, the removal guard, and its three formats."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from infra.model.customers import ValidationRules, parse_customers
from infra.model.removal_guard import RemovalGuard
from infra.operations.diff import Pricing, diff_customers, review_change
from tests.conftest import PROJECT_ROOT, copy_example_project

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
    copy_example_project(tmp_path)
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
    """The README's example comment is what the tool prints for that change to the example customers."""
    copy_example_project(tmp_path)
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
    readme = (PROJECT_ROOT / "docs" / "pull-requests.md").read_text()
    block = readme.split("<!-- example-diff-start -->\n```markdown\n", 1)[1]
    block = block.split("\n```\n<!-- example-diff-end -->")[0]
    assert block == printed.rstrip("\n"), f"update the docs/pull-requests.md example to:\n{printed}"


# --- a sharded zone: per-shard counts, the zone-wide cap, and CI's view of the stacks ----------------


def shard_stack_file(shard: int, shards: int, core: str = "core") -> str:
    return (f"config:\n  saas-domains:zone: mailito.com\n  saas-domains:role: shard\n"
            f"  saas-domains:coreStack: organization/saas-domains/{core}\n"
            f"  saas-domains:shard: {shard}\n  saas-domains:shards: {shards}\n")


@pytest.fixture
def sharded_repo(repo):
    """`repo` with a core stack and three shards of it, committed."""
    (repo / "Pulumi.core.yaml").write_text((repo / "Pulumi.dev.yaml").read_text()
                                           .replace("saas-domains:role: all", "saas-domains:role: core"))
    for shard in range(3):
        (repo / f"Pulumi.shard-{shard}.yaml").write_text(shard_stack_file(shard, 3))
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "shards"], cwd=repo, check=True)
    return repo


def test_shard_counts_split_the_change_by_the_shard_that_declares_each_hostname():
    from infra.model.sharding import shard_of
    from infra.operations.diff import shard_counts

    head = parse(BASE + "".join(f"  - id: c{i}\n    hostnames: [www.c{i}.example]\n" for i in range(40)))
    diff = diff_customers(parse(BASE), head, max_hostnames=5000)
    counts = shard_counts(diff, head, 3, {0: "s0", 2: "s2"})
    assert [c.shard for c in counts] == [0, 1, 2] and [c.stack for c in counts] == ["s0", None, "s2"]
    for c in counts:
        assert c.added == sum(1 for i in range(40) if shard_of(f"www.c{i}.example", 3) == c.shard)
        assert c.hostnames_after == sum(1 for h in head.hostnames if shard_of(h.hostname, 3) == c.shard)
    assert sum(c.added for c in counts) == 40 and sum(c.hostnames_after for c in counts) == 44
    assert all(c.touched for c in counts)  # 40 hostnames over 3 shards leave none untouched

    one = parse(BASE + "  - id: initech\n    hostnames: [mail.initech.com]\n")
    counts = shard_counts(diff_customers(parse(BASE), one, max_hostnames=5000), one, 3)
    assert [c.shard for c in counts if c.touched] == [shard_of("mail.initech.com", 3)]


def test_sharded_diff_shows_per_shard_counts_and_the_zone_wide_quota(sharded_repo):
    from infra.model.sharding import shard_of

    (sharded_repo / "customers.yaml").write_text(BASE + "  - id: initech\n    hostnames: [mail.initech.com]\n")
    owner = shard_of("mail.initech.com", 3)
    result = diff_cli(sharded_repo, "--stack", "core", "--format", "json")
    assert result.returncode == 0, result.stderr
    shards = json.loads(result.stdout)["shards"]
    assert shards["count"] == 3 and shards["touched"] == [owner]
    assert [s["stack"] for s in shards["per_shard"]] == ["shard-0", "shard-1", "shard-2"]
    assert sum(s["hostnames_after"] for s in shards["per_shard"]) == 5

    markdown = diff_cli(sharded_repo, "--stack", "core", "--format", "markdown").stdout
    assert ("**Per shard:** 1 of 3 shard stacks touched; the cap is zone-wide: 5 of 5,000 custom hostnames "
            "in the zone (0.1%)") in markdown
    assert "| Shard | Stack | Added | Removed | Changed | Hostnames after |" in markdown
    assert f"| {owner} | `shard-{owner}` | 1 | 0 | 0 |" in markdown
    text = diff_cli(sharded_repo, "--stack", "shard-1").stdout  # from a shard: the same zone, the same table
    assert "1 of 3 shard stacks touched" in text and "HOSTNAMES AFTER" in text

    # A single stack (role all) in the same repository: no per-shard part, output as before.
    single = diff_cli(sharded_repo, "--format", "markdown").stdout
    assert "Per shard" not in single and "shards" not in json.loads(diff_cli(sharded_repo, "--format", "json").stdout)


def test_shard_stacks_that_disagree_are_refused(sharded_repo):
    (sharded_repo / "Pulumi.shard-2.yaml").write_text(shard_stack_file(2, 4))
    result = diff_cli(sharded_repo, "--stack", "core")
    assert result.returncode == 2 and "disagree on saas-domains:shards" in result.stderr
    (sharded_repo / "Pulumi.shard-2.yaml").write_text(shard_stack_file(1, 3))
    result = diff_cli(sharded_repo, "--stack", "core")
    assert result.returncode == 2 and "are both shard 1 of core" in result.stderr


def ci_stacks(repo, *args) -> dict:
    result = subprocess.run([sys.executable, "-m", "infra", "stacks", *args], cwd=repo,
                            capture_output=True, text=True, timeout=60)  # what the workflows run
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("shards, parallel, max_parallel", [(1, 4, 1), (2, 2, 2), (3, 1, 3), (4, 1, 4),
                                                            (10, 1, 4), (25, 1, 4)])
def test_ci_keeps_all_shards_together_within_cloudflares_rate(repo, shards, parallel, max_parallel):
    """1,200 requests per 5 minutes = 4 a second: --parallel × max-parallel ≤ 4 operations in flight."""
    (repo / "Pulumi.core.yaml").write_text((repo / "Pulumi.dev.yaml").read_text()
                                           .replace("saas-domains:role: all", "saas-domains:role: core"))
    for shard in range(shards):
        (repo / f"Pulumi.s{shard}.yaml").write_text(shard_stack_file(shard, shards))
    plan = ci_stacks(repo, "core")
    assert plan["role"] == "core" and plan["parallel"] == 4
    assert [s["stack"] for s in plan["shards"]] == [f"s{i}" for i in range(shards)]
    assert (plan["shard_parallel"], plan["max_parallel"]) == (parallel, max_parallel)
    assert plan["shard_parallel"] * plan["max_parallel"] <= 4


def test_ci_previews_only_the_touched_shards_unless_other_files_changed(sharded_repo, tmp_path):
    (sharded_repo / "customers.yaml").write_text(BASE + "  - id: initech\n    hostnames: [mail.initech.com]\n")
    report = tmp_path / "diff.json"
    report.write_text(diff_cli(sharded_repo, "--stack", "core", "--format", "json").stdout)
    from infra.model.sharding import shard_of

    changed = tmp_path / "changed.txt"
    changed.write_text("customers.yaml\n")
    touched = ci_stacks(sharded_repo, "core", "--touched-from", str(report), "--changed-files", str(changed))
    assert [s["shard"] for s in touched["shards"]] == [shard_of("mail.initech.com", 3)]
    assert touched["preview_core"] is False
    changed.write_text("customers.yaml\ninfra/program.py\n")  # the program changed: every stack runs it
    everything = ci_stacks(sharded_repo, "core", "--touched-from", str(report), "--changed-files", str(changed))
    assert len(everything["shards"]) == 3 and everything["preview_core"] is True
    changed.write_text("Pulumi.shard-2.yaml\n")
    assert len(ci_stacks(sharded_repo, "core", "--touched-from", str(report),
                         "--changed-files", str(changed))["shards"]) == 3
    # A single stack is previewed whatever changed.
    changed.write_text("customers.yaml\n")
    assert ci_stacks(sharded_repo, "dev", "--touched-from", str(report),
                     "--changed-files", str(changed))["preview_core"] is True


def test_ci_runs_a_single_stack_as_before(repo):
    assert ci_stacks(repo, "dev") == {"role": "all", "core": "dev", "parallel": 4, "shards": [], "shard_count": 0,
                                      "max_parallel": 1, "shard_parallel": 0, "preview_core": True,
                                      "stack": "dev", "stack_from": "--stack"}


def test_ci_refuses_a_core_whose_shard_files_are_missing(repo):
    (repo / "Pulumi.core.yaml").write_text((repo / "Pulumi.dev.yaml").read_text()
                                           .replace("saas-domains:role: all", "saas-domains:role: core"))
    (repo / "Pulumi.s0.yaml").write_text(shard_stack_file(0, 2))
    result = subprocess.run([sys.executable, "-m", "infra", "stacks", "core"], cwd=repo,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no stack file for shard 1" in result.stderr


# --- what the provider does not carry out as the file says (infra/model/provider_caveats.py) ---------------

WITH_EXTRAS = """\
customers:
  - id: mkdev
    hostnames: [mail.mkdev.me]
    origin: eu.mailito.com
    metadata: {plan: gold}
  - id: acme
    hostnames: [mail.acme-corp.com]
    origin: us.mailito.com
"""


def test_removing_origin_or_metadata_is_flagged_because_the_provider_never_sends_it():
    after = WITH_EXTRAS.replace("    origin: eu.mailito.com\n    metadata: {plan: gold}\n", "").replace(
        "origin: us.mailito.com", "origin: eu.mailito.com")
    diff = diff_customers(parse(WITH_EXTRAS), parse(after), max_hostnames=100)
    assert [(c.hostname, c.field) for c in diff.caveats] == [("mail.mkdev.me", "origin"), ("mail.mkdev.me", "metadata")]
    origin = diff.caveats[0].message
    assert "removing origin from mail.mkdev.me will not reach Cloudflare" in origin
    assert "keeps going to eu.mailito.com" in origin and "then `pulumi refresh`" in origin
    assert "internal/services/custom_hostname/model.go" in origin
    # a changed origin (acme) is sent; every update re-sends ssl, which restarts validation
    assert diff.provider_notes[-1].startswith("2 hostnames will be updated: pulumi-cloudflare 6.23.1")
    assert "restart domain control validation" in diff.provider_notes[-1]


def test_no_caveat_for_a_change_the_provider_carries_out_or_for_no_change():
    diff = diff_customers(parse(WITH_EXTRAS), parse(WITH_EXTRAS), max_hostnames=100)
    assert diff.caveats == () and diff.provider_notes == []
    removed_hostname = diff_customers(parse(WITH_EXTRAS), parse(WITH_EXTRAS.replace(
        "  - id: acme\n    hostnames: [mail.acme-corp.com]\n    origin: us.mailito.com\n", "")), max_hostnames=100)
    assert removed_hostname.caveats == () and removed_hostname.provider_notes == []


def test_the_command_warns_in_every_format(repo):
    (repo / "customers.yaml").write_text(WITH_EXTRAS)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "commit", "-qam", "extras"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text(WITH_EXTRAS.replace("    origin: us.mailito.com\n", ""))
    text = diff_cli(repo)
    assert text.returncode == 0, text.stderr
    assert "warning: removing origin from mail.acme-corp.com will not reach Cloudflare" in text.stdout
    markdown = diff_cli(repo, "--format", "markdown").stdout
    assert "> **Provider:** removing origin from mail.acme-corp.com will not reach Cloudflare" in markdown
    report = json.loads(diff_cli(repo, "--format", "json").stdout)
    assert [c["field"] for c in report["provider_caveats"]] == ["origin"]
    assert len(report["provider_notes"]) == 2
