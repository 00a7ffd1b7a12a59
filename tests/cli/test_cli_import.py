"""`saas-domains import`: hand-made custom hostnames into customers.yaml and a `pulumi import` file."""

from __future__ import annotations

import json
import shutil

import pytest

from infra.model.customers import EntryOverrides, ValidationRules, parse_customers
from infra.offline import render
from infra.operations import import_plan
from tests.cli.helpers import run_cli
from tests.conftest import EXAMPLE_CUSTOMERS, PROJECT_ROOT
from tests.fakes.cloudflare import ZONE_ID, custom_hostname

# fixtures: cloudflare_api (the local API), fresh_dns (the local DNS server), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]

EXAMPLE = EXAMPLE_CUSTOMERS.read_text()  # what the `project` fixture's customers.yaml holds
FALLBACK = {"origin": "proxy-fallback.mailito.com", "status": "active", "errors": []}
IMPORTED = """
  # imported from Cloudflare by `saas-domains import`; review the ids and grouping
  - id: example-co-uk
    hostnames:
      - shop.example.co.uk
    metadata: {plan: "pro"}

  - id: example-com
    hostnames:
      - shop.example.com
      - www.example.com

  - id: example-com-2
    hostnames:
      - secure.example.com
    ssl: {min_tls_version: "1.3"}
"""


def hand_made_zone(fake) -> None:
    """The example file's mkdev hostname, four made in the dashboard, and some that cannot be adopted."""
    fake.fallback = dict(FALLBACK)
    fake.dns = [{"id": "rec-fallback", "name": "proxy-fallback.mailito.com", "type": "CNAME", "content": "alb"},
                {"id": "rec-wildcard", "name": "*.cname.mailito.com", "type": "CNAME",
                 "content": "proxy-fallback.mailito.com"}]
    tls13 = {"min_tls_version": "1.3", "http2": "on", "tls_1_3": "on", "early_hints": "off"}
    fake.hostnames = [
        custom_hostname("mail.mkdev.me", hostname_id="id-mkdev"),
        custom_hostname("www.example.com", hostname_id="id-www"),
        custom_hostname("Shop.Example.com", hostname_id="id-shop", status="pending"),
        custom_hostname("secure.example.com", hostname_id="id-secure", ssl_settings=tls13),
        custom_hostname("shop.example.co.uk", hostname_id="id-uk", custom_metadata={"plan": "pro"}),
        custom_hostname("old.example.org", status="pending_deletion"),
        custom_hostname("app.mailito.com"),
    ]


def test_import_appends_grouped_customers_keeping_the_file_and_writes_the_pulumi_import_file(
        project, cloudflare_api, capsys):
    hand_made_zone(cloudflare_api)
    result = run_cli(capsys, "import")
    assert result.code == 0, result.err
    assert (project / "customers.yaml").read_text() == EXAMPLE + IMPORTED
    document = json.loads((project / "Pulumi.dev.import.json").read_text())
    hostname = "cloudflare:index/customHostname:CustomHostname"
    assert document == {"resources": [
        {"type": "saas-domains:index:CustomerHostnames", "name": "customers", "component": True},
        {"type": hostname, "name": "mail.mkdev.me", "id": f"{ZONE_ID}/id-mkdev", "parent": "customers"},
        {"type": hostname, "name": "secure.example.com", "id": f"{ZONE_ID}/id-secure", "parent": "customers"},
        {"type": hostname, "name": "shop.example.co.uk", "id": f"{ZONE_ID}/id-uk", "parent": "customers"},
        {"type": hostname, "name": "shop.example.com", "id": f"{ZONE_ID}/id-shop", "parent": "customers"},
        {"type": hostname, "name": "www.example.com", "id": f"{ZONE_ID}/id-www", "parent": "customers"},
        {"type": "saas-domains:index:Edge", "name": "edge", "component": True},
        {"type": "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin",
         "name": "edge-fallback-origin", "id": ZONE_ID, "parent": "edge"},
        {"type": "cloudflare:index/dnsRecord:DnsRecord", "name": "edge-fallback", "id": f"{ZONE_ID}/rec-fallback",
         "parent": "edge"},
        {"type": "cloudflare:index/dnsRecord:DnsRecord", "name": "edge-customer-wildcard",
         "id": f"{ZONE_ID}/rec-wildcard", "parent": "edge"},
    ]}
    lines = result.out.splitlines()
    assert "  skipped old.example.org: being deleted in Cloudflare (pending_deletion)" in lines
    assert "  skipped app.mailito.com: inside the SaaS zone mailito.com" in lines
    assert "Wrote customers.yaml and Pulumi.dev.import.json (8 resources). Next:" in lines
    assert ("  pulumi import --stack dev --file Pulumi.dev.import.json --protect=false --generate-code=false"
            in lines)


