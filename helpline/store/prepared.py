"""Statements the message path runs for every batch, compiled once per database and run
as one executemany straight on the driver. Through SQLAlchemy's ``execute`` each batch
built the statement's cache key and every row's parameters anew (at 2,000 messages a
second, about a tenth of the server's CPU); the SQL, the order of the parameters and
each one's conversion (``UTCDateTime`` above all) are the same ones SQLAlchemy uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

Converter = Callable[[Any], Any] | None


class Prepared:
    def __init__(self, statement: UpdateBase, keys: Sequence[str] | None = None) -> None:
        """``keys``: the columns an INSERT is given (all of the rows' keys)."""
        self.statement, self.keys = statement, list(keys) if keys is not None else None
        self._compiled: dict[tuple[str, str], tuple[str, tuple[str, ...], tuple[Converter, ...]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[Converter, ...]]:
        """The SQL for this database, its parameters' names in order, their conversions."""
        key = (dialect.name, dialect.driver)
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.keys, for_executemany=True)
            names = tuple(compiled.positiontup or ())
            converters = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
            found = self._compiled[key] = (str(compiled), names, converters)
        return found

    async def run_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row, in one round trip to the driver."""
        if not rows:
            return
        sql, names, converters = self.compiled(conn.dialect)
        pairs = tuple(zip(names, converters, strict=True))
        params = [tuple(row[n] if c is None else c(row[n]) for n, c in pairs) for row in rows]
        await conn.exec_driver_sql(sql, params)
