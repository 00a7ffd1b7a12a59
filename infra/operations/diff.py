"""What a change to the customers file does, hostname by hostname, without any cloud call.

`diff_change` is the `diff` command: the customers file at two git revisions (infra/clients/git.py),
both validated with the stack's rules, compared, guarded and counted per shard, as a DiffReport. The
rest is pure: it compares two validated `CustomersFile`s. Resources are keyed by hostname, so only an added
or removed hostname, or a change of its SSL settings, metadata or origin, changes anything at
Cloudflare; a hostname that moves to another customer (or whose customer is renamed) only changes
the CNAME target its customer is told to use.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.clients.git import read_at_revision
from infra.errors import InputInvalid, OperationError
from infra.model.customers import CustomerHostname, CustomersFile, CustomersFileError, parse_customers
from infra.model.provider_caveats import Caveat, removal_caveats, revalidation_note
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import StackSettings
from infra.stack_files import shard_layout

CONFIRM_REMOVALS = ("re-run with `--allow-removals {count}`; in a pull request, set "
                    "`saas-domains:allowRemovals: {count}` in the stack's Pulumi.<stack>.yaml in the same change "
                    "(the deploy checks it too)")
GUARD_PREFIX = "removal guard: "  # how RemovalGuard's refusal starts; a heading that says so drops it


class NothingToCompare(OperationError):
    """The customers file does not exist on the side after the change."""


@dataclass(frozen=True)
class Pricing:
    """Cloudflare for SaaS list price: the first hostnames are included, then a monthly fee each."""

    included_hostnames: int = 100
    monthly_price_per_hostname: float = 0.10

    def monthly_cost(self, hostnames: int) -> float:
        return round(max(0, hostnames - self.included_hostnames) * self.monthly_price_per_hostname, 2)


@dataclass(frozen=True)
class HostnameChange:
    hostname: str
    customer: str  # the customer after the change (before, for a removal)
    previous_customer: str | None = None  # set for moves and renames
    fields: tuple[str, ...] = ()  # for changes: e.g. ("ssl.min_tls_version", "metadata")
    renamed: bool = False  # the whole customer was renamed, not just this hostname moved

    def to_json(self) -> dict:
        document: dict = {"hostname": self.hostname, "customer": self.customer}
        if self.previous_customer is not None:
            document["previous_customer"] = self.previous_customer
        if self.fields:
            document["fields"] = list(self.fields)
        if self.renamed:
            document["renamed"] = True
        return document


@dataclass(frozen=True)
class CustomersDiff:
    added: tuple[HostnameChange, ...]
    removed: tuple[HostnameChange, ...]
    changed: tuple[HostnameChange, ...]
    moved: tuple[HostnameChange, ...]  # no cloud change: only the customer's CNAME target changes
    customers_added: tuple[str, ...]
    customers_removed: tuple[str, ...]
    customers_renamed: tuple[tuple[str, str], ...]  # (old id, new id)
    hostnames_before: int
    hostnames_after: int
    max_hostnames: int
    pricing: Pricing = field(default_factory=Pricing)
    # Changes the provider does not carry out as the file says (infra/model/provider_caveats.py).
    caveats: tuple[Caveat, ...] = ()

    @property
    def provider_notes(self) -> list[str]:
        notes = [c.message for c in self.caveats]
        revalidation = revalidation_note(len(self.changed))
        return notes + [revalidation] if revalidation else notes

    @property
    def cloud_changes(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)

    @property
    def monthly_cost_before(self) -> float:
        return self.pricing.monthly_cost(self.hostnames_before)

    @property
    def monthly_cost_after(self) -> float:
        return self.pricing.monthly_cost(self.hostnames_after)

    @property
    def quota_used_after(self) -> float:
        """Share of the stack's hostname cap in use after the change, 0..1."""
        return self.hostnames_after / self.max_hostnames if self.max_hostnames else 0.0

    def to_json(self) -> dict:
        return {
            "added": [c.to_json() for c in self.added],
            "removed": [c.to_json() for c in self.removed],
            "changed": [c.to_json() for c in self.changed],
            "moved": [c.to_json() for c in self.moved],
            "customers": {
                "added": list(self.customers_added),
                "removed": list(self.customers_removed),
                "renamed": [{"from": old, "to": new} for old, new in self.customers_renamed],
            },
            "totals": {
                "hostnames_before": self.hostnames_before,
                "hostnames_after": self.hostnames_after,
                "max_hostnames": self.max_hostnames,
                "quota_used_after": round(self.quota_used_after, 4),
                "cloud_changes": self.cloud_changes,
                "monthly_cost_before_usd": self.monthly_cost_before,
                "monthly_cost_after_usd": self.monthly_cost_after,
                "monthly_cost_change_usd": round(self.monthly_cost_after - self.monthly_cost_before, 2),
            },
            "pricing": {
                "included_hostnames": self.pricing.included_hostnames,
                "monthly_price_per_hostname_usd": self.pricing.monthly_price_per_hostname,
            },
            "provider_caveats": [c.to_json() for c in self.caveats],
            "provider_notes": self.provider_notes,
        }