def test_the_import_file_names_exactly_the_resources_the_program_declares(project, cloudflare_api, capsys):
    """Same type, name and parent component as the real program renders them, so `pulumi up` adopts them."""
    hand_made_zone(cloudflare_api)
    assert run_cli(capsys, "import").code == 0
    rendering = render(project, "dev")
    types = {r.urn: r.type for r in rendering.resources}
    declared = {(r.type, r.name, types.get(r.parent)) for r in rendering.resources}
    document = json.loads((project / "Pulumi.dev.import.json").read_text())
    named = {r["name"]: r["type"] for r in document["resources"]}
    for resource in document["resources"]:
        parent_type = named.get(resource.get("parent"))  # components: the stack, which renders as None
        assert (resource["type"], resource["name"], parent_type) in declared


def test_running_import_again_adds_nothing_and_keeps_every_hostname_in_the_import_file(project, cloudflare_api,
                                                                                         capsys):
    hand_made_zone(cloudflare_api)
    run_cli(capsys, "import")
    first = (project / "Pulumi.dev.import.json").read_text()
    edited = (project / "customers.yaml").read_text()
    result = run_cli(capsys, "import")
    assert result.code == 0
    assert (project / "customers.yaml").read_text() == edited
    assert (project / "Pulumi.dev.import.json").read_text() == first
    assert "No custom hostname to adopt: customers.yaml already declares every one in Cloudflare." in result.out


def test_dry_run_writes_nothing(project, cloudflare_api, capsys):
    hand_made_zone(cloudflare_api)
    result = run_cli(capsys, "import", "--dry-run", "--json")
    assert result.code == 0
    assert (project / "customers.yaml").read_text() == EXAMPLE
    assert not (project / "Pulumi.dev.import.json").exists()
    report = json.loads(result.out)
    assert [(a["hostname"], a["customer"], a["new_customer"]) for a in report["adopted"]] == [
        ("shop.example.co.uk", "example-co-uk", True), ("shop.example.com", "example-com", True),
        ("www.example.com", "example-com", True), ("secure.example.com", "example-com-2", True)]
    assert report["customers_file_changed"] is False and report["resources_to_import"] == 8


def test_one_named_customer_takes_them_all_and_an_existing_one_is_extended(project, cloudflare_api, capsys):
    hand_made_zone(cloudflare_api)
    cloudflare_api.hostnames = cloudflare_api.hostnames[:3]  # mkdev's, www and shop at example.com
    result = run_cli(capsys, "import", "--customer", "acme", "--only-new")
    assert result.code == 0
    assert "    hostnames:\n      - mail.acme-corp.com\n      - newsletter.acme-corp.com\n      - shop.example.com\n" \
           "      - www.example.com\n" in (project / "customers.yaml").read_text()
    names = [r["name"] for r in json.loads((project / "Pulumi.dev.import.json").read_text())["resources"]]
    assert "mail.mkdev.me" not in names and "www.example.com" in names


def test_grouping_by_hostname_or_by_a_metadata_key(project, cloudflare_api, capsys):
    cloudflare_api.hostnames = [custom_hostname("a.example.com", custom_metadata={"customer": "Initech"}),
                                custom_hostname("b.example.com", custom_metadata={"customer": "Initech"}),
                                custom_hostname("c.example.com")]
    report = json.loads(run_cli(capsys, "import", "--dry-run", "--json", "--group-by", "metadata:customer").out)
    assert [(a["hostname"], a["customer"]) for a in report["adopted"]] == [
        ("c.example.com", "example-com"), ("a.example.com", "initech"), ("b.example.com", "initech")]
    report = json.loads(run_cli(capsys, "import", "--dry-run", "--json", "--group-by", "hostname").out)
    assert [a["customer"] for a in report["adopted"]] == ["a-example-com", "b-example-com", "c-example-com"]
    result = run_cli(capsys, "import", "--group-by", "colour")
    assert result.code == 2 and "unknown grouping rule 'colour'" in result.err


def test_settings_the_file_cannot_express_are_reported_as_changes(project, cloudflare_api, capsys):
    cloudflare_api.hostnames = [custom_hostname("legacy.example.com", ssl_settings={"min_tls_version": "1.0"})]
    result = run_cli(capsys, "import")
    assert result.code == 0
    assert "  - legacy.example.com: ssl.min_tls_version is '1.0' in Cloudflare, the file gives '1.2'" in result.out
    assert "min_tls_version" not in (project / "customers.yaml").read_text().split("legacy.example.com")[1]


