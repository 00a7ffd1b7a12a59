"""`check` when the network misbehaves: a DNS resolver that does not answer, or answers badly, on the first, a
middle or the last query ends the command with exit 2 in time; a Cloudflare API that misbehaves only leaves
the TXT values uncompared (as the command documents), in time too."""

from __future__ import annotations

import json
import socket

import pytest

from tests.fakes.cloudflare import FakeCloudflare, custom_hostname
from tests.fakes.faults import DNS_FAULTS, Fault, FaultyDns, faulty_cloudflare
from tests.network.matrix import ADVICE, COMMAND, MARGIN, REQUEST, WAITS_FOR_THE_DEADLINE, failures, lowered, timed

# fixtures: project (a copy of the project as the current folder)
pytest_plugins = ["tests.fakes.ops_fixtures"]

ZONE = """
mailito.com. 300 IN SOA ns.mailito.com. dns.mailito.com. 1 3600 600 86400 300
mkdev.cname.mailito.com. 300 IN A 104.16.1.1
mkdev.me. 300 IN SOA ns.mkdev.me. admin.mkdev.me. 1 3600 600 86400 300
mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.
"""
# What `check mail.mkdev.me` asks, in order (7 questions).
QUESTIONS = {"first": (1, "mail.mkdev.me CNAME"), "middle": (4, "mkdev.cname.mailito.com AAAA"),
             "last": (7, "_cf-custom-hostname.mail.mkdev.me TXT")}
QUERY_TIMEOUT = 0.1  # --timeout: a question may take twice that (dnspython's lifetime)


def check(capsys, dns: FaultyDns, *extra: str):
    return timed(capsys, "check", "mail.mkdev.me", "--resolver", dns.resolver_argument, "--timeout",
                 str(QUERY_TIMEOUT), *extra)


def test_the_questions_are_the_ones_the_faults_are_aimed_at(project, capsys):
    with FaultyDns() as dns:
        dns.zone.load(ZONE)
        run = check(capsys, dns, "--no-api")
    assert run.result.code == 0, run.result.out
    asked = [f"{name} {kind}" for _, name, kind in dns.queries]
    assert len(asked) == 7 and all(asked[number - 1] == question for number, question in QUESTIONS.values())


@pytest.mark.parametrize("where", QUESTIONS)
@pytest.mark.parametrize("kind", DNS_FAULTS)
def test_a_resolver_that_fails_ends_check_with_exit_2_in_time(kind, where, project, monkeypatch, capsys):
    lowered(monkeypatch)
    number, question = QUESTIONS[where]
    before = (project / "customers.yaml").read_bytes()
    with FaultyDns(Fault(kind, at=number)) as dns:
        dns.zone.load(ZONE)
        run = check(capsys, dns, "--no-api")
    result = run.result
    assert result.code == 2 and "Traceback" not in result.err + result.out
    message = result.err.strip()
    assert message.startswith(f"saas-domains check: resolver {dns.resolver_argument} failed: the resolver gave no "
                              f"answer for {question}"), message
    assert "DNS resolver" in message and any(advice in message for advice in ADVICE)
    assert run.elapsed < 2 * QUERY_TIMEOUT + MARGIN
    assert (project / "customers.yaml").read_bytes() == before


def test_a_resolver_nobody_listens_on_is_exit_2(project, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = timed(capsys, "check", "mail.mkdev.me", "--no-api", "--resolver", f"127.0.0.1:{port}", "--timeout",
                str(QUERY_TIMEOUT))
    assert run.result.code == 2 and "the resolver gave no answer for mail.mkdev.me CNAME" in run.result.err
    assert run.elapsed < 2 * QUERY_TIMEOUT + MARGIN


def test_the_command_deadline_cuts_a_question_short(project, monkeypatch, capsys):
    """A query timeout of 1 s (2 s a question) in a command of 0.5 s: the silent question gets what is left."""
    lowered(monkeypatch, command=0.5)
    with FaultyDns(Fault("silent", at=4)) as dns:
        dns.zone.load(ZONE)
        run = timed(capsys, "check", "mail.mkdev.me", "--no-api", "--resolver", dns.resolver_argument,
                    "--timeout", "1")
    assert run.result.code == 2
    assert "what was left of the command's deadline of 0.5 s (SAAS_DOMAINS_COMMAND_TIMEOUT)" in run.result.err
    assert "raise SAAS_DOMAINS_COMMAND_TIMEOUT (now 0.5 s)" in run.result.err
    assert 0.4 < run.elapsed < 0.5 + MARGIN


CLOUDFLARE_AT = {"first": (1, "looking up the zone mailito.com"),
                 "last": (2, "looking up the custom hostname mail.mkdev.me")}


@pytest.mark.parametrize("kind, where", [case for case in failures() if case.values[1] != "middle"])
def test_a_cloudflare_fault_leaves_the_txt_values_uncompared_in_time(kind, where, project, monkeypatch, capsys):
    lowered(monkeypatch)
    for variable in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    number, doing = CLOUDFLARE_AT[where]
    fake = FakeCloudflare()
    fake.hostnames = [custom_hostname("mail.mkdev.me")]
    with FaultyDns() as dns, faulty_cloudflare(fake, Fault(kind, at=number)):
        dns.zone.load(ZONE)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", fake.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        run = check(capsys, dns, "--json")
    result = run.result
    assert result.code == 0, result.err  # the DNS is right; only the comparison with Cloudflare is missing
    [note] = [f for f in json.loads(result.out)["findings"] if f["check"] == "cloudflare"]
    assert note["status"] == "warn" and note["message"].startswith("could not read Cloudflare (")
    assert "Cloudflare API" in note["message"] and doing in note["message"], note["message"]
    assert any(advice in note["message"] for advice in ADVICE) and "Traceback" not in result.err
    assert len(dns.queries) == 7  # every question still asked, in the time left
    assert run.elapsed < REQUEST + MARGIN
    if kind in WAITS_FOR_THE_DEADLINE:
        assert REQUEST * 0.9 <= run.elapsed < COMMAND + MARGIN
