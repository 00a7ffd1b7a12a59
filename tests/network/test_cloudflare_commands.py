"""`status`, `import` and `instructions` against a Cloudflare API that misbehaves on the first, a middle and
the last request: exit 2 in bounded time with a clear message and no file touched, or, for a transient
fault that strikes once, the same result as without it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.clients import cloudflare as cloudflare_api
from infra.clients.network_limits import MAX_ANSWER_VARIABLE
from tests.fakes.cloudflare import FakeCloudflare, custom_hostname, fallback_origin
from tests.fakes.faults import Fault, faulty_cloudflare
from tests.network.matrix import (
    COMMAND,
    MARGIN,
    REQUEST,
    Files,
    assert_failed_cleanly,
    failures,
    lowered,
    timed,
    transients,
)

# fixtures: project (a copy of the project as the current folder)
pytest_plugins = ["tests.fakes.ops_fixtures"]

DECLARED = ("mail.mkdev.me", "mail.acme-corp.com", "newsletter.acme-corp.com", "post.globex.io")
MADE_BY_HAND = tuple(f"shop{n}.example.net" for n in range(7))  # 11 in all: pages of 5, 5 and 1
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"


class SmallPages(FakeCloudflare):
    """Pages of 5 custom hostnames whatever the client asks for: the client follows the page size the API
    says it used (result_info.per_page), so a listing of 11 has a first, a middle and a last page."""

    def list_hostnames(self, query: dict[str, str]) -> tuple[int, dict, dict]:
        return super().list_hostnames({**query, "per_page": "5"})


def zone() -> SmallPages:
    fake = SmallPages()
    fake.hostnames = [custom_hostname(name) for name in DECLARED + MADE_BY_HAND]
    fake.fallback = fallback_origin("proxy-fallback.mailito.com")
    fake.dns = [{"id": "rec-fallback", "name": "proxy-fallback.mailito.com", "type": "CNAME"},
                {"id": "rec-wildcard", "name": "*.cname.mailito.com", "type": "CNAME"}]
    return fake


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    doing: dict[str, str]  # position -> what the message says was being done
    at: dict[str, int]  # position -> the request number
    requests: int  # requests of a run without faults
    code: int  # exit code of a run without faults
    files: tuple[str, ...]  # files a failed run must leave as they were


ZONE_LOOKUP = "looking up the zone mailito.com"
COMMANDS = {
    # zone, pages 1-3, fallback origin
    "status": Command(("status", "--save-report", "report.json"),
                      {"first": ZONE_LOOKUP, "middle": "listing custom hostnames (page 2)",
                       "last": "reading the fallback origin"},
                      {"first": 1, "middle": 3, "last": 5}, 5, 1, ("report.json", "customers.yaml")),
    # zone, pages 1-3, fallback origin, the fallback record, the wildcard record
    "import": Command(("import",),
                      {"first": ZONE_LOOKUP, "middle": "listing custom hostnames (page 2)",
                       "last": "looking up the CNAME record *.cname.mailito.com"},
                      {"first": 1, "middle": 3, "last": 7}, 7, 0, ("customers.yaml", "Pulumi.dev.import.json")),
    # zone, then one lookup per hostname of the customer
    "instructions": Command(("instructions", "acme"),
                            {"first": ZONE_LOOKUP, "middle": "looking up the custom hostname mail.acme-corp.com",
                             "last": "looking up the custom hostname newsletter.acme-corp.com"},
                            {"first": 1, "middle": 2, "last": 3}, 3, 0, ("customers.yaml",)),
}


@pytest.fixture
def workspace(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The project copy with the files a run could write already there (the last run's)."""
    (project / "report.json").write_text('{"the": "previous report"}\n')
    (project / "Pulumi.dev.import.json").write_text('{"resources": ["the previous import"]}\n')
    for variable in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    yield project


def against(monkeypatch: pytest.MonkeyPatch, fake: FakeCloudflare) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", fake.token)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("kind, where", failures())
def test_a_fault_ends_the_command_in_time_with_a_clear_message_and_writes_nothing(
        name, kind, where, workspace, monkeypatch, capsys):
    command = COMMANDS[name]
    lowered(monkeypatch)
    files = Files.of(workspace, *command.files)
    fake = zone()
    with faulty_cloudflare(fake, Fault(kind, at=command.at[where])) as faults:
        against(monkeypatch, fake)
        run = timed(capsys, *command.argv)
    message = assert_failed_cleanly(run, kind, service="Cloudflare API", doing=command.doing[where], files=files)
    assert_struck_once(faults, kind, command.at[where], message)


def assert_struck_once(faults, kind: str, at: int, message: str) -> None:
    """The fault struck the request it was meant for, and nothing came after it: the first backoff (2 s) would
    pass the command's deadline, so nothing was retried."""
    if kind in ("tls", "dns"):  # the server never hears of it
        assert faults.seen == 0, message
    elif kind == "refused":
        assert faults.seen == at - 1 and faults.spoiled == [], message
    else:
        assert faults.spoiled == [(at, kind)] and faults.seen == at, message


@pytest.mark.parametrize("name, kind, where", [
    pytest.param(name, *case.values, id=f"{case.id}-{name}") for name in COMMANDS for case in transients()
    if name == "status" or case.values[1] == "middle"])  # every request of status; a middle one of the others
