"""The contract harness can fail: the spec reading, the field watcher and Prism's validation catch what they must."""

from __future__ import annotations

import random
import urllib.request

from tests.contract.conftest import CORRUPT, SCENARIOS
from tests.contract.spec import Reads, Spec

LIST = "/zones/{zone_id}/custom_hostnames"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


def get(base_url: str, path: str) -> int:
    request = urllib.request.Request(base_url + path, headers={"Authorization": "Bearer contract-test-token"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_request_paths_find_their_operation_literal_segments_first():
    spec = Spec.load()
    assert spec.route(f"/zones/{ZONE}/custom_hostnames/fallback_origin") == LIST + "/fallback_origin"
    assert spec.route(f"/zones/{ZONE}/custom_hostnames/abc") == LIST + "/{custom_hostname_id}"
    assert spec.route(f"/zones/{ZONE}/custom_hostnames") == LIST
    assert spec.route("/accounts") is None


def test_a_list_answer_needs_only_success_errors_and_messages():
    shape = Spec.load().shape(Spec.load().answer_schema(LIST))
    assert shape.required == {"success", "errors", "messages"}
    assert {"result", "result_info"} <= set(shape.properties)


def test_thinning_drops_only_optional_fields():
    spec = Spec.load()
    answer = {"success": True, "errors": [], "messages": [], "result_info": {"page": 1, "total_pages": 1},
              "result": [{"id": "x", "hostname": "a.example", "status": "active", "ssl": {"status": "active"}}]}
    seen_without = set()
    for seed in range(40):
        thinned = spec.thin(answer, spec.answer_schema(LIST), random.Random(seed))
        assert {"success", "errors", "messages"} <= set(thinned)
        for item in thinned.get("result", []):
            assert {"id", "hostname"} <= set(item)  # required in a custom hostname
        seen_without |= {k for k in ("result", "result_info") if k not in thinned}
    assert seen_without == {"result", "result_info"}


def test_reading_a_field_the_spec_does_not_define_is_recorded():
    spec = Spec.load()
    reads = Reads(spec)
    item = reads.watch({"id": "x", "hostname": "a.example", "ssl": {"status": "active"},
                        "custom_metadata": {"customer": "acme"}}, spec.item_schema(LIST), "custom_hostname")
    assert item["ssl"].get("status") == "active"
    assert item.get("custom_metadata").get("customer") == "acme"  # an open map: any key is defined
    assert item.get("certificate_status") is None and item["ssl"].get("validation_state") is None
    assert reads.undefined == {"custom_hostname.certificate_status", "custom_hostname.ssl.validation_state"}
    assert "custom_hostname.ssl.status" in reads.read


def test_prism_reports_a_request_outside_the_spec(contract_network):
    api = contract_network[SCENARIOS[0].name]
    before = len(api.exchanges)
    get(api.base_url, f"/zones/{ZONE}/custom_hostnames?per_page=1001")  # the spec's maximum is 1000
    assert any("per_page must be <= 1000" in v for v in api.violations(before))


def test_an_answer_made_invalid_is_reported_and_blamed_on_the_shaper(contract_network):
    api = contract_network[CORRUPT.name]
    get(api.base_url, f"/zones/{ZONE}/custom_hostnames/fallback_origin")
    assert any("must have required property 'success'" in v for v in api.violations())


def test_prism_s_own_invalid_examples_are_told_apart(contract_network):
    api = contract_network[SCENARIOS[0].name]  # static: the DNS record example lacks id, meta...
    before = len(api.exchanges)
    get(api.base_url, f"/zones/{ZONE}/dns_records?name.exact=proxy-fallback.mailito.com&type=CNAME")
    assert api.violations(before) == []
    assert any("required property 'id'" in v for v in api.spec_inconsistencies())
