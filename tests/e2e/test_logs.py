"""What the real server writes when clients send garbage: malformed HTTP over a raw
socket and a webhook with a made-up signature setting. Every log line is one JSON object,
and none repeats the client's address, a header value or a cookie."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import pytest

from tests.e2e.server_process import ServerProcess
from tests.phone import TOKEN

pytestmark = pytest.mark.e2e
MARKER = "zq" + secrets.token_hex(6)
SESSION = secrets.token_urlsafe(32)
BANNER_FIRST, BANNER_LAST = "Helpline serving on ", "(Ctrl+C to stop)"


class DebugPhoneServer(ServerProcess):
    """At debug level, so aiohttp's, asyncio's and the database driver's quietest lines
    are written too; with a phone line, so the webhooks run."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update({"HELPLINE_LOG_LEVEL": "debug", "HELPLINE_TWILIO_AUTH_TOKEN": TOKEN})
        return env


def request(method: str, path: str, *headers: bytes, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1".encode(), b"Host: localhost", *headers]
    if not any(h.startswith(b"Connection:") for h in headers):
        head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def exchange(server: ServerProcess, raw: bytes) -> bytes:
    """Send raw bytes, read the answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


def malformed() -> list[bytes]:
    status = "/api/v1/status"
    return [
        request("GET", status, f"Cookie helpline_session={SESSION} {MARKER}".encode()),  # no colon
        request("GET", status, f"X-Note: a\x01{MARKER}".encode()),  # a control character
        request("GET", status, f"X-Note: {MARKER}".encode() + b"a" * 9000),  # an over-long header
        request("GET", f"/{MARKER}" + "a" * 9000),  # an over-long request line
        request(f"G@{MARKER}", status),  # not a method
        request("GET", "/healthz", b"Connection: keep-alive") + request(f"G@{MARKER}", status),  # later
        request(  # a chunk size that is not hexadecimal
            "POST", "/telephony/voice/incoming", b"Transfer-Encoding: chunked",
            b"Content-Type: application/x-www-form-urlencoded", body=f"zz{MARKER}\r\n\r\n".encode(),
        ),
    ]


def log_lines(text: str) -> list[str]:
    """The lines of an output, the startup banner left out."""
    lines, banner = [], False
    for line in text.splitlines():
        banner = banner or line.startswith(BANNER_FIRST)
        if not banner and line.strip():
            lines.append(line)
        banner = banner and line != BANNER_LAST
    return lines


async def test_malformed_requests_and_bad_webhook_headers_leave_only_json_lines_without_client_data(
    tmp_path: Path,
) -> None:
    server = DebugPhoneServer(tmp_path)
    await server.start()
    try:
        for raw in malformed():
            answer = await exchange(server, raw)
            assert b" 400 Bad Request\r\n" in answer and b" 500 " not in answer, answer[:200]

        webhook = await exchange(server, request(
            "POST", "/telephony/voice/incoming", b"X-Twilio-Signature: c2lnbmF0dXJl",
            f"X-Twilio-Webhooks-Signature-Settings: key=k,algorithm={MARKER}".encode(),
            f"Cookie: helpline_session={SESSION}".encode(), b"Content-Length: 0",
        ))
        assert webhook.startswith(b"HTTP/1.1 403"), webhook[:200]
    finally:
        await server.stop()

    stderr = server.output(("stderr",)).decode()
    stdout = server.output(("stdout",)).decode()
    assert BANNER_FIRST in stdout
    records = []
    for line in log_lines(stderr) + log_lines(stdout):
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line[:300]!r}")
    assert all(isinstance(r, dict) and r.get("event") for r in records)
    errors = [r for r in records if r.get("logger") == "aiohttp.server"]
    assert len(errors) >= 7 and all(r["exception"]["frames"] for r in errors)  # logged, without the message
    assert any(r.get("logger") == "twilio.request_validator" for r in records)
    assert any(r.get("event") == "http_request" and r["status"] == 400 and r["route"] == "-" for r in records)
    logs = "\n".join(log_lines(stderr) + log_lines(stdout))
    for secret in (MARKER, SESSION, "127.0.0.1"):
        assert secret not in logs
