"""A TCP proxy on loopback between a Handoff process and PostgreSQL that breaks connections on purpose.

Each connection is a `Link`; a `Rule` looks at every chunk going up (client to server) and down (server to client)
and says whether to forward it, forward it and then cut the connection (both sides closed, nothing more relayed), or
hold it (never forwarded: the client waits until it is killed). A cut right after a COMMIT went up is an ambiguous
commit: PostgreSQL commits, the client never hears so."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit


class Verdict(Enum):
    FORWARD = "forward"
    FORWARD_THEN_CUT = "forward then cut"
    CUT = "cut"
    HOLD = "hold"


@dataclass
class Link:
    """One proxied connection, with what the rules need to know about it."""

    client: socket.socket
    server: socket.socket
    application_name: str | None = None
    up_since_commit: int = 0
    """Bytes sent up since the last COMMIT (or since the start): how much work the open transaction carried."""
    down: int = 0
    closed: threading.Event = field(default_factory=threading.Event)

    def cut(self) -> None:
        """Close both sides at once."""
        self.closed.set()
        for sock in (self.client, self.server):
            _close(sock)

    def cut_after_send(self) -> None:
        """Close the client's side; half-close the server's, so that what was just sent is read before the end
        (PostgreSQL commits a COMMIT it has read even if it cannot answer)."""
        self.closed.set()
        _close(self.client)
        try:
            self.server.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


Rule = Callable[[Link, bytes], Verdict]


def forward(link: Link, data: bytes) -> Verdict:
    return Verdict.FORWARD


class Proxy:
    """Listens on a free loopback port and relays to PostgreSQL, asking `up` and `down` about every chunk."""

    def __init__(self, database_url: str, up: Rule = forward, down: Rule = forward) -> None:
        self.target = urlsplit(database_url)
        self.up, self.down = up, down
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        user = self.target.netloc.rsplit("@", 1)[0]  # the user and password, as given
        self.url = self.target._replace(netloc=f"{user}@127.0.0.1:{self.port}").geturl()
        self.links: list[Link] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def cut(self, application_prefix: str) -> int:
        """Cut every open connection whose application name starts with the prefix; return how many."""
        with self.lock:
            chosen = [
                link
                for link in self.links
                if not link.closed.is_set() and (link.application_name or "").startswith(application_prefix)
            ]
        for link in chosen:
            link.cut()
        return len(chosen)

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for link in self.links:
                link.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.target.hostname, self.target.port))
            link = Link(client, server)
            with self.lock:
                self.links.append(link)
            threading.Thread(target=self._pump, args=(link, client, server, self._upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, server, client, self._downstream), daemon=True).start()

    def _upstream(self, link: Link, data: bytes) -> Verdict:
        if link.application_name is None and b"user\x00" in data:
            link.application_name = _startup_parameter(data, b"application_name")
        link.up_since_commit += len(data)
        verdict = self.up(link, data)
        if b"COMMIT" in data:
            link.up_since_commit = 0
        return verdict

    def _downstream(self, link: Link, data: bytes) -> Verdict:
        link.down += len(data)
        return self.down(link, data)

    def _pump(self, link: Link, source: socket.socket, sink: socket.socket, judge: Rule) -> None:
        while not link.closed.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            verdict = judge(link, data)
            if verdict is Verdict.CUT:
                break
            if verdict is Verdict.HOLD:
                _drain(source)  # until the client dies: the chunk, and anything after it, never arrives
                break
            try:
                sink.sendall(data)
            except OSError:
                break
            if verdict is Verdict.FORWARD_THEN_CUT:
                link.cut_after_send()
                return
        link.cut()


def _startup_parameter(packet: bytes, name: bytes) -> str:
    """A parameter of the PostgreSQL startup message (NUL-separated name, value pairs), or '' when absent."""
    parts = packet.split(b"\x00")
    for index, part in enumerate(parts[:-1]):
        if part.endswith(name):
            return parts[index + 1].decode(errors="replace")
    return ""
