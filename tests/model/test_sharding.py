"""Which shard owns a hostname: stable across processes, and consistent (few hostnames move when N changes).

The fractions are measured on 20,000 generated hostnames. For a fraction p the standard deviation of
the measurement is sqrt(p(1-p)/20,000), at most 0.0035; the tolerance is 0.015 (over 4 deviations),
so a correct hash never fails and a non-consistent one (modulo: ~N/(N+1) moved) always does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from infra.model.customers import ValidationRules, load_customers
from infra.model.sharding import hostname_key, jump_hash, shard_of
from tests.conftest import EXAMPLE_CUSTOMERS, PROJECT_ROOT

HOSTNAMES = [f"mail.customer{n:05}.example{n % 7}.com" for n in range(20_000)]
TOLERANCE = 0.015


def moved_fraction(before: int, after: int) -> float:
    return sum(1 for h in HOSTNAMES if shard_of(h, before) != shard_of(h, after)) / len(HOSTNAMES)


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 5, 9, 10, 24])
def test_n_to_n_plus_one_moves_about_one_in_n_plus_one_all_to_the_new_shard(shards):
    moved = [h for h in HOSTNAMES if shard_of(h, shards) != shard_of(h, shards + 1)]
    assert abs(len(moved) / len(HOSTNAMES) - 1 / (shards + 1)) <= TOLERANCE
    assert {shard_of(h, shards + 1) for h in moved} == {shards}  # only the new shard takes hostnames


@pytest.mark.parametrize("shards", [1, 2, 3, 5, 10, 25])
def test_n_to_2n_moves_about_half(shards):
    assert abs(moved_fraction(shards, 2 * shards) - 0.5) <= TOLERANCE


@pytest.mark.parametrize("shards", [3, 10, 25])
def test_shards_are_balanced(shards):
    counts = [0] * shards
    for hostname in HOSTNAMES:
        counts[shard_of(hostname, shards)] += 1
    assert all(abs(c / len(HOSTNAMES) - 1 / shards) <= TOLERANCE for c in counts)


def test_the_assignment_is_the_same_in_another_process_whatever_its_hash_seed():
    sample = HOSTNAMES[:500] + ["mail.mkdev.me", "xn--mnchen-3ya.example.de"]
    here = {h: [shard_of(h, n) for n in (1, 3, 4, 10, 25)] for h in sample}
    script = ("import json, sys; from infra.model.sharding import shard_of; "
              "hs = json.load(sys.stdin); print(json.dumps({h: [shard_of(h, n) for n in (1, 3, 4, 10, 25)] "
              "for h in hs}))")
    for seed in ("0", "12345"):
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps(sample), capture_output=True,
                              text=True, check=True, cwd=PROJECT_ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert json.loads(done.stdout) == here


def test_the_key_is_the_first_8_bytes_of_the_sha256():
    # sha256("mail.mkdev.me"), first 8 bytes, big-endian: a value any other implementation can check
    assert hostname_key("mail.mkdev.me") == int(hashlib.sha256(b"mail.mkdev.me").hexdigest()[:16], 16)
    assert all(jump_hash(hostname_key(h), 1) == 0 for h in HOSTNAMES[:100])
    with pytest.raises(ValueError, match="at least 1"):
        jump_hash(1, 0)


def test_the_example_file_over_three_shards():
    customers = load_customers(EXAMPLE_CUSTOMERS, ValidationRules(zone="mailito.com"))
    assignment = {h.hostname: shard_of(h.hostname, 3) for h in customers.hostnames}
    assert assignment == {"mail.acme-corp.com": 1, "mail.mkdev.me": 1, "newsletter.acme-corp.com": 0,
                          "post.globex.io": 2}