def _changed_fields(before: CustomerHostname, after: CustomerHostname) -> tuple[str, ...]:
    fields = [f"ssl.{f.name}" for f in dataclasses.fields(before.ssl)
              if getattr(before.ssl, f.name) != getattr(after.ssl, f.name)]
    if before.metadata != after.metadata:
        fields.append("metadata")
    if before.origin != after.origin:
        fields.append("origin")
    return tuple(fields)


def diff_customers(before: CustomersFile, after: CustomersFile, *, max_hostnames: int,
                   pricing: Pricing | None = None) -> CustomersDiff:
    old = {h.hostname: h for h in before.hostnames}
    new = {h.hostname: h for h in after.hostnames}
    old_ids = {c.id for c in before.customers}
    new_ids = {c.id for c in after.customers}
    renames = _customer_renames(before, after, old_ids, new_ids)

    added = tuple(HostnameChange(h, new[h].customer_id) for h in sorted(new.keys() - old.keys()))
    removed = tuple(HostnameChange(h, old[h].customer_id) for h in sorted(old.keys() - new.keys()))
    changed, moved, caveats = [], [], []
    for hostname in sorted(old.keys() & new.keys()):
        was, now = old[hostname], new[hostname]
        fields = _changed_fields(was, now)
        if fields:
            changed.append(HostnameChange(hostname, now.customer_id, fields=fields))
            caveats += removal_caveats(was, now)
        if was.customer_id != now.customer_id:
            moved.append(HostnameChange(hostname, now.customer_id, previous_customer=was.customer_id,
                                        renamed=renames.get(was.customer_id) == now.customer_id))
    renamed_old = set(renames)
    renamed_new = set(renames.values())
    return CustomersDiff(
        added=added, removed=removed, changed=tuple(changed), moved=tuple(moved),
        customers_added=tuple(sorted(new_ids - old_ids - renamed_new)),
        customers_removed=tuple(sorted(old_ids - new_ids - renamed_old)),
        customers_renamed=tuple(sorted(renames.items())),
        hostnames_before=len(old), hostnames_after=len(new), max_hostnames=max_hostnames,
        pricing=pricing or Pricing(), caveats=tuple(caveats),
    )


def _customer_renames(before: CustomersFile, after: CustomersFile, old_ids: set[str],
                      new_ids: set[str]) -> dict[str, str]:
    """A rename: an id that vanished and a new id holding exactly the same hostnames."""
    new_by_hostnames = {frozenset(c.hostnames): c.id for c in after.customers if c.id not in old_ids}
    renames = {}
    for customer in before.customers:
        if customer.id not in new_ids:
            new_id = new_by_hostnames.get(frozenset(customer.hostnames))
            if new_id is not None:
                renames[customer.id] = new_id
    return renames


@dataclass(frozen=True)
class Review:
    """A customers-file change as review and CI judge it: the diff, and the removal guard's verdict."""

    diff: CustomersDiff
    guard: RemovalGuard
    refusal: str | None  # the guard's message when the change deletes too much; None when it may go ahead


def review_change(base: CustomersFile | None, head: CustomersFile, *, max_hostnames: int, pricing: Pricing,
                  guard: RemovalGuard, how_to_confirm: str) -> Review:
    """Compare the file before (None: it did not exist, so every hostname is added) and after a change."""
    before = base if base is not None else CustomersFile(path=head.path, customers=(), hostnames=())
    diff = diff_customers(before, head, max_hostnames=max_hostnames, pricing=pricing)
    return Review(diff, guard, guard.refusal([c.hostname for c in diff.removed], how_to_confirm=how_to_confirm))


@dataclass(frozen=True)
class ShardCounts:
    """One shard stack's share of a change: what its `pulumi preview` and `up` would do."""

    shard: int
    stack: str | None  # the shard's stack name, when the repository has its Pulumi.<stack>.yaml
    added: int
    removed: int
    changed: int
    moved: int  # between customers: no cloud change, but the stack's outputs name the new customer
    hostnames_after: int

    @property
    def touched(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.moved)

    def to_json(self) -> dict:
        return {"shard": self.shard, "stack": self.stack, "added": self.added, "removed": self.removed,
                "changed": self.changed, "moved": self.moved, "hostnames_after": self.hostnames_after,
                "touched": self.touched}


