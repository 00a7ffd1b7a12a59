"""The shipped examples stay in examples/customers.yaml, read by the example stacks only (issue 19, point 1)."""

from __future__ import annotations

import pytest

from infra.model.customers import CustomersFileError, ValidationRules, load_customers
from infra.model.examples import EXAMPLE_HOSTNAMES, EXAMPLE_STACKS, EXAMPLES_FILE, refuse_examples
from infra.offline import ProgramError, render
from infra.stack_files import read_stack_file
from tests.conftest import EXAMPLE_CUSTOMERS, PROJECT_ROOT, run_stack, stack_config

RULES = ValidationRules(zone="mailito.com")


def test_the_example_sets_are_the_files():
    assert EXAMPLE_CUSTOMERS == PROJECT_ROOT / EXAMPLES_FILE
    assert {h.hostname for h in load_customers(EXAMPLE_CUSTOMERS, RULES).hostnames} == EXAMPLE_HOSTNAMES
    stacks = {p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_ROOT.glob("Pulumi.*.yaml")}
    assert stacks == EXAMPLE_STACKS  # every stack file the repository ships is an example
    for stack in EXAMPLE_STACKS:
        assert read_stack_file(PROJECT_ROOT, stack)["saas-domains:customersFile"] == EXAMPLES_FILE, stack


def test_the_projects_own_customers_file_starts_empty_with_a_template():
    text = (PROJECT_ROOT / "customers.yaml").read_text()
    assert load_customers(PROJECT_ROOT / "customers.yaml", RULES).hostnames == ()
    assert "#   - id: acme" in text and not EXAMPLE_HOSTNAMES & set(text.split())


def test_a_stack_of_your_own_refuses_the_examples_with_their_lines():
    customers = load_customers(EXAMPLE_CUSTOMERS, RULES)
    with pytest.raises(CustomersFileError) as refused:
        refuse_examples(customers, "organization/saas-domains/prod")
    assert len(refused.value.problems) == len(EXAMPLE_HOSTNAMES)
    first = str(refused.value.problems[0])
    assert first.startswith(f"{EXAMPLE_CUSTOMERS}:9: customer 'mkdev': mail.mkdev.me is one of the examples")
    assert "stack organization/saas-domains/prod would create a custom hostname for it" in first
    refuse_examples(customers, "dev")  # an example stack renders them


def test_the_program_refuses_them_before_declaring_anything():
    """So `plan`, `pulumi preview` and `pulumi up` of a stack of your own stop, naming file and line."""
    with pytest.raises(ProgramError, match="mail.mkdev.me is one of the examples this repository ships"):
        render(PROJECT_ROOT, "prod", config=stack_config("dev", customersFile=str(EXAMPLE_CUSTOMERS)))
    assert run_stack("dev", EXAMPLE_CUSTOMERS).of_type("cloudflare:index/customHostname:CustomHostname")


def test_validate_refuses_them_for_a_stack_of_your_own(tmp_path, capsys, monkeypatch):
    from infra.cli import main
    from tests.conftest import copy_example_project

    copy_example_project(tmp_path)
    (tmp_path / "Pulumi.prod.yaml").write_text((tmp_path / "Pulumi.dev.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--stack", "prod", "--no-base"]) == 1
    assert "mail.mkdev.me is one of the examples this repository ships" in capsys.readouterr().err
    assert main(["validate", "--stack", "dev", "--no-base"]) == 0
