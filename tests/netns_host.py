"""Another host on this machine, for the multi-host tests: a network namespace joined to this one
by a veth pair, and the services it may reach listening on this side's veth address only.

- :class:`NetnsHost` makes the namespace (``ip netns add``, a veth pair, a /30 in 10.214.N.0: this
  side .1, the other .2, no route anywhere else) and runs commands in it, each with its own
  mount namespace whose /tmp is private and whose shared directories are bind mounts of this
  side's, at the same paths, as an NFS export would be mounted there.
- :class:`TcpRelay` listens on the veth address and relays to a loopback service. The shared
  PostgreSQL listens on 127.0.0.1 only and must not be reconfigured; the relay plays the
  database host's network listener (the worker connects to 10.214.N.1, as it would to a database
  host's address), and records who connected, so that a test can prove the traffic came from
  the other namespace.

Everything is made by the test and removed afterwards; only processes it started are stopped.
"""
from __future__ import annotations

import os
import shlex
import socket
import subprocess
import threading
from pathlib import Path


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def namespaces_permitted() -> str | None:
    """Why this machine cannot make a network namespace here; None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"lickprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"ip netns add is not permitted here: {getattr(exc, 'stderr', exc)}".strip()
    _ip("netns", "del", probe)
    return None


class NetnsHost:
    """A namespace 'host' at 10.214.N.2, reaching this side at 10.214.N.1 over a veth pair."""

    def __init__(self):
        taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.n = next(n for n in range(10, 250) if f"10.214.{n}." not in taken and f"lkh{n}@" not in links)
        self.name = f"lickhost{self.n}"
        self.here = f"10.214.{self.n}.1"  # this side: the 'server hosts' (database, broker)
        self.there = f"10.214.{self.n}.2"  # the other host
        self._outer, self._inner = f"lkh{self.n}", f"lkc{self.n}"
        self.stage = Path(f"/run/lick-netns-{self.n}")  # where shared directories wait to be mounted

    def __enter__(self) -> NetnsHost:
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self._outer, "type", "veth", "peer", "name", self._inner)
            _ip("link", "set", self._inner, "netns", self.name)
            _ip("addr", "add", f"{self.here}/30", "dev", self._outer)
            _ip("link", "set", self._outer, "up")
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "addr", "add", f"{self.there}/30", "dev", self._inner)
            _ip("-n", self.name, "link", "set", self._inner, "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["ip", "link", "del", self._outer], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        if self.stage.exists():
            for child in self.stage.iterdir():
                child.rmdir()
            self.stage.rmdir()

    def command(self, argv: list[str], shared: list[Path]) -> list[str]:
        """``argv`` run on the other host: in the namespace, with a private /tmp (a tmpfs) and the
        ``shared`` directories mounted at their own paths (the mount namespace is private, so
        none of these mounts is seen here)."""
        self.stage.mkdir(exist_ok=True)
        lines = ["set -e"]
        for i, path in enumerate(shared):
            (self.stage / str(i)).mkdir(exist_ok=True)
            lines.append(f"mount --bind {shlex.quote(str(path))} {self.stage / str(i)}")
        lines.append("mount -t tmpfs -o size=64m lickhost-tmp /tmp")
        for i, path in enumerate(shared):
            lines.append(f"mkdir -p {shlex.quote(str(path))}")
            lines.append(f"mount --bind {self.stage / str(i)} {shlex.quote(str(path))}")
        lines.append(f"exec {shlex.join(argv)}")
        return ["ip", "netns", "exec", self.name, "unshare", "--mount", "--propagation", "private",
                "sh", "-c", "\n".join(lines)]

    def run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        """A short command in the namespace (no mounts), e.g. to probe what it can reach."""
        return subprocess.run(["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True, **kwargs)


class TcpRelay:
    """Listens on ``(host, any free port)`` and relays each connection to ``target``."""

    def __init__(self, host: str, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server((host, 0))
        self.address = self.listener.getsockname()
        self.peers: list[str] = []  # the address of every client that connected
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="tcp-relay")
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, peer = self.listener.accept()
            except OSError:
                return
            self.peers.append(peer[0])
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._stopped.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        self._thread.join(timeout=5)
