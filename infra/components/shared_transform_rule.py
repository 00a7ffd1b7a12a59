"""The origin-authentication header rule inside a zone's own request-header Transform Rules.

A zone holds one entrypoint ruleset per phase, and the dashboard makes it (named "default") with a
zone's first request-header Transform Rule. `cloudflare.Ruleset` creates that entrypoint and owns every
rule in it: on a zone that has one, creating ours fails (the API's 20217, "exceeded maximum number of
zone rulesets for phase"; pulumi/pulumi-cloudflare#782), and adopting theirs would put the zone's own
rules under this stack, where a `name` other than "default" replaces the ruleset and our one declared
rule would delete the rest. With `saas-domains:transformRules shared` this dynamic resource instead keeps
one rule of ours (ref `saas-domains-origin-auth`) in whatever entrypoint the zone has, through the
phase's entrypoint endpoint (GET, then PUT with the zone's rules as read plus ours; PUT creates the
entrypoint when there is none), and its delete takes out only that rule. The zone's other rules are
sent back as Cloudflare returned them, ids included, so they keep their ids, order and settings.

Like the fallback-origin waiter it runs in the engine's dynamic-provider process with the API token from
CLOUDFLARE_API_TOKEN (or `cloudflare:apiToken`); the header value is a secret input, so Pulumi keeps it
encrypted in state.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.components.provider_api import (
    CloudflareApi,
    CloudflareApiError,
    CloudflareCallingProvider,
    said_plainly,
)

PHASE = "http_request_late_transform"
RULE_REF = "saas-domains-origin-auth"
NEW_ENTRYPOINT_NAME = "default"  # what the dashboard calls it, so the dashboard shows it as its own
OWNED_RULESET_NAME = "saas-domains origin authentication"  # the entrypoint `transformRules: own` creates
INPUTS = ("zone_id", "expression", "description", "header_name", "header_value")
READ_ONLY = ("version", "last_updated", "categories")  # the API sets them; a request carries none


class SharedTransformRuleError(Exception):
    """The rule could not be put in place or taken out; the message says what was seen and what to do."""


def _as_dict(answer: Any) -> dict[str, Any]:
    """An SDK answer as the API's JSON (the SDK hands back a model, or a dict where it has none)."""
    return answer.model_dump(exclude_none=True) if hasattr(answer, "model_dump") else dict(answer)


def our_rule(props: dict[str, Any]) -> dict[str, Any]:
    return {"ref": RULE_REF, "action": "rewrite", "expression": props["expression"],
            "description": props["description"], "enabled": True,
            "action_parameters": {"headers": {props["header_name"]: {"operation": "set",
                                                                      "value": props["header_value"]}}}}


def their_rules(entrypoint: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The zone's own rules as read, without ours and without the fields only the API sets."""
    if entrypoint is None:
        return []
    return [{k: v for k, v in rule.items() if k not in READ_ONLY}
            for rule in entrypoint.get("rules") or [] if rule.get("ref") != RULE_REF]


class SharedTransformRuleProvider(CloudflareCallingProvider):
    """Create and update put our rule in the entrypoint; delete takes it out; nothing else is touched."""

    serialize_as_secret_always = True  # the outputs carry the header value

    def _api(self) -> CloudflareApi:
        return self.api(permission="Zone · Transform Rules edit", refused=SharedTransformRuleError,
                        needs="the origin-authentication rule is kept in the zone's request-header Transform "
                              "Rules through the API")

    def _entrypoint(self, api: CloudflareApi, zone_id: str) -> dict[str, Any] | None:
        found = api.call(lambda: api.client.rulesets.phases.get(PHASE, zone_id=zone_id),
                         f"reading the zone's {PHASE} rules", missing_ok=True)
        return None if found is None else _as_dict(found)

    def _put(self, api: CloudflareApi, zone_id: str, entrypoint: dict[str, Any] | None,
             rules: list[dict[str, Any]]) -> dict[str, Any]:
        name = entrypoint.get("name") if entrypoint else NEW_ENTRYPOINT_NAME
        options: dict[str, Any] = {"name": name}
        if entrypoint and entrypoint.get("description") is not None:
            options["description"] = entrypoint["description"]
        answer = api.call(lambda: api.client.rulesets.phases.update(PHASE, zone_id=zone_id, rules=rules, **options),
                          f"writing the zone's {PHASE} rules")
        return _as_dict(answer)

    def _place(self, props: dict[str, Any]) -> dict[str, Any]:
        api = self._api()
        try:
            entrypoint = self._entrypoint(api, props["zone_id"])
            if entrypoint is not None and entrypoint.get("name") == OWNED_RULESET_NAME:
                raise SharedTransformRuleError(
                    f"the zone's {PHASE} entrypoint is {OWNED_RULESET_NAME!r}, the one this stack makes with "
                    "saas-domains:transformRules own: switching this stack to shared would delete it (and this "
                    "rule) once the own one is removed. Keep transformRules own for this zone.")
            written = self._put(api, props["zone_id"], entrypoint, [*their_rules(entrypoint), our_rule(props)])
        except CloudflareApiError as err:
            raise SharedTransformRuleError(f"{err}; nothing else in the zone's Transform Rules was changed") from None
        rule = next((r for r in written.get("rules") or [] if r.get("ref") == RULE_REF), None)
        if rule is None:
            raise SharedTransformRuleError(f"Cloudflare's answer holds no rule {RULE_REF!r}: run the command again")
        return {**{key: props[key] for key in INPUTS}, "ruleset_id": written.get("id"), "rule_id": rule.get("id")}

    @said_plainly(SharedTransformRuleError)
    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outputs = self._place(props)
        return dynamic.CreateResult(f"{props['zone_id']}/{RULE_REF}", outputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(changed), replaces=["zone_id"] if "zone_id" in changed else [],
                                  delete_before_replace=True)

    @said_plainly(SharedTransformRuleError)
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._place(news))

    @said_plainly(SharedTransformRuleError)
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        api = self._api()
        try:
            entrypoint = self._entrypoint(api, props["zone_id"])
            if entrypoint is None or not any(r.get("ref") == RULE_REF for r in entrypoint.get("rules") or []):
                return  # nothing of ours left: the zone's rules are as the zone made them
            self._put(api, props["zone_id"], entrypoint, their_rules(entrypoint))
        except CloudflareApiError as err:
            raise SharedTransformRuleError(f"{err}; the rule {RULE_REF!r} may still be in the zone: run the "
                                           "same pulumi command again") from None


class SharedTransformRule(dynamic.Resource):
    """Our one request-header rule in the zone's existing entrypoint (inputs: INPUTS, the value a secret)."""

    ruleset_id: pulumi.Output[str]
    rule_id: pulumi.Output[str]

    def __init__(self, name: str, *, zone_id: pulumi.Input[str], expression: str, description: str,
                 header_name: str, header_value: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(SharedTransformRuleProvider(), name, {
            "zone_id": zone_id, "expression": expression, "description": description,
            "header_name": header_name, "header_value": pulumi.Output.secret(header_value),
            "ruleset_id": None, "rule_id": None}, opts)
