"""The fault server itself, seen from a raw socket: each fault does what tests/fakes/faults.py says, so the
client tests that rely on it measure what they claim to."""

from __future__ import annotations

import socket
import time

import pytest

from tests.fakes.cloudflare import FakeCloudflare
from tests.fakes.faults import Fault, faulty_cloudflare

REQUEST = b"GET /client/v4/zones HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer test-token-0123456789\r\n\r\n"


def address(url: str) -> tuple[str, int]:
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, int(port)


def ask(url: str, seconds: float = 2.0, limit: int = 10**6) -> tuple[bytes, str]:
    """What a raw client reads in `seconds` (at most `limit` bytes), and how the reading ended."""
    with socket.create_connection(address(url), timeout=seconds) as connection:
        connection.sendall(REQUEST)
        received, ended = b"", "closed"
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and len(received) < limit:
                chunk = connection.recv(65536)
                if not chunk:
                    return received, "closed"
                received += chunk
                if b"\r\n\r\n" in received and b"Content-Length" in received:
                    head, _, body = received.partition(b"\r\n\r\n")
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        return received, "complete"
            ended = "still going"
        except ConnectionResetError:
            ended = "reset"
        except TimeoutError:
            ended = "still going"
        return received, ended


def test_without_a_fault_the_answer_is_the_fakes():
    with faulty_cloudflare(FakeCloudflare(), Fault("trickle", at=2)) as faults:
        received, ended = ask(faults.base_url)
    assert ended == "complete" and b'"name": "mailito.com"' in received


def test_a_trickle_sends_one_byte_per_interval():
    with faulty_cloudflare(FakeCloudflare(), Fault("trickle", interval=0.05)) as faults:
        received, ended = ask(faults.base_url, seconds=0.5)
    assert ended == "still going" and 5 <= len(received) <= 12 and received.startswith(b"HTTP/1.1 2")


def test_an_endless_body_never_ends():
    with faulty_cloudflare(FakeCloudflare(), Fault("endless", interval=0.001)) as faults:
        received, ended = ask(faults.base_url, seconds=3, limit=2_000_000)
    assert ended == "still going" and len(received) >= 2_000_000 and b"Transfer-Encoding: chunked" in received


@pytest.mark.parametrize("kind, status, marker", [
    ("maintenance", b"200", b"<title>Down for maintenance</title>"),
    ("html-error", b"502", b"<h1>502 Bad Gateway</h1>"),
    ("not-object", b"200", b'"not an object"'),
    ("429", b"429", b"Retry-After: 0"),
    ("huge", b"200", b"Content-Length: 1000000000"),
])
def test_a_fixed_answer_replaces_the_fakes(kind, status, marker):
    with faulty_cloudflare(FakeCloudflare(), Fault(kind)) as faults:
        received, _ = ask(faults.base_url, seconds=0.5)
    assert received.startswith(b"HTTP/1.1 " + status) and marker in received


def test_a_truncated_answer_announces_more_than_it_sends():
    with faulty_cloudflare(FakeCloudflare(), Fault("truncated")) as faults:
        received, ended = ask(faults.base_url)
    head, _, body = received.partition(b"\r\n\r\n")
    assert ended == "closed" and int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) == len(body) + 100


def test_a_reset_cuts_the_body_with_a_tcp_reset():
    with faulty_cloudflare(FakeCloudflare(), Fault("reset")) as faults:
        received, ended = ask(faults.base_url)
    assert ended == "reset"


def test_refused_from_the_third_request_on():
    with faulty_cloudflare(FakeCloudflare(), Fault("refused", at=3)) as faults:
        assert ask(faults.base_url)[1] == "complete"
        received, _ = ask(faults.base_url)
        assert b"Connection: close" in received  # the second answer closes its connection, and no more come
        time.sleep(0.05)
        with pytest.raises(ConnectionRefusedError):
            ask(faults.base_url)
