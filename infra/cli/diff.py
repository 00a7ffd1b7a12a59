"""`saas-domains diff --base REF [--head REF]`: what a customers-file change does, for review and CI.

Both sides are validated with the stack's rules; the comparison is by hostname, the key the Pulumi
resources use, so it shows exactly which custom hostnames would be created, deleted or updated, and
which only move between customers (no cloud change). The removal guard stops a change that deletes
more hostnames than the stack allows without confirmation. For a core or shard stack the report adds each
shard's counts (by `infra.model.sharding.shard_of`, as the program declares) and the zone-wide quota;
`main` gives CI the stacks to preview and deploy.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.cli import status_codes
from infra.cli.errors import InputProblems, SetupError
from infra.cli.git_revisions import read_at_revision
from infra.cli.project import add_project_arguments, find_project_dir, stack_settings
from infra.cli.terminal import print_json, style, table
from infra.model.customers import CustomersFileError, parse_customers
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import ALL_ROLE, CORE_ROLE, SHARD_ROLE, StackSettings
from infra.operations.diff import Pricing, Review, ShardCounts, review_change, shard_counts

COMMENT_MARKER = "<!-- saas-domains-diff -->"  # lets CI find and update its one pull-request comment
COLLAPSE_OVER_ROWS = 10
CONFIRM_IN_DIFF = ("re-run with `--allow-removals {count}`; in a pull request, set "
                   "`saas-domains:allowRemovals: {count}` in the stack's Pulumi.<stack>.yaml in the same change "
                   "(the deploy checks it too)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "diff", help="what a change to the customers file does, hostname by hostname",
        description="Compare the customers file at two git revisions (head: the working tree unless given). "
                    f"Exit {status_codes.OK} when fine, {status_codes.PROBLEMS} when either side is invalid, "
                    f"{status_codes.CANNOT_RUN} when a revision or the stack cannot be read, "
                    f"{status_codes.REMOVAL_GUARD} when the change "
                    "removes more hostnames than allowed without confirmation.")
    parser.add_argument("--base", required=True, help="git revision before the change, e.g. origin/main")
    parser.add_argument("--head", default=None, help="git revision after the change (default: the working tree)")
    add_project_arguments(parser)
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="text for a terminal, markdown for a pull-request comment, json for machines")
    parser.add_argument("--max-removals", type=int, default=None,
                        help="removals allowed without confirmation (default: saas-domains:maxRemovals, 5)")
    parser.add_argument("--allow-removals", type=int, default=None, metavar="N",
                        help="confirm removing up to N hostnames (default: saas-domains:allowRemovals)")
    parser.add_argument("--included-hostnames", type=int, default=Pricing.included_hostnames,
                        help="hostnames included in the plan (default: %(default)s)")
    parser.add_argument("--price-per-hostname", type=float, default=Pricing.monthly_price_per_hostname,
                        help="USD per hostname per month beyond the included ones (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project_dir = find_project_dir(args.project_dir)
    settings = stack_settings(project_dir, args.stack)
    path = Path(os.path.relpath(settings.customers_path(project_dir), project_dir))
    base_bytes = read_at_revision(args.base, path, project_dir)
    head_bytes = _read_head(args.head, path, project_dir)
    head_name = args.head or "working tree"
    rules = settings.validation_rules()

    try:
        head = parse_customers(head_bytes, rules, path=str(path))
    except CustomersFileError as err:
        raise InputProblems(f"{path} at {head_name} is invalid; nothing can be compared:", str(err)) from None
    notes, base = [], None
    if base_bytes is None:
        notes.append(f"{path} does not exist at {args.base}: every hostname counts as added.")
    else:
        try:
            base = parse_customers(base_bytes, rules, path=f"{args.base}:{path}")
        except CustomersFileError as err:
            raise InputProblems(f"note: {path} at the base revision {args.base} does not pass validation, so "
                                "this change cannot be compared with it. Fix the base branch first (or compare "
                                "with an older revision); its problems:", str(err), colour="yellow") from None

    pricing = Pricing(included_hostnames=args.included_hostnames,
                      monthly_price_per_hostname=args.price_per_hostname)
    guard = RemovalGuard(
        max_removals=settings.max_removals if args.max_removals is None else args.max_removals,
        allow_removals=settings.allow_removals if args.allow_removals is None else args.allow_removals)
    review = review_change(base, head, max_hostnames=settings.max_hostnames, pricing=pricing, guard=guard,
                           how_to_confirm=CONFIRM_IN_DIFF)

    shards = None
    layout = shard_layout(project_dir, args.stack)
    if layout is not None:
        shards = shard_counts(review.diff, head, layout.shards, layout.stacks)
    report = Report(review, settings, str(path), args.base, head_name, notes, shards=shards)
    if args.format == "json":
        print_json(report.to_json())
    elif args.format == "markdown":
        print(report.markdown())
    else:
        print(report.text())
    if review.refusal:
        print(style(review.refusal, "red", sys.stderr), file=sys.stderr)
        return status_codes.REMOVAL_GUARD
    return status_codes.OK


def _read_head(revision: str | None, path: Path, project_dir: Path) -> bytes:
    """The file after the change: at `revision`, or in the working tree when there is none."""
    data = (read_at_revision(revision, path, project_dir) if revision is not None
            else (project_dir / path).read_bytes() if (project_dir / path).is_file() else None)
    if data is None:
        raise SetupError(f"{path} does not exist at {revision or 'the working tree'}; nothing to compare")
    return data


class Report:
    """One diff, rendered for a terminal, a pull-request comment or a machine."""

    def __init__(self, review: Review, settings: StackSettings, path: str, base: str, head: str,
                 notes: list[str], shards: tuple[ShardCounts, ...] | None = None):
        self.diff, self.guard, self.refusal = review.diff, review.guard, review.refusal
        self.settings, self.path, self.base, self.head, self.notes = settings, path, base, head, notes
        self.shards = shards  # None: one stack for the zone (role all), and nothing per shard to show

    def shard_rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(shard, stack, added, removed, changed, hostnames after) for every shard, touched or not."""
        return [(str(c.shard), c.stack or "(no stack file)", str(c.added), str(c.removed), str(c.changed),
                 f"{c.hostnames_after:,}") for c in self.shards or ()]

    def shard_summary(self) -> str:
        touched = [c for c in self.shards or () if c.touched]
        return (f"{len(touched)} of {len(self.shards or ())} shard stacks touched; the cap is zone-wide: "
                f"{self.diff.hostnames_after:,} of {self.diff.max_hostnames:,} custom hostnames in the zone "
                f"({self.diff.quota_used_after:.1%})")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(change, hostname, customer, details), in review order: removals first."""
        diff = self.diff
        rows = [("removed", c.hostname, c.customer, "custom hostname and certificate deleted")
                for c in diff.removed]
        rows += [("added", c.hostname, c.customer, f"customer sets CNAME → {self.settings.cname_target(c.customer)}")
                 for c in diff.added]
        rows += [("changed", c.hostname, c.customer, "updates " + ", ".join(c.fields)) for c in diff.changed]
        rows += [("renamed" if c.renamed else "moved", c.hostname, c.customer,
                  f"from {c.previous_customer}; no cloud change, new CNAME target "
                  f"{self.settings.cname_target(c.customer)}") for c in diff.moved]
        return rows

    def summary(self) -> str:
        d = self.diff
        parts = [f"{len(d.added)} added", f"{len(d.removed)} removed", f"{len(d.changed)} changed"]
        if d.moved:
            parts.append(f"{len(d.moved)} moved between customers (no cloud change)")
        return ", ".join(parts)

    def totals(self) -> str:
        d = self.diff
        delta = d.monthly_cost_after - d.monthly_cost_before
        return (f"hostnames {d.hostnames_before:,} → {d.hostnames_after:,} of the {d.max_hostnames:,} cap "
                f"({d.quota_used_after:.1%}); monthly cost ${d.monthly_cost_before:,.2f} → "
                f"${d.monthly_cost_after:,.2f} ({'+' if delta >= 0 else '-'}${abs(delta):,.2f})")

    def customers_line(self) -> str | None:
        d = self.diff
        parts = []
        if d.customers_added:
            parts.append("added " + ", ".join(d.customers_added))
        if d.customers_removed:
            parts.append("removed " + ", ".join(d.customers_removed))
        if d.customers_renamed:
            parts.append("renamed " + ", ".join(f"{old} → {new}" for old, new in d.customers_renamed))
        return "customers " + "; ".join(parts) if parts else None

    def text(self) -> str:
        lines = [style(f"{self.path}: {self.base} → {self.head}", "bold"), self.summary(), self.totals()]
        if self.customers_line():
            lines.append(self.customers_line())
        lines += self.notes
        rows = self.rows()
        if rows:
            colours = {"removed": "red", "added": "green", "changed": "yellow"}
            lines += ["", table(("CHANGE", "HOSTNAME", "CUSTOMER", "DETAILS"),
                                [(style(r[0], colours.get(r[0], "cyan")), *r[1:]) for r in rows])]
        else:
            lines.append("No hostname changes.")
        if self.shards is not None:
            lines += ["", self.shard_summary(),
                      table(("SHARD", "STACK", "ADDED", "REMOVED", "CHANGED", "HOSTNAMES AFTER"), self.shard_rows())]
        return "\n".join(lines)

    def markdown(self) -> str:
        rows = self.rows()
        lines = [COMMENT_MARKER, f"### saas-domains: `{self.path}` ({self.base} → {self.head})", "",
                 f"**{self.summary()}** · {self.totals()}"]
        if self.customers_line():
            lines += ["", self.customers_line()]
        for note in self.notes:
            lines += ["", f"> {note}"]
        if self.refusal:
            lines += ["", f"> **Removal guard:** {self.refusal}"]
        if rows:
            body = ["| Change | Hostname | Customer | Details |", "| --- | --- | --- | --- |"]
            body += [f"| {c} | `{h}` | `{cust}` | {details} |" for c, h, cust, details in rows]
            if len(rows) > COLLAPSE_OVER_ROWS:
                lines += ["", f"<details><summary>All {len(rows)} hostname changes</summary>", "", *body,
                          "", "</details>"]
            else:
                lines += ["", *body]
        if self.shards is not None:
            lines += ["", f"**Per shard:** {self.shard_summary()}", "",
                      "| Shard | Stack | Added | Removed | Changed | Hostnames after |",
                      "| ---: | --- | ---: | ---: | ---: | ---: |"]
            lines += [f"| {n} | `{stack}` | {a} | {r} | {c} | {after} |"
                      for n, stack, a, r, c, after in self.shard_rows()]
        lines += ["", "<sub>Rendered by `saas-domains diff` from the customers file alone; "
                      "`pulumi preview` shows the cloud's view.</sub>"]
        return "\n".join(lines)

    def to_json(self) -> dict:
        document = self.diff.to_json()
        document.update({
            "file": self.path, "base": self.base, "head": self.head, "notes": self.notes,
            "removal_guard": {"max_removals": self.guard.max_removals,
                              "allow_removals": self.guard.allow_removals,
                              "refused": self.refusal is not None, "message": self.refusal},
        })
        if self.shards is not None:
            document["shards"] = {"count": len(self.shards), "per_shard": [c.to_json() for c in self.shards],
                                  "touched": [c.shard for c in self.shards if c.touched]}
        return document


@dataclass(frozen=True)
class ShardLayout:
    """A zone's stacks as the repository declares them: the core and its shards, from the Pulumi.<stack>.yaml files."""

    core: str | None  # the core's stack name, when the repository has its file
    shards: int  # saas-domains:shards, the same in every shard's file
    stacks: dict[int, str]  # shard index -> stack name