def test_an_import_that_would_break_validation_writes_nothing(project, cloudflare_api, capsys):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("maxHostnames: 5000", "maxHostnames: 5"))
    hand_made_zone(cloudflare_api)
    result = run_cli(capsys, "import")
    assert result.code == 1
    assert "the import would make the customers file invalid" in result.err
    assert "8 hostnames in total is more than the cap of 5" in result.err
    assert (project / "customers.yaml").read_text() == EXAMPLE
    assert not (project / "Pulumi.dev.import.json").exists()


def test_a_compact_file_keeps_its_own_indentation(project, cloudflare_api, capsys):
    compact = "customers:\n- id: mkdev   # first\n  hostnames: [mail.mkdev.me]\n"
    (project / "customers.yaml").write_text(compact)
    cloudflare_api.hostnames = [custom_hostname("www.example.com")]
    assert run_cli(capsys, "import").code == 0
    assert (project / "customers.yaml").read_text() == compact + (
        "\n# imported from Cloudflare by `saas-domains import`; review the ids and grouping\n"
        "- id: example-com\n  hostnames:\n  - www.example.com\n")


def test_a_hostname_whose_settings_the_file_cannot_hold_is_skipped_with_why_and_the_rest_adopted(
        project, cloudflare_api, capsys):
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.hostnames = [
        custom_hostname("www.example.com", hostname_id="id-www"),
        custom_hostname("odd.example.net", hostname_id="id-odd", custom_origin_server="not a hostname"),
        custom_hostname("wild.example.org", hostname_id="id-wild", ssl_wildcard=True),  # over HTTP: refused
    ]
    result = run_cli(capsys, "import", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [a["hostname"] for a in report["adopted"]] == ["www.example.com"]
    reasons = {s["hostname"]: s["reason"] for s in report["skipped"]}
    assert reasons["odd.example.net"].startswith("its settings in Cloudflare cannot be written in the customers "
                                                 "file: origin 'not a hostname'")
    assert "ssl.wildcard: true requires ssl.method 'txt'" in reasons["wild.example.org"]
    assert "www.example.com" in (project / "customers.yaml").read_text()
    assert "odd.example.net" not in (project / "customers.yaml").read_text()
    assert run_cli(capsys, "validate").code == 0


def test_what_a_new_entry_needs_is_the_models_entry_overrides_and_the_validator_reads_it_back():
    """One class for an entry's own ssl keys, metadata and origin: the importer writes it, validation reads it."""
    rules = ValidationRules("mailito.com")
    text = 'defaults:\n  metadata: {plan: "free"}\ncustomers:\n  - id: acme\n    hostnames: [acme.example]\n'
    defaults = parse_customers(text, rules).hostnames[0]
    live = custom_hostname("shop.example.com", ssl_settings={"min_tls_version": "1.3"},
                           custom_metadata={"plan": "free", "tier": "gold"}, custom_origin_server="eu.mailito.com")
    needed = import_plan.needed_overrides(live, defaults)
    assert needed == EntryOverrides(ssl=(("min_tls_version", "1.3"),), metadata=(("tier", "gold"),),
                                    origin="eu.mailito.com")
    adopted = parse_customers(import_plan.plan_import(text, "customers.yaml", rules, [live]).text, rules)
    entry = next(h for h in adopted.hostnames if h.hostname == "shop.example.com")
    assert (entry.ssl.min_tls_version, entry.metadata_dict, entry.origin) == (
        "1.3", {"plan": "free", "tier": "gold"}, "eu.mailito.com")


CLOUD_RUN_EDGE = [
    {"id": "rec-a", "name": "proxy-fallback.mailito.com", "type": "A", "content": "203.0.113.10"},
    {"id": "rec-aaaa", "name": "proxy-fallback.mailito.com", "type": "AAAA", "content": "2001:db8::10"},
    {"id": "rec-wildcard", "name": "*.cname.mailito.com", "type": "CNAME", "content": "proxy-fallback.mailito.com"},
]


def test_a_cloud_run_stack_adopts_its_a_and_aaaa_fallback_records(project, cloudflare_api, capsys):
    """The Cloud Run origin's fallback record is an A (`edge-fallback`) and an AAAA (`edge-fallback-ipv6`)
    record holding the load balancer's addresses, not the ALB's CNAME: import looks them up by type."""
    shutil.copy(PROJECT_ROOT / "Pulumi.gcp-example.yaml", project / "Pulumi.gcp-example.yaml")
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.dns = list(CLOUD_RUN_EDGE)
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me", hostname_id="id-mkdev")]
    result = run_cli(capsys, "import", "--stack", "gcp-example", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["dns_records"] == ["edge-customer-wildcard", "edge-fallback", "edge-fallback-ipv6"]
    document = json.loads((project / "Pulumi.gcp-example.import.json").read_text())
    records = {r["name"]: r["id"] for r in document["resources"] if r["type"] == "cloudflare:index/dnsRecord:DnsRecord"}
    assert records == {"edge-fallback": f"{ZONE_ID}/rec-a", "edge-fallback-ipv6": f"{ZONE_ID}/rec-aaaa",
                       "edge-customer-wildcard": f"{ZONE_ID}/rec-wildcard"}
    assert all(r["parent"] == "edge" for r in document["resources"] if r["name"] in records)


def test_a_cloud_run_import_file_names_the_records_the_program_declares_with_their_types(
        project, cloudflare_api, capsys):
    """Same name, parent and record type as the Cloud Run stack renders them, so `pulumi up` adopts them."""
    shutil.copy(PROJECT_ROOT / "Pulumi.gcp-example.yaml", project / "Pulumi.gcp-example.yaml")
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.dns = list(CLOUD_RUN_EDGE)
    assert run_cli(capsys, "import", "--stack", "gcp-example").code == 0
    document = json.loads((project / "Pulumi.gcp-example.import.json").read_text())
    rendering = render(project, "gcp-example")
    edge = next(r.urn for r in rendering.resources if r.type == "saas-domains:index:Edge")
    declared = {r.name: r.inputs["type"] for r in rendering.of_type("cloudflare:index/dnsRecord:DnsRecord")
                if r.parent == edge}
    types = {record["id"]: record["type"] for record in CLOUD_RUN_EDGE}
    adopted = {r["name"]: types[r["id"].split("/")[1]] for r in document["resources"]
               if r["type"] == "cloudflare:index/dnsRecord:DnsRecord"}
    assert adopted == declared == {"edge-fallback": "A", "edge-fallback-ipv6": "AAAA",
                                   "edge-customer-wildcard": "CNAME"}


def test_each_origin_adopts_only_its_own_kind_of_fallback_record(project, cloudflare_api, capsys):
    """An ALB stack does not take the load balancer's A record for its CNAME, nor a Cloud Run stack the
    ALB's CNAME for its A record: `pulumi import` would adopt a record of the wrong type."""
    shutil.copy(PROJECT_ROOT / "Pulumi.gcp-example.yaml", project / "Pulumi.gcp-example.yaml")
    cloudflare_api.fallback = dict(FALLBACK)
    cloudflare_api.dns = list(CLOUD_RUN_EDGE)
    report = json.loads(run_cli(capsys, "import", "--dry-run", "--json").out)  # stack dev: the ALB
    assert report["dns_records"] == ["edge-customer-wildcard"]
    hand_made_zone(cloudflare_api)  # the ALB's CNAME and the wildcard
    report = json.loads(run_cli(capsys, "import", "--stack", "gcp-example", "--dry-run", "--json").out)
    assert report["dns_records"] == ["edge-customer-wildcard"]
    assert [(r[0], r[2]) for r in import_plan.EDGE_RECORD_LOOKUPS["gcp-cloud-run"]] == [
        ("edge-fallback", "A"), ("edge-fallback-ipv6", "AAAA"), ("edge-customer-wildcard", "CNAME")]


def test_an_external_origin_stack_adopts_its_cname_fallback_record(project, cloudflare_api, capsys):
    """`origin: external`: the fallback record is a CNAME (to originHostname), adopted like the ALB's."""
    shutil.copy(PROJECT_ROOT / "Pulumi.external-example.yaml", project / "Pulumi.external-example.yaml")
    hand_made_zone(cloudflare_api)
    assert run_cli(capsys, "import", "--stack", "external-example").code == 0
    document = json.loads((project / "Pulumi.external-example.import.json").read_text())
    rendering = render(project, "external-example")
    edge = next(r.urn for r in rendering.resources if r.type == "saas-domains:index:Edge")
    declared = {r.name for r in rendering.of_type("cloudflare:index/dnsRecord:DnsRecord") if r.parent == edge}
    adopted = {r["name"] for r in document["resources"] if r["type"] == "cloudflare:index/dnsRecord:DnsRecord"}
    assert adopted == declared == {"edge-fallback", "edge-customer-wildcard"}


@pytest.mark.parametrize("stack", ["shard-example-core", "shard-example-1"])
def test_import_on_a_sharded_zone_is_refused_with_the_way_round(project, cloudflare_api, capsys, stack):
    """One import file adopts into one stack: in a sharded zone it would put every hostname in one place."""
    shutil.copy(PROJECT_ROOT / f"Pulumi.{stack}.yaml", project / f"Pulumi.{stack}.yaml")
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me", hostname_id="id-mkdev")]
    before = (project / "customers.yaml").read_text()
    result = run_cli(capsys, "import", "--stack", stack)
    assert result.code == 2
    assert "run it on a single stack (role all) before sharding, then spread them with `saas-domains reshard`" \
        in result.err
    assert (project / "customers.yaml").read_text() == before and not list(project.glob("*.import.json"))