def shard_counts(diff: CustomersDiff, after: CustomersFile, shards: int,
                 stacks: dict[int, str] | None = None) -> tuple[ShardCounts, ...]:
    """Per shard: how many hostnames the change adds, removes, changes and moves, and how many it holds after.

    The shard of a hostname is `infra.model.sharding.shard_of`, the function the program declares with,
    so these are the counts each shard stack's preview shows; the cap stays zone-wide (the diff's totals).
    """
    from infra.model.sharding import shard_of

    stacks = stacks or {}
    counts = {i: {"added": 0, "removed": 0, "changed": 0, "moved": 0, "hostnames_after": 0} for i in range(shards)}
    for kind in ("added", "removed", "changed", "moved"):
        for change in getattr(diff, kind):
            counts[shard_of(change.hostname, shards)][kind] += 1
    for hostname in after.hostnames:
        counts[shard_of(hostname.hostname, shards)]["hostnames_after"] += 1
    return tuple(ShardCounts(shard=i, stack=stacks.get(i), **counts[i]) for i in range(shards))


@dataclass(frozen=True)
class DiffReport:
    """One `diff`: the review, where it was read, and each shard's share (None: one stack for the zone).
    Rows and sentences are shared by every rendering (infra/cli/diff.py, infra/cli/markdown.py)."""

    review: Review
    settings: StackSettings
    path: str
    base: str
    head: str
    notes: list[str]
    shards: tuple[ShardCounts, ...] | None = None

    @property
    def diff(self) -> CustomersDiff:
        return self.review.diff

    @property
    def refusal(self) -> str | None:
        return self.review.refusal

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

    def to_json(self) -> dict[str, Any]:
        guard = self.review.guard
        document = self.diff.to_json()
        document.update({
            "file": self.path, "base": self.base, "head": self.head, "notes": self.notes,
            "removal_guard": {"max_removals": guard.max_removals, "allow_removals": guard.allow_removals,
                              "refused": self.refusal is not None, "message": self.refusal},
        })
        if self.shards is not None:
            document["shards"] = {"count": len(self.shards), "per_shard": [c.to_json() for c in self.shards],
                                  "touched": [c.shard for c in self.shards if c.touched]}
        return document


def diff_change(project_dir: Path, stack: str, settings: StackSettings, *, base: str, head: str | None,
                guard: RemovalGuard, pricing: Pricing) -> DiffReport:
    """`saas-domains diff`: the stack's customers file at `base` against `head` (None: the working tree).

    An invalid side is an InputInvalid (nothing can be compared); a missing revision a GitError.
    """
    path = Path(os.path.relpath(settings.customers_path(project_dir), project_dir))
    base_bytes = read_at_revision(base, path, project_dir)
    head_bytes = _read_head(head, path, project_dir)
    head_name = head or "working tree"
    rules = settings.validation_rules()
    try:
        after = parse_customers(head_bytes, rules, path=str(path))
    except CustomersFileError as err:
        raise InputInvalid(f"{path} at {head_name} is invalid; nothing can be compared:", str(err)) from None
    notes, before = [], None
    if base_bytes is None:
        notes.append(f"{path} does not exist at {base}: every hostname counts as added.")
    else:
        try:
            before = parse_customers(base_bytes, rules, path=f"{base}:{path}")
        except CustomersFileError as err:
            raise InputInvalid(f"note: {path} at the base revision {base} does not pass validation, so this "
                               "change cannot be compared with it. Fix the base branch first (or compare with an "
                               "older revision); its problems:", str(err), about_the_base=True) from None
    review = review_change(before, after, max_hostnames=settings.max_hostnames, pricing=pricing, guard=guard,
                           how_to_confirm=CONFIRM_REMOVALS)
    layout = shard_layout(project_dir, stack)
    shards = shard_counts(review.diff, after, layout.shards, layout.stacks) if layout is not None else None
    return DiffReport(review, settings, str(path), base, head_name, notes, shards=shards)


def _read_head(revision: str | None, path: Path, project_dir: Path) -> bytes:
    """The file after the change: at `revision`, or in the working tree when there is none."""
    data = (read_at_revision(revision, path, project_dir) if revision is not None
            else (project_dir / path).read_bytes() if (project_dir / path).is_file() else None)
    if data is None:
        raise NothingToCompare(f"{path} does not exist at {revision or 'the working tree'}; nothing to compare")
    return data
