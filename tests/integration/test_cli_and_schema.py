"""The command line a newcomer or an operator uses, and one schema history for both
databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.store.tables import Base
from tests.clients import TEST_DATA_KEYS

HELPLINE = [sys.executable, "-m", "helpline.cli"]


def run(args: list[str], url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPLINE_DATABASE_URL": url}
    if url.startswith("postgresql"):  # as the servers under test have
        env["HELPLINE_DATA_KEYS"] = TEST_DATA_KEYS
    return subprocess.run(HELPLINE + args, input=stdin, env=env, capture_output=True, text=True, timeout=60)


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'h.db'}"
    result = run(["db", "upgrade"], url)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "h.db").exists()


def test_counsellor_add_reads_the_password_from_stdin_and_refuses_duplicates(database_url: str) -> None:
    ok = run(
        [
            "counsellor",
            "add",
            "alice",
            "--password-stdin",
            "--display-name",
            "Alice",
            "--role",
            "supervisor",
            "--max-chats",
            "4",
        ],
        database_url,
        "motdepasse\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "alice" in ok.stdout
    assert "motdepasse" not in ok.stdout + ok.stderr
    again = run(["counsellor", "add", "alice", "--password-stdin"], database_url, "autre-mot-de-passe\n")
    assert again.returncode == 1
    assert "username_taken" in again.stderr


def test_counsellor_add_without_password_stdin_explains_itself(database_url: str) -> None:
    result = run(["counsellor", "add", "bob"], database_url)
    assert result.returncode == 2
    assert "--password-stdin" in result.stderr


def test_counsellor_add_refuses_a_silly_capacity(database_url: str) -> None:
    args = ["counsellor", "add", "bob", "--password-stdin", "--max-chats", "0"]
    result = run(args, database_url, "long-enough\n")
    assert result.returncode == 2
    assert "--max-chats" in result.stderr


async def test_the_migrations_build_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


def test_schedule_check_says_why_the_line_is_closed(sqlite_url: str) -> None:
    christmas = run(["schedule", "check", "--at", "2026-12-25T10:00"], sqlite_url)
    assert christmas.returncode == 0, christmas.stderr
    assert "CLOSED" in christmas.stdout
    assert "public holiday: Noël" in christmas.stdout
    assert "opens at 2026-12-26T09:00:00+01:00" in christmas.stdout
    monday = run(["schedule", "check", "--at", "2026-11-30T10:00"], sqlite_url)
    assert "OPEN" in monday.stdout
    assert "closes at 2026-11-30T20:00:00+01:00" in monday.stdout


def test_schedule_close_list_show_and_remove(sqlite_url: str) -> None:
    added = run(
        ["schedule", "close", "2026-12-24", "--from", "16:00", "--to", "20:00", "--reason", "Veille de Noël"],
        sqlite_url,
    )
    assert added.returncode == 0, added.stderr
    assert "exception 1 added" in added.stdout
    listed = run(["schedule", "list"], sqlite_url)
    assert "2026-12-24..2026-12-24  16:00-20:00  Veille de Noël" in listed.stdout
    eve = run(["schedule", "check", "--at", "2026-12-24T16:30"], sqlite_url)
    assert "CLOSED" in eve.stdout
    assert "exception: Veille de Noël" in eve.stdout
    shown = run(["schedule", "show", "--days", "3"], sqlite_url)
    assert shown.returncode == 0
    assert len(shown.stdout.strip().splitlines()) == 4
    assert run(["schedule", "remove", "1"], sqlite_url).returncode == 0
    assert run(["schedule", "remove", "1"], sqlite_url).returncode == 1


def test_schedule_refuses_nonsense(sqlite_url: str) -> None:
    bad_hours = run(
        ["schedule", "open", "2026-11-29", "--from", "18:00", "--to", "10:00", "--reason", "x"], sqlite_url
    )
    assert bad_hours.returncode == 1
    assert "invalid_hours" in bad_hours.stderr
    bad_date = run(["schedule", "close", "2026-13-01", "--reason", "x"], sqlite_url)
    assert bad_date.returncode == 2
    assert "dates look like" in bad_date.stderr


def run_with(args: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`helpline ARGS` with only these HELPLINE_* variables (and an SQLite database of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update({"HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", **variables})
    return subprocess.run(
        HELPLINE + args, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        ({"HELPLINE_SCHEDULE": "sometimes"},
         "error: HELPLINE_SCHEDULE='sometimes' is not valid: expected 'hours' or 'always'"),
        ({"HELPLINE_PORT": "abc"}, "error: HELPLINE_PORT='abc' is not valid: should be a valid integer"),
        ({"HELPLINE_VISITOR_GRACE_S": "-1"},
         "error: HELPLINE_VISITOR_GRACE_S='-1' is not valid: should be greater than 0"),
        ({"HELPLINE_WIDGET_ORIGINS": "https://ok.example,ftp://x"},
         "error: HELPLINE_WIDGET_ORIGINS='https://ok.example,ftp://x' is not valid: not an origin"),
        ({"HELPLINE_CARRIER": "bogus"},
         "error: HELPLINE_CARRIER='bogus' is not valid: expected 'fake' or 'twilio'"),
    ],
    ids=["schedule", "port", "grace", "origins", "carrier"],
)
def test_serve_with_a_bad_variable_names_it_in_one_line_and_exits_2(
    tmp_path: Path, variables: dict[str, str], line: str
) -> None:
    result = run_with(["serve"], tmp_path, **variables)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(line) and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "h.db").exists()  # refused before anything changed


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        ["counsellor", "add", "bob", "--password-stdin"],
        ["telephony", "simulate", "--caller", "+33612345678"],
        ["demo"],
    ],
    ids=lambda args: "-".join(args[:2]),
)
def test_every_command_reports_bad_variables_one_per_line(tmp_path: Path, args: list[str]) -> None:
    other = "HELPLINE_HOLD_ANNOUNCE_S" if args[0] == "telephony" else "HELPLINE_DEFAULT_MAX_CHATS"
    bad = {"HELPLINE_PORT": "abc", other: "0"}
    result = run_with(args, tmp_path, **bad)
    assert result.returncode == 2, result.stderr
    assert sorted(line.split("=")[0] for line in result.stderr.splitlines()) == [
        f"error: {name}" for name in sorted(bad)
    ], result.stderr


def test_a_bad_secret_is_never_echoed(tmp_path: Path) -> None:
    token, secret = "token-" + "t" * 20, "short-secret"
    result = run_with(
        ["telephony", "configure", "--number", "+33100000000"], tmp_path,
        HELPLINE_CARRIER="twilio", HELPLINE_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        HELPLINE_TWILIO_AUTH_TOKEN=token, HELPLINE_SECRET_KEY=secret,
    )
    assert result.returncode == 2
    assert result.stderr == "error: HELPLINE_SECRET_KEY (32 characters or more) is needed to key callers\n"
    assert token not in result.stderr + result.stdout and secret not in result.stderr + result.stdout


def test_a_callers_erasure_needs_the_secret_and_a_number_and_never_echoes_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HELPLINE_SECRET_KEY", raising=False)
    no_secret = run(["telephony", "forget"], database_url, "06 12 34 56 78\n")
    assert no_secret.returncode == 2 and "HELPLINE_SECRET_KEY" in no_secret.stderr
    monkeypatch.setenv("HELPLINE_SECRET_KEY", "k" * 64)
    nonsense = run(["telephony", "forget"], database_url, "pas un numéro\n")
    assert nonsense.returncode == 2 and "not a phone number" in nonsense.stderr
    unknown = run(["telephony", "forget"], database_url, "06 12 34 56 78\n")
    assert unknown.returncode == 0 and "erased from 0 contact(s)" in unknown.stdout
    assert "12 34 56" not in unknown.stdout + unknown.stderr and "612345678" not in unknown.stderr
