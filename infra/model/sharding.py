"""Which shard stack owns a hostname: a pure function of the normalised hostname and the shard count.

The same in the program, the CLI and CI, on every machine and in every process: the key is the first
8 bytes of the SHA-256 of the normalised hostname (never Python's `hash`, which is salted per process),
and the shard is the jump consistent hash of that key (Lamping and Veach, "A Fast, Minimal Memory,
Consistent Hash Algorithm", 2014). Going from N to N+1 shards moves only the hostnames the new shard
takes, about 1/(N+1) of them; every other hostname stays where it was.
"""

from __future__ import annotations

import hashlib

_MULTIPLIER = 2862933555777941757
_MASK = (1 << 64) - 1


def hostname_key(hostname: str) -> int:
    """A stable 64-bit key of a normalised hostname."""
    return int.from_bytes(hashlib.sha256(hostname.encode("utf-8")).digest()[:8], "big")


def jump_hash(key: int, buckets: int) -> int:
    """Lamping and Veach's jump consistent hash: a bucket in [0, buckets)."""
    if buckets < 1:
        raise ValueError(f"the number of shards must be at least 1, got {buckets}")
    key &= _MASK
    bucket, jump = -1, 0
    while jump < buckets:
        bucket = jump
        key = (key * _MULTIPLIER + 1) & _MASK
        jump = int((bucket + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return bucket


def shard_of(hostname: str, shards: int) -> int:
    """The shard (0-based) that declares `hostname` when the zone's customers are spread over `shards` stacks."""
    return jump_hash(hostname_key(hostname), shards)
