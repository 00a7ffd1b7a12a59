"""End to end, against the real clouds: deploy a throw-away stack, reach the test hostname through Cloudflare,
fail to reach the ALB around it, destroy. Skipped (reason printed by -ra) without credentials; see harness.py
for the variables and docs/contributors.md "End-to-end test" for the set-up. Run alone with `pytest tests/e2e -m e2e`.

The tests share one deployment (a module fixture) and run in file order; the stack is destroyed and removed
in the fixture's teardown whatever happened, also when `up` itself failed half-way.
"""

from __future__ import annotations

import os

import pytest

from infra.clients.cloudflare import CloudflareApi
from tests.e2e.harness import (
    E2EConfig,
    cloudflare_answer_problem,
    config_from_environment,
    describe_hostname,
    direct_attempts,
    direct_refusal_problem,
    edge_not_ready,
    find_hostname,
    gate,
    hostname_live,
    hostname_problem,
    https_get,
    live_reporter,
    wait_for,
)
from tests.e2e.stack import ThrowawayStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report(pytestconfig):
    """Progress lines straight to the terminal, also while pytest captures output: waits take minutes."""
    return live_reporter(pytestconfig)


@pytest.fixture(scope="module")
def e2e() -> E2EConfig:
    verdict = gate(os.environ)
    if not verdict.run:
        if verdict.fail:
            pytest.fail(verdict.reason, pytrace=False)
        pytest.skip(verdict.reason)
    return config_from_environment(os.environ)


@pytest.fixture(scope="module")
def deployed(e2e, report) -> dict:
    stack = ThrowawayStack(e2e, report=report)
    try:
        outputs = stack.deploy()
        report(f"outputs: albDnsName={outputs.get('albDnsName')} zoneId={outputs.get('zoneId')}")
        yield outputs
    finally:
        stack.tear_down()


def test_the_stack_declares_the_test_hostname(e2e, deployed):
    assert e2e.hostname in deployed["customerHostnames"]
    assert deployed["customerHostnames"][e2e.hostname]["cname"]["target"] == e2e.cname_target
    assert deployed["albDnsName"] and deployed["zoneId"]


def test_custom_hostname_and_certificate_become_active(e2e, deployed, report):
    api = CloudflareApi.from_environment(notify=report)
    item = wait_for(
        lambda: find_hostname(api.custom_hostnames(deployed["zoneId"], hostname=e2e.hostname), e2e.hostname),
        what=e2e.hostname, done=hostname_live,
        describe=lambda i: describe_hostname(i, e2e.cname_target),
        problem=lambda i: hostname_problem(i, e2e.cname_target),
        timeout=e2e.active_timeout, interval=e2e.poll_interval, report=report)
    assert hostname_live(item)


def test_the_hostname_answers_through_cloudflare_past_origin_authentication(e2e, deployed, report):
    """The ALB's own answer (by default its 503 for an empty target group), relayed by Cloudflare.

    Without origin authentication the ALB would answer its fixed 403 instead of forwarding; the TLS
    handshake verifies that Cloudflare serves a valid certificate for the hostname.
    """
    answer = wait_for(
        lambda: https_get(e2e.hostname, timeout=20), what=f"https://{e2e.hostname}/",
        done=lambda a: edge_not_ready(a) is None, describe=lambda a: edge_not_ready(a) or a.summary(),
        timeout=e2e.answer_timeout, interval=e2e.poll_interval, report=report)
    problem = cloudflare_answer_problem(answer, e2e.expect_status, e2e.expect_body)
    assert problem is None, problem


def test_the_alb_refuses_a_request_that_bypasses_cloudflare(e2e, deployed, report):
    """Straight to every ALB address with the customer's Host: no answer within a few seconds.

    Runs after the request through Cloudflare, which proved this machine can make HTTPS requests at all.
    """
    attempts = direct_attempts(deployed["albDnsName"], e2e.hostname, timeout=e2e.direct_timeout)
    for attempt in attempts:
        report(f"direct to the ALB at {attempt.address}: {attempt.answer.summary()}")
    problem = direct_refusal_problem(attempts)
    assert problem is None, problem
