"""What the keys of identity.keyring cost per call, on one core: the caller pseudonym (every USSD request), sealing
and unsealing a number (imports, broadcasts, the worker), report text, and a PIN hash (the PIN screen only).

``pseudonym before`` is the implementation this replaced (a BLAKE2b keyed anew on every call); ``pseudonym`` the
pre-keyed copy the hot path uses now. Run: ``.venv/bin/python bench/keyring_cost.py``.
"""

from __future__ import annotations

import hashlib
import timeit

from identity.keyring import Keyring

PHONE = "+254711000001"


def per_call_us(fn: object, number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))  # type: ignore[arg-type]
    return best / number * 1e6


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


if __name__ == "__main__":
    main()
