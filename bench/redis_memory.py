"""Redis memory per subscriber and per sent message (docs/CAPACITY.md): imports N subscribers through the API's
import path (numbers sealed, 1-2 topics each) and records N provider message ids as a send job does, and prints the
``used_memory`` growth per item with ``MEMORY USAGE`` of one record, its audience-set memberships and one message key.

Needs an empty Redis database to write to (it is flushed before and after):
    .venv/bin/python bench/redis_memory.py redis://127.0.0.1:6379/15 [--n 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from identity.keyring import Keyring  # noqa: E402
from outbox import dlr, keys, subscribers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    conn = Redis.from_url(args.url)
    conn.flushdb()
    keyring = Keyring("bench-secret-" + "x" * 32)
    rnd = random.Random(7)
    n = args.n
    try:
        before = conn.info("memory")["used_memory"]
        rows = [{"phone": f"+25471{i:07d}", "country": "KE", "language": "sw",
                 "topics": rnd.sample(subscribers.TOPICS, rnd.randint(1, 2))} for i in range(n)]
        for i in range(0, n, 10_000):
            subscribers.import_many(conn, keyring, rows[i:i + 10_000])
        imported = conn.info("memory")["used_memory"]
        record = conn.memory_usage(keys.subscriber(keyring.seal(str(rows[0]["phone"]))))
        sets = subscribers.matching_sets(conn, ["KE"], ["sw"], None)
        members = sum(int(conn.scard(name)) for name in sets)
        in_sets = sum(int(conn.memory_usage(name, samples=0) or 0) for name in sets)
        print(f"subscriber: {(imported - before) / n:.0f} B each (record {record} B; {members / n:.2f} "
              f"memberships of {in_sets / members:.0f} B)")
        ids = [f"ATXid_{rnd.getrandbits(128):032x}" for _ in range(n)]
        for i in range(0, n, 500):
            dlr.record_sent(conn, "0123456789abcdef", ids[i:i + 500])
        sent = conn.info("memory")["used_memory"]
        print(f"message id: {(sent - imported) / n:.0f} B each (one key {conn.memory_usage(keys.message(ids[0]))} B)")
    finally:
        conn.flushdb()


if __name__ == "__main__":
    main()
