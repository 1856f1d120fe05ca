"""The failover tests' cluster itself: etcd and two Patroni nodes come up as a primary and a synchronous replica
with synchronous_commit on, the multi-host URL finds the primary, and stopping leaves no process behind."""

from __future__ import annotations

import psutil
import psycopg
import pytest

from tests.faults.patroni import Cluster


def processes_in(folder: str) -> list[psutil.Process]:
    """Every process whose command line names the cluster's folder (etcd, Patroni, PostgreSQL's postmasters)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(folder in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.mark.timeout(180)
def test_a_primary_and_a_synchronous_replica_and_nothing_left_after_stop() -> None:
    cluster = Cluster(2)
    try:
        cluster.start()
        primary = cluster.wait_until_healthy()
        replica = next(node for node in cluster.nodes if node is not primary)
        with psycopg.connect(cluster.url(), connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT inet_server_port(), pg_is_in_recovery(), current_setting('synchronous_commit'),"
                " current_setting('synchronous_standby_names')"
            ).fetchone()
        assert row == (primary.port, False, "on", replica.name)
        assert processes_in(str(cluster.folder))
    finally:
        cluster.stop()
    assert not processes_in(str(cluster.folder))
    assert not cluster.folder.exists()