def test_a_transient_fault_that_strikes_once_is_retried_and_the_result_is_the_same(
        name, kind, where, workspace, monkeypatch, capsys):
    command = COMMANDS[name]
    lowered(monkeypatch, command=30)
    waits: list[float] = []
    monkeypatch.setattr(cloudflare_api, "wait", waits.append)
    fake = zone()
    with faulty_cloudflare(fake, Fault(kind, at=command.at[where], times=1)) as faults:
        against(monkeypatch, fake)
        run = timed(capsys, *command.argv)
    assert run.result.code == command.code, run.result.err
    assert faults.seen == command.requests + 1 and len(fake.requests) == command.requests + 1
    assert len(waits) == 1 and "attempt 2 of 5" in run.result.err
    assert run.elapsed < (REQUEST if kind == "trickle" else 0) + MARGIN
    if name == "status":
        assert json.loads((workspace / "report.json").read_text())["summary"]["in_cloudflare"] == 11
    if name == "import":
        document = json.loads((workspace / "Pulumi.dev.import.json").read_text())
        assert len([r for r in document["resources"] if r.get("id", "").startswith(ZONE_ID + "/")]) == 11 + 2
        assert all(hostname in (workspace / "customers.yaml").read_text() for hostname in MADE_BY_HAND)


def test_each_request_has_its_deadline_and_the_command_its_own(workspace, monkeypatch, capsys):
    """Every answer comes in 0.15 s, under the request deadline, but five of them take longer than the command's
    deadline: it ends the listing, with the request that ran out of the command's time."""
    lowered(monkeypatch, request=0.25, command=0.5)
    files = Files.of(workspace, "report.json")
    fake = zone()
    with faulty_cloudflare(fake, Fault("slow", interval=0.15)) as faults:
        against(monkeypatch, fake)
        run = timed(capsys, "status", "--save-report", "report.json")
    message = assert_failed_cleanly(run, "slow", service="Cloudflare API", doing="listing custom hostnames",
                                    files=files, bound=0.5 + MARGIN)
    assert "what was left of the command's deadline of 0.5 s (SAAS_DOMAINS_COMMAND_TIMEOUT)" in message
    assert "raise SAAS_DOMAINS_COMMAND_TIMEOUT (now 0.5 s)" in message
    assert run.elapsed >= 0.45 and 2 <= faults.seen < 5


def test_an_endless_body_is_refused_at_the_size_cap_before_the_deadline(workspace, monkeypatch, capsys):
    lowered(monkeypatch, request=5, command=10)
    monkeypatch.setenv(MAX_ANSWER_VARIABLE, "100000")
    files = Files.of(workspace, "report.json")
    fake = zone()
    with faulty_cloudflare(fake, Fault("endless", at=3, interval=0.001)):
        against(monkeypatch, fake)
        run = timed(capsys, "status", "--save-report", "report.json")
    message = assert_failed_cleanly(run, "endless-fast", service="Cloudflare API",
                                    doing="listing custom hostnames (page 2)", files=files, bound=MARGIN)
    assert "the answer is larger than 100,000 bytes (SAAS_DOMAINS_MAX_ANSWER_BYTES)" in message
    assert "raise SAAS_DOMAINS_MAX_ANSWER_BYTES (now 100,000)" in message


def test_a_small_gzip_answer_that_unpacks_past_the_cap_is_refused(workspace, monkeypatch, capsys):
    lowered(monkeypatch, request=5, command=10)
    monkeypatch.setenv(MAX_ANSWER_VARIABLE, "100000")
    fake = zone()
    with faulty_cloudflare(fake, Fault("gzip-bomb", at=2)):
        against(monkeypatch, fake)
        run = timed(capsys, "status")
    assert run.result.code == 2
    assert "listing custom hostnames: the answer is larger than 100,000 bytes" in run.result.err


def test_a_gzip_answer_is_read_like_a_plain_one(workspace, monkeypatch, capsys):
    lowered(monkeypatch, request=5, command=10)
    fake = zone()
    with faulty_cloudflare(fake, Fault("gzip")) as faults:
        against(monkeypatch, fake)
        run = timed(capsys, "status", "--json")
    assert run.result.code == 1, run.result.err
    assert json.loads(run.result.out)["summary"]["in_cloudflare"] == 11
    assert len(faults.spoiled) == 5  # every answer came gzipped


def test_a_bad_limit_in_the_environment_is_a_usage_error(workspace, monkeypatch, capsys):
    monkeypatch.setenv("SAAS_DOMAINS_REQUEST_TIMEOUT", "soon")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    run = timed(capsys, "status")
    assert run.result.code == 2
    assert run.result.err.strip() == ("saas-domains status: SAAS_DOMAINS_REQUEST_TIMEOUT must be a number of seconds "
                                      "above 0, got 'soon'; unset it for the default (30)")


def test_the_limits_raise_the_deadline_again(workspace, monkeypatch, capsys):
    """The same slow answers as above, with the deadlines raised: the command completes."""
    lowered(monkeypatch, request=1, command=COMMAND * 4)
    fake = zone()
    with faulty_cloudflare(fake, Fault("slow", interval=0.15)):
        against(monkeypatch, fake)
        run = timed(capsys, "status", "--save-report", "report.json")
    assert run.result.code == 1, run.result.err
    assert json.loads((workspace / "report.json").read_text())["summary"]["in_cloudflare"] == 11
