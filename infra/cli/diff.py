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
from pathlib import Path

from infra.cli import status_codes
from infra.cli.errors import InputProblems, SetupError
from infra.cli.git_revisions import read_at_revision
from infra.cli.project import StackChoice, add_project_arguments, chosen_stack_settings, find_project_dir, stack_choice
from infra.cli.stacks import shard_layout
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, print_json, style, table
from infra.model.customers import CustomersFileError, parse_customers
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import StackSettings
from infra.operations.diff import Pricing, Review, ShardCounts, review_change, shard_counts

COMMENT_MARKER = "<!-- saas-domains-diff -->"  # lets CI find and update its one pull-request comment
COLLAPSE_OVER_ROWS = 10
CONFIRM_REMOVALS = ("re-run with `--allow-removals {count}`; in a pull request, set "
                    "`saas-domains:allowRemovals: {count}` in the stack's Pulumi.<stack>.yaml in the same change "
                    "(the deploy checks it too)")
GUARD_PREFIX = "removal guard: "  # how RemovalGuard's refusal starts; a heading that says so drops it


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
    add_format_arguments(parser, purposes="text for a terminal, markdown for a pull-request comment, json for "
                                          "machines")
    add_removal_guard_arguments(parser)
    parser.add_argument("--included-hostnames", type=int, default=Pricing.included_hostnames,
                        help="hostnames included in the plan (default: %(default)s)")
    parser.add_argument("--price-per-hostname", type=float, default=Pricing.monthly_price_per_hostname,
                        help="USD per hostname per month beyond the included ones (default: %(default)s)")
    parser.set_defaults(run=run)


def add_removal_guard_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-removals", type=int, default=None, metavar="N",
                        help="removals allowed without confirmation (default: saas-domains:maxRemovals, 5)")
    parser.add_argument("--allow-removals", type=int, default=None, metavar="N",
                        help="confirm removing up to N hostnames (default: saas-domains:allowRemovals)")


def removal_guard(settings: StackSettings, args: argparse.Namespace) -> RemovalGuard:
    """The stack's guard, with the command line's --max-removals and --allow-removals over its settings."""
    return RemovalGuard(
        max_removals=settings.max_removals if args.max_removals is None else args.max_removals,
        allow_removals=settings.allow_removals if args.allow_removals is None else args.allow_removals)


def run(args: argparse.Namespace) -> int:
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    settings = chosen_stack_settings(project_dir, choice)
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
    review = review_change(base, head, max_hostnames=settings.max_hostnames, pricing=pricing,
                           guard=removal_guard(settings, args), how_to_confirm=CONFIRM_REMOVALS)

    shards = None
    layout = shard_layout(project_dir, choice.name)
    if layout is not None:
        shards = shard_counts(review.diff, head, layout.shards, layout.stacks)
    report = Report(review, settings, choice, str(path), args.base, head_name, notes, shards=shards)
    if args.format == JSON:
        print_json(report.to_json())
    elif args.format == MARKDOWN:
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

    def __init__(self, review: Review, settings: StackSettings, stack: StackChoice, path: str, base: str, head: str,
                 notes: list[str], shards: tuple[ShardCounts, ...] | None = None):
        self.diff, self.guard, self.refusal = review.diff, review.guard, review.refusal
        self.settings, self.path, self.base, self.head, self.notes = settings, path, base, head, notes
        self.stack = stack  # whose settings (zone, cap, guard) the comparison used, and why that stack
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
        lines.append(f"with the settings of {self.stack.describe()}")
        if self.customers_line():
            lines.append(self.customers_line())
        lines += self.notes
        lines += [style(f"warning: {note}", "yellow") for note in self.diff.provider_notes]
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
            lines += ["", f"> **Removal guard:** {self.refusal.removeprefix(GUARD_PREFIX)}"]
        for note in self.diff.provider_notes:
            lines += ["", f"> **Provider:** {note}"]
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
        lines += ["", f"<sub>Rendered by `saas-domains diff` with the settings of {self.stack.describe()} from the "
                      "customers file alone; "
                      "`pulumi preview` shows the cloud's view.</sub>"]
        return "\n".join(lines)

    def to_json(self) -> dict:
        document = self.diff.to_json()
        document.update({
            **self.stack.to_json(),
            "file": self.path, "base": self.base, "head": self.head, "notes": self.notes,
            "removal_guard": {"max_removals": self.guard.max_removals,
                              "allow_removals": self.guard.allow_removals,
                              "refused": self.refusal is not None, "message": self.refusal},
        })
        if self.shards is not None:
            document["shards"] = {"count": len(self.shards), "per_shard": [c.to_json() for c in self.shards],
                                  "touched": [c.shard for c in self.shards if c.touched]}
        return document
