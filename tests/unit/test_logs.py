"""The log pipeline on its own, in a fresh interpreter: what our loggers and the
libraries' loggers write when values they must not write are at hand."""

from __future__ import annotations

import json
import subprocess
import sys

MARKER = "zq-not-for-logs"
SCRIPT = f"""
import logging, warnings
from helpline import logs

logs.configure("debug")
try:
    raise ValueError("{MARKER}: a message's text, an SQL parameter")
except ValueError:
    logs.get_logger("writer").exception("message_batch_failed", size=1)
    logging.getLogger("aiohttp.server").exception("Error handling request from %s", "{MARKER}")
logging.getLogger("asyncio").error("Task exception was never retrieved\\nfuture: <Task {MARKER}>")
logging.getLogger("twilio.http_client").info("POST Request: https://api.example/{MARKER}")
logging.getLogger("sqlalchemy.engine").info(["{MARKER}"])
warnings.warn("{MARKER}")
"""


def test_every_line_is_json_with_templates_and_exceptions_without_their_messages() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert MARKER not in result.stderr
    by_event = {line["event"]: line for line in lines}
    assert set(by_event) == {
        "message_batch_failed",
        "Error handling request from %s",
        "Task exception was never retrieved",
        "list",
        "python_warning",
    }
    for event in ("message_batch_failed", "Error handling request from %s"):
        exception = by_event[event]["exception"]
        assert exception["type"] == "ValueError"
        assert exception["frames"] == [{"file": "<string>", "line": 7, "function": "<module>"}]
    assert by_event["message_batch_failed"]["size"] == 1
    assert by_event["Task exception was never retrieved"]["logger"] == "asyncio"
    assert by_event["python_warning"]["category"] == "UserWarning"
