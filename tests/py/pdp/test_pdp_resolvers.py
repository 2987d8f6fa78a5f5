"""OpaResolver and AuthZenResolver against a PDP stub served by this test on 127.0.0.1.

The file passes unchanged against upstream cpex 0.1.4 too (run it with that venv's pytest)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cpex.framework.pdp import AuthZenResolver, OpaResolver, PdpResolver, PdpResult
from cpex.framework.pdp.base import PdpError


@dataclass
class Stub:
    """Answers every POST with (status, body) from ``reply``; records what it got."""

    base: str
    requests: list[tuple[str, Any]] = field(default_factory=list)
    reply: tuple[int, Any] = (200, {"result": True})
    hang: threading.Event | None = None


@pytest.fixture
def stub() -> Iterator[Stub]:
    state: dict[str, Stub] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            s = state["stub"]
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            s.requests.append((self.path, body))
            if s.hang is not None:
                s.hang.wait()
            status, answer = s.reply
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["stub"] = Stub(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield state["stub"]
    if state["stub"].hang is not None:
        state["stub"].hang.set()
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_public_names() -> None:
    assert issubclass(OpaResolver, PdpResolver) and issubclass(AuthZenResolver, PdpResolver)
    r = PdpResult(allowed=True)
    assert (r.reason, r.context, r.from_cache, r.latency_ms) == (None, {}, False, 0.0)
    with pytest.raises(AttributeError):
        r.allowed = False  # type: ignore[misc]
    e = PdpError("boom", endpoint="http://x", cause=ValueError("v"))
    assert (str(e), e.endpoint, type(e.cause)) == ("boom", "http://x", ValueError)


@pytest.mark.parametrize(
    ("answer", "allowed", "reason"),
    [
        ({"result": True}, True, None),
        ({"result": False}, False, None),
        ({"result": {"allow": False, "deny": ["tool not allowed for role"]}}, False, "tool not allowed for role"),
        ({"result": {"allow": False, "deny": "single reason"}}, False, "single reason"),
        ({"result": {"allow": True, "deny": [{"code": 1}]}}, True, "{'code': 1}"),
        ({"result": {"deny": []}}, False, None),
    ],
)
async def test_opa_decisions(stub: Stub, answer: Any, allowed: bool, reason: str | None) -> None:
    stub.reply = (200, answer)
    opa = OpaResolver(stub.base + "/v1/data/tools/allow")
    result = await opa.resolve({"tool": "search", "subject": {"id": "alice"}})
    await opa.close()
    assert (result.allowed, result.reason) == (allowed, reason)
    assert result.latency_ms > 0
    if isinstance(answer["result"], dict):
        assert result.context == answer["result"]
    assert stub.requests == [("/v1/data/tools/allow", {"input": {"tool": "search", "subject": {"id": "alice"}}})]


async def test_opa_endpoint_placeholders(stub: Stub) -> None:
    opa = OpaResolver(stub.base + "/v1/data/{tenant}/{tool}/allow")
    await opa.resolve({"tool": "search", "tenant": "acme", "n": 3})
    # A placeholder the input lacks (or that is not a string) leaves the template as is.
    await opa.resolve({"tool": "search", "tenant": 7})
    await opa.close()
    assert [p for p, _ in stub.requests] == ["/v1/data/acme/search/allow", "/v1/data/%7Btenant%7D/%7Btool%7D/allow"]


async def test_opa_unexpected_answer(stub: Stub) -> None:
    stub.reply = (200, {"result": ["x"]})
    closed, open_ = OpaResolver(stub.base + "/v1/data/x"), OpaResolver(stub.base + "/v1/data/x", fail_open=True)
    denied, allowed = await closed.resolve({}), await open_.resolve({})
    assert (denied.allowed, denied.reason) == (False, "Unexpected OPA response: list")
    assert allowed.allowed is True


@pytest.mark.parametrize("resolver_cls", [OpaResolver, AuthZenResolver])
async def test_http_error_status(stub: Stub, resolver_cls: type[OpaResolver] | type[AuthZenResolver]) -> None:
    stub.reply = (503, {"error": "down"})
    engine = "OPA" if resolver_cls is OpaResolver else "AuthZen"
    with pytest.raises(PdpError) as info:
        await resolver_cls(stub.base + "/p").resolve({})
    assert str(info.value) == f"{engine} HTTP 503"
    assert info.value.endpoint == stub.base + "/p"
    result = await resolver_cls(stub.base + "/p", fail_open=True).resolve({})
    assert (result.allowed, result.reason) == (True, f"{engine} HTTP 503, fail-open")


@pytest.mark.parametrize("resolver_cls", [OpaResolver, AuthZenResolver])
async def test_unreachable(resolver_cls: type[OpaResolver] | type[AuthZenResolver]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/p"
    engine = "OPA" if resolver_cls is OpaResolver else "AuthZen"
    with pytest.raises(PdpError, match=f"^{engine} connection error: "):
        await resolver_cls(url).resolve({})
    result = await resolver_cls(url, fail_open=True).resolve({})
    assert (result.allowed, result.reason) == (True, f"{engine} unreachable, fail-open")


@pytest.mark.parametrize("resolver_cls", [OpaResolver, AuthZenResolver])
async def test_timeout(stub: Stub, resolver_cls: type[OpaResolver] | type[AuthZenResolver]) -> None:
    # The stub never answers until teardown: only the client's timeout ends the call.
    stub.hang = threading.Event()
    engine = "OPA" if resolver_cls is OpaResolver else "AuthZen"
    with pytest.raises(PdpError, match=f"^{engine} timeout after"):
        await resolver_cls(stub.base + "/p", timeout_ms=50).resolve({})
    result = await resolver_cls(stub.base + "/p", timeout_ms=50, fail_open=True).resolve({})
    assert (result.allowed, result.reason) == (True, f"{engine} timeout, fail-open")


async def test_authzen_request_mapping(stub: Stub) -> None:
    stub.reply = (200, {"decision": True})
    az = AuthZenResolver(stub.base + "/access/v1/evaluation", headers={"X-Api-Key": "k"})
    result = await az.resolve(
        {
            "subject": {"id": "alice", "type": "user", "roles": ["admin"]},
            "action": "execute",
            "tool": "search",
            "args": {"q": "go"},
            "session": {"id": "s1"},
            "tenant": "acme",
        }
    )
    await az.close()
    assert result == PdpResult(allowed=True, reason=None, context={}, latency_ms=result.latency_ms)
    assert stub.requests == [
        (
            "/access/v1/evaluation",
            {
                "subject": {"type": "user", "id": "alice", "properties": {"roles": ["admin"]}},
                "action": {"name": "execute"},
                "resource": {"type": "tool", "id": "search"},
                "context": {"session": {"id": "s1"}, "args": {"q": "go"}, "tenant": "acme"},
            },
        )
    ]


async def test_authzen_defaults_and_objects(stub: Stub) -> None:
    stub.reply = (200, {"decision": False, "context": {"reason": {"detail": "outside business hours"}}})
    az = AuthZenResolver(stub.base + "/e")
    result = await az.resolve({"action": {"name": "read", "x": 1}, "tool": {"type": "doc", "id": "d1"}})
    assert (result.allowed, result.reason) == (False, "outside business hours")
    assert result.context == {"reason": {"detail": "outside business hours"}}
    assert stub.requests[0][1] == {
        "subject": {"type": "unknown", "id": "unknown"},
        "action": {"name": "read", "x": 1},
        "resource": {"type": "doc", "id": "d1"},
    }
    stub.reply = (200, {"decision": False, "context": {"reason": "plain"}})
    assert (await az.resolve({})).reason == "plain"
    stub.reply = (200, {"context": {"reason": {"message": "m", "detail": "d"}}})
    assert (await az.resolve({})).reason == "m"
    stub.reply = (200, {"decision": True, "context": "not a dict"})
    r = await az.resolve({})
    assert (r.allowed, r.reason, r.context) == (True, None, {})
