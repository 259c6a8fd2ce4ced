"""A request the HTTP parser refuses (here a NUL in a header) gets a 400 and leaves one
redacted log line: no client address, no traceback."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.server_process import ServerProcess


async def test_an_unparsable_request_gets_a_400_and_logs_no_address_and_no_traceback(
    server_process: ServerProcess,
) -> None:
    await server_process.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server_process.port)
    writer.write(b"GET /api/v1/status HTTP/1.1\r\nHost: helpline\r\nX-Probe: \x00\r\n\r\n")
    await writer.drain()
    async with asyncio.timeout(10):
        status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"400", status_line
    await server_process.stop()  # every line is written

    logs = server_process.output(("stderr",))
    assert b"Traceback" not in logs and b"Unhandled exception" not in logs, logs.decode(errors="replace")
    assert b"127.0.0.1" not in logs, "a client address was logged"
    access = [json.loads(line) for line in logs.splitlines() if b'"http_request"' in line]
    assert {"route": "-", "status": 400} in [
        {k: a[k] for k in ("route", "status")} for a in access
    ]
