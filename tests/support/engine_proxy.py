"""A pass-through proxy in front of the real Docker engine's socket that counts the image exports asked
of it, by any client: ``GET /images/{name}/get`` (the docker SDK's, layerdiff's) and
``GET /images/get?names=…`` (Go's client, syft's) alike."""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote

import pytest

_EXPORT = re.compile(rb"GET /(?:v[0-9.]+/)?images/(?:get\?names=([^ &]+)|(\S+)/get) ")
_BUFFER = 1 << 16


class CountingProxy:
    def __init__(self, engine_socket: str, listen: Path) -> None:
        self._engine = engine_socket
        self.address = f"unix://{listen}"
        self.exports: Counter[str] = Counter()  # image name or id as requested -> exports
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(listen))
        self._server.listen(16)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def total(self) -> int:
        with self._lock:
            return sum(self.exports.values())

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(self._engine)
            threading.Thread(target=self._pump, args=(client, engine, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(engine, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        tail = b""  # a request line split across two reads is still seen whole
        try:
            while data := source.recv(_BUFFER):
                if requests:
                    seen = tail + data
                    names = [
                        unquote((m.group(1) or m.group(2)).decode())
                        for m in _EXPORT.finditer(seen)
                        if m.end() > len(tail)
                    ]
                    with self._lock:
                        self.exports.update(names)
                    tail = seen[-256:]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self._server.close()


@contextmanager
def counting_proxy(docker_host: str, directory: Path) -> Iterator[CountingProxy]:
    if not docker_host.startswith("unix://"):
        pytest.skip(f"the counting proxy fronts a unix socket engine, not {docker_host}")
    proxy = CountingProxy(docker_host.removeprefix("unix://"), directory / "engine.sock")
    try:
        yield proxy
    finally:
        proxy.close()
