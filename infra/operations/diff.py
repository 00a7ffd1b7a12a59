"""What a change to the customers file does, hostname by hostname, without any cloud call.

Pure: compares two validated `CustomersFile`s. Resources are keyed by hostname, so only an added
or removed hostname, or a change of its SSL settings, metadata or origin, changes anything at
Cloudflare; a hostname that moves to another customer (or whose customer is renamed) only changes
the CNAME target its customer is told to use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from infra.model.customers import CustomerHostname, CustomersFile
from infra.model.provider_caveats import Caveat, removal_caveats, revalidation_note
from infra.model.removal_guard import RemovalGuard


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
