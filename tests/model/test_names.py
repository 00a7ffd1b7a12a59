"""One home for resource names: what `import` adopts and the policy pack checks is what the program declares."""

from __future__ import annotations

from infra.model import names
from infra.offline import render
from infra.operations.import_plan import (
    CUSTOM_HOSTNAME_TYPE,
    EDGE_COMPONENT,
    EDGE_RECORDS,
    FALLBACK_ORIGIN,
    HOSTNAMES_COMPONENT,
)
from tests.conftest import PROJECT_ROOT
from tests.test_policy import P  # the policy pack's module, loaded from its own folder


def declared() -> set[tuple[str, str, str]]:
    """(type, name, parent type) of everything the example stack declares."""
    rendering = render(PROJECT_ROOT, "dev")
    return {(r.type, r.name, r.parent.split("::")[2].split("$")[-1]) for r in rendering.resources}


def test_every_resource_import_adopts_is_one_the_program_declares_under_the_same_parent():
    resources = declared()
    hostnames_type, hostnames_name = HOSTNAMES_COMPONENT
    edge_type, edge_name = EDGE_COMPONENT
    assert (hostnames_type, hostnames_name, "pulumi:pulumi:Stack") in resources
    assert (edge_type, edge_name, "pulumi:pulumi:Stack") in resources
    assert (CUSTOM_HOSTNAME_TYPE, "mail.mkdev.me", hostnames_type) in resources  # named by hostname
    assert (*FALLBACK_ORIGIN, edge_type) in resources
    for record in EDGE_RECORDS:
        assert (names.DNS_RECORD_RESOURCE, record, edge_type) in resources


def test_the_policy_pack_names_the_same_resource_types():
    assert P.CUSTOM_HOSTNAME == names.CUSTOM_HOSTNAME_RESOURCE
    assert P.FALLBACK_ORIGIN == names.FALLBACK_ORIGIN_RESOURCE
    assert names.DNS_RECORD_RESOURCE in P.DNS_RECORDS
    assert P.NOTIFICATION_WEBHOOK == names.NOTIFICATION_WEBHOOK_RESOURCE


def test_the_policy_pack_knows_the_shared_transform_rule_by_its_inputs():
    from infra.components.shared_transform_rule import INPUTS, PHASE

    assert P.DYNAMIC_RESOURCE == names.DYNAMIC_RESOURCE
    assert P.SHARED_TRANSFORM_RULE_INPUTS == INPUTS and P.HEADER_PHASE == PHASE


def test_the_policy_packs_explicit_ssl_fields_are_rows_of_the_ssl_table():
    """The pack (own environment, no infra import) keeps a copy; it must name inputs the program sends."""
    from infra.model.customers.ssl_fields import SSL_FIELDS

    inputs = {".".join(row.input_path) for row in SSL_FIELDS}
    assert set(P.EXPLICIT_SSL_FIELDS) <= inputs
