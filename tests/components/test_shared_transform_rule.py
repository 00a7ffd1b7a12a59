"""`transformRules: shared` against a zone that already has request-header Transform Rules (the emulator).

A dashboard-made entrypoint named "default" holds the zone's own rules. The stack's one rule goes in
beside them and comes out alone: their ids, order and settings are as the zone made them, whatever
the stack does (create, rotate the secret, delete) and whatever the zone adds in between. The
provider's own way, `cloudflare.Ruleset`, cannot even be created there (the API's 20217).
"""

from __future__ import annotations

import cloudflare
import pytest

from infra.components.origin_auth import HEADER_NAME, secret_header_expression
from infra.components.shared_transform_rule import (
    OWNED_RULESET_NAME,
    PHASE,
    RULE_REF,
    SharedTransformRuleError,
    SharedTransformRuleProvider,
)
from tests.emulator import cloudflare as emulated

pytest_plugins = ["tests.emulator.fixtures"]

ZONE = emulated.ZONE_ID
THEIRS = [
    {"action": "rewrite", "expression": 'http.host eq "www.mailito.com"', "description": "HSTS preload header",
     "action_parameters": {"headers": {"X-Team": {"operation": "set", "value": "web"}}}},
    {"action": "rewrite", "expression": "true", "description": "remove a tracking header", "enabled": False,
     "action_parameters": {"headers": {"X-Tracking": {"operation": "remove"}}}},
]


def props(value: str = "s3cret-value-0123456789abcdef0123456789") -> dict:
    return {"zone_id": ZONE, "expression": secret_header_expression("mailito.com", "proxy-fallback.mailito.com"),
            "description": "Origin authentication header for the ALB (managed by saas-domains)",
            "header_name": HEADER_NAME, "header_value": value}


def entrypoint(cf) -> dict | None:
    return next((r for r in cf.rulesets() if r["kind"] == "zone" and r["phase"] == PHASE), None)


def without_ours(ruleset: dict) -> list[dict]:
    return [r for r in ruleset["rules"] if r["ref"] != RULE_REF]


@pytest.fixture
def zone_with_dashboard_rules(cloudflare_emulator):
    cloudflare_emulator.seed({"rulesets": [{"name": "default", "kind": "zone", "phase": PHASE,
                                            "description": "", "rules": THEIRS}]})
    return entrypoint(cloudflare_emulator)


def test_the_providers_own_ruleset_cannot_be_created_where_the_zone_has_an_entrypoint(
        zone_with_dashboard_rules, cloudflare_client, cloudflare_emulator):
    """What `cloudflare.Ruleset` sends (POST /zones/{id}/rulesets, kind zone): refused with 20217."""
    with pytest.raises(cloudflare.BadRequestError, match="20217"):
        cloudflare_client.rulesets.create(zone_id=ZONE, kind="zone", phase=PHASE, name=OWNED_RULESET_NAME,
                                          rules=[{"action": "rewrite", "expression": "true"}])
    assert entrypoint(cloudflare_emulator) == zone_with_dashboard_rules


def test_our_rule_goes_in_beside_theirs_and_comes_out_alone(zone_with_dashboard_rules, cloudflare_emulator):
    provider = SharedTransformRuleProvider()
    theirs = zone_with_dashboard_rules["rules"]
    created = provider.create(props())
    after = entrypoint(cloudflare_emulator)
    assert after["id"] == zone_with_dashboard_rules["id"] and after["name"] == "default"
    assert [(r["id"], r["expression"], r["enabled"]) for r in without_ours(after)] == [
        (r["id"], r["expression"], r["enabled"]) for r in theirs]
    ours = after["rules"][-1]
    assert ours["ref"] == RULE_REF and ours["expression"] == props()["expression"]
    assert ours["action_parameters"]["headers"] == {HEADER_NAME: {"operation": "set", "value": props()["header_value"]}}
    assert created.outs["ruleset_id"] == after["id"] and created.outs["rule_id"] == ours["id"]

    # the zone adds a rule in the dashboard; the stack rotates its secret: both stay
    added = {"action": "rewrite", "expression": 'http.host eq "api.mailito.com"',
             "action_parameters": {"headers": {"X-Api": {"operation": "set", "value": "1"}}}}
    cloudflare_emulator.seed({"rulesets": [{**after, "rules": [*after["rules"], added]}]})
    provider.update(created.id, created.outs, props("rotated-value-0123456789abcdef01234567"))
    rotated = entrypoint(cloudflare_emulator)
    assert [r["expression"] for r in without_ours(rotated)] == [*(r["expression"] for r in theirs),
                                                                added["expression"]]
    assert [r["action_parameters"]["headers"][HEADER_NAME]["value"] for r in rotated["rules"]
            if r["ref"] == RULE_REF] == ["rotated-value-0123456789abcdef01234567"]

    provider.delete(created.id, props())
    left = entrypoint(cloudflare_emulator)
    assert left["id"] == zone_with_dashboard_rules["id"]
    assert [r["id"] for r in left["rules"]] == [r["id"] for r in without_ours(rotated)]
    provider.delete(created.id, props())  # again: nothing of ours left, nothing written
    assert entrypoint(cloudflare_emulator) == left


def test_a_zone_without_an_entrypoint_gets_one_named_as_the_dashboard_names_it(cloudflare_emulator):
    provider = SharedTransformRuleProvider()
    assert entrypoint(cloudflare_emulator) is None
    created = provider.create(props())
    made = entrypoint(cloudflare_emulator)
    assert made["name"] == "default" and [r["ref"] for r in made["rules"]] == [RULE_REF]
    provider.delete(created.id, props())
    assert entrypoint(cloudflare_emulator)["rules"] == []  # the entrypoint stays, as the dashboard leaves it


def test_the_entrypoint_the_stack_owns_in_own_mode_is_not_taken_over(cloudflare_emulator):
    cloudflare_emulator.seed({"rulesets": [{"name": OWNED_RULESET_NAME, "kind": "zone", "phase": PHASE,
                                            "rules": [{"action": "rewrite", "expression": "true"}]}]})
    before = entrypoint(cloudflare_emulator)
    with pytest.raises(SharedTransformRuleError, match="Keep transformRules own for this zone"):
        SharedTransformRuleProvider().create(props())
    assert entrypoint(cloudflare_emulator) == before


def test_without_a_token_the_message_says_which_permission(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(SharedTransformRuleError, match="Zone · Transform Rules edit"):
        SharedTransformRuleProvider().create(props())


def test_the_state_holds_no_token():
    provider = SharedTransformRuleProvider()
    provider._config_token = "do-not-store"
    assert provider.__getstate__() == {}