def _short_name(stack: str) -> str:
    """`organization/project/stack` (or `stack` alone) to the name of the repository's Pulumi.<stack>.yaml."""
    return stack.rsplit("/", 1)[-1]


def shard_layout(project_dir: Path, stack: str) -> ShardLayout | None:
    """The core and shard stacks `stack` belongs to; None for a single stack (role all).

    Every Pulumi.<stack>.yaml whose role is shard and whose coreStack names the same core is one of them.
    Their shard counts must agree and their indices must be distinct: what CI previews and deploys is
    exactly what the stack files say, and a half-edited reshard is refused here rather than deployed.
    """
    settings = stack_settings(project_dir, stack)
    if settings.role == ALL_ROLE:
        return None
    core = stack if settings.role == CORE_ROLE else _short_name(settings.core_stack or "")
    members: dict[int, str] = {}
    counts: dict[str, int] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        other = stack_settings(project_dir, name)
        if other.role != SHARD_ROLE or _short_name(other.core_stack or "") != core:
            continue
        if other.shard in members:
            raise SetupError(f"stacks {members[other.shard]} and {name} are both shard {other.shard} of {core}")
        members[other.shard] = name
        counts[name] = other.shards
    if len(set(counts.values())) > 1:
        raise SetupError(f"the shards of {core} disagree on saas-domains:shards: "
                         + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    shards = next(iter(counts.values()), settings.shards)
    core_exists = (project_dir / f"Pulumi.{core}.yaml").is_file()
    return ShardLayout(core=core if core_exists else None, shards=shards, stacks=members)


# Cloudflare allows 1,200 API requests per 5 minutes per token: 4 a second. Each Pulumi operation in flight
# makes about one request a second (a create is a POST, then reads while the certificate is pending), so
# the operations in flight across all stacks deploying at once must stay at 4 or below.
REQUESTS_PER_SECOND = 1200 // 300


def deploy_plan(project_dir: Path, stack: str) -> dict:
    """What the deploy and preview workflows run for `stack` (the repository's PULUMI_STACK): its role, and
    for a core, its shard stacks as a job matrix with each shard's `--parallel` and the matrix's
    `max-parallel`, so that parallel × max-parallel ≤ 4 operations in flight (1,200 requests / 300 s)."""
    settings = stack_settings(project_dir, stack)
    layout = shard_layout(project_dir, stack) if settings.role == CORE_ROLE else None
    if layout is None:
        return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND, "shards": [],
                "shard_count": 0, "max_parallel": 1, "shard_parallel": 0}
    if sorted(layout.stacks) != list(range(layout.shards)):
        missing = sorted(set(range(layout.shards)) - set(layout.stacks))
        raise SetupError(f"{stack} has {layout.shards} shards but no stack file for shard(s) "
                         + ", ".join(map(str, missing)))
    parallel = max(1, REQUESTS_PER_SECOND // layout.shards)
    max_parallel = max(1, min(layout.shards, REQUESTS_PER_SECOND // parallel))
    return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND,
            "shards": [{"shard": i, "stack": layout.stacks[i]} for i in range(layout.shards)],
            "shard_count": layout.shards, "shard_parallel": parallel, "max_parallel": max_parallel}


def main(argv: list[str] | None = None) -> int:
    """`stacks STACK [--touched-from DIFF.json --changed-files FILES]`: CI's view of the stacks, run by the
    workflows as `python -c 'import sys; from infra.cli.diff import main; sys.exit(main(sys.argv[1:]))' stacks …`.

    Prints one JSON object: deploy_plan's. For a pull request, --touched-from (the change's
    `diff --format json`) keeps in `shards` only the shards whose hostnames the change touches, and
    --changed-files (the changed paths, one a line) decides the rest: a change to any file other than the
    customers file changes the program or a stack's settings, so the core and every shard are previewed
    (`preview_core`); a change to the customers file alone previews only the touched shards. A single
    stack (role all) is always previewed, as before.
    """
    parser = argparse.ArgumentParser(prog="infra.cli.diff.main")
    parser.add_argument("what", choices=("stacks",))
    parser.add_argument("stack")
    parser.add_argument("--touched-from", type=Path, default=None)
    parser.add_argument("--changed-files", type=Path, default=None)
    parser.add_argument("--project-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        project_dir = find_project_dir(args.project_dir)
        plan = deploy_plan(project_dir, args.stack)
        customers = Path(os.path.relpath(stack_settings(project_dir, args.stack).customers_path(project_dir),
                                         project_dir)).as_posix()
    except SetupError as err:
        print(str(err), file=sys.stderr)
        return status_codes.CANNOT_RUN
    everything = True
    if args.changed_files is not None:
        changed = {line.strip() for line in args.changed_files.read_text().splitlines() if line.strip()}
        everything = bool(changed - {customers})
    if args.touched_from is not None and not everything:
        import json

        touched = set(json.loads(args.touched_from.read_text()).get("shards", {}).get("touched", []))
        plan["shards"] = [s for s in plan["shards"] if s["shard"] in touched]
    plan["preview_core"] = everything or plan["role"] != CORE_ROLE
    print_json(plan)
    return status_codes.OK
