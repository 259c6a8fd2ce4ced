"""Run the Alembic history from code: `helpline db upgrade` and the SQLite auto-upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ..resources import package_dir

MIGRATIONS = package_dir("migrations")


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``. Blocking: call outside the event loop
    (or through asyncio.to_thread)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(_config(url), revision)
