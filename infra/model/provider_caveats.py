"""What the bridged Cloudflare provider does with a change that differs from what the change says.

Read in the provider's source, not seen under an engine (the plugin cannot be built on the machines
this was written on; tools/engine/build says why). pulumi-cloudflare 6.23.1 bridges
terraform-provider-cloudflare v5.22.0, whose custom-hostname update
(internal/services/custom_hostname/model.go, `MarshalJSONForUpdate`) marshals the plan alone with
`apijson.MarshalRoot` whenever `ssl` is set, which this program always sets: a field that is null in
the plan is left out of the PATCH (internal/apijson/encoder.go: "For null values, omits the property
entirely"), so removing `custom_origin_server` or `custom_metadata` never reaches Cloudflare, and
every update carries the whole `ssl` block, which Cloudflare reads as a request to restart domain
control validation ("Common API calls": an edit "sent with an ssl object that matches the existing
value, indicates that hostname should restart domain control validation"). Pure: no Pulumi, no network.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.model.customers import CustomerHostname

PROVIDER = "pulumi-cloudflare 6.23.1 (terraform-provider-cloudflare v5.22.0)"
UPSTREAM_SOURCE = ("terraform-provider-cloudflare internal/services/custom_hostname/model.go "
                   "(MarshalJSONForUpdate sends only the fields the plan sets)")
DASHBOARD_EDIT = "the Cloudflare dashboard (SSL/TLS → Custom Hostnames → the hostname → Edit)"


@dataclass(frozen=True)
class Caveat:
    hostname: str
    field: str  # "origin" or "metadata"
    message: str

    def to_json(self) -> dict:
        return {"hostname": self.hostname, "field": self.field, "message": self.message}


def removal_caveats(before: CustomerHostname, after: CustomerHostname) -> list[Caveat]:
    """A removed `origin` or `metadata`: the provider's update leaves Cloudflare's value in place."""
    found = []
    if before.origin and not after.origin:
        found.append(Caveat(after.hostname, "origin", (
            f"removing origin from {after.hostname} will not reach Cloudflare: {PROVIDER} sends only the "
            f"fields the program sets ({UPSTREAM_SOURCE}), so its traffic keeps going to {before.origin}. "
            f"After the `up`, set it back to the default origin in {DASHBOARD_EDIT}, then `pulumi refresh`.")))
    if before.metadata and not after.metadata:
        found.append(Caveat(after.hostname, "metadata", (
            f"removing metadata from {after.hostname} will not reach Cloudflare: {PROVIDER} sends only the "
            f"fields the program sets ({UPSTREAM_SOURCE}), so Cloudflare keeps its custom metadata. After the "
            f"`up`, remove it in {DASHBOARD_EDIT}, then `pulumi refresh`.")))
    return found


def revalidation_note(updated: int) -> str | None:
    """Every update re-sends the whole ssl block: Cloudflare restarts domain control validation."""
    if not updated:
        return None
    hostnames = "hostname" if updated == 1 else "hostnames"
    return (f"{updated} {hostnames} will be updated: {PROVIDER} re-sends the whole ssl block with every update, "
            "which Cloudflare reads as a request to restart domain control validation (its \"Common API calls\" "
            "page).")


def standing_caveat(setting: list[str]) -> str | None:
    """For `plan`: the hostnames that set origin or metadata, which a later removal would not clear."""
    if not setting:
        return None
    shown = ", ".join(setting[:5]) + (f" and {len(setting) - 5} more" if len(setting) > 5 else "")
    return (f"{len(setting)} {'hostname sets' if len(setting) == 1 else 'hostnames set'} origin or metadata "
            f"({shown}): removing either from the customers file later will not reach Cloudflare ({PROVIDER}; "
            "`saas-domains diff` says what to do when it happens).")
