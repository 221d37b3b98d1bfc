"""The browser guard of a local server: which names are its own, which origins are the same."""

from __future__ import annotations

import socket

import pytest

from jobmon.server.guard import BrowserGuard


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "::1", "10.1.2.3", "a.localhost",
                                  socket.gethostname().lower(), "proxy.example"])
def test_own_names(name: str) -> None:
    assert BrowserGuard("127.0.0.1", ["proxy.example"]).own_host(name)


@pytest.mark.parametrize("name", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "proxy.example.evil"])
def test_foreign_names(name: str) -> None:
    assert not BrowserGuard("127.0.0.1", ["proxy.example"]).own_host(name)


def test_same_origin() -> None:
    guard = BrowserGuard("127.0.0.1")
    assert guard._same_origin("http://localhost:8070", "localhost:8070")
    assert guard._same_origin("https://localhost", "localhost:443")
    assert not guard._same_origin("http://localhost:8071", "localhost:8070")
    assert not guard._same_origin("http://evil.example:8070", "evil.example:8070")
    assert not guard._same_origin("null", "localhost:8070")
    assert not guard._same_origin("file://", "localhost:8070")
