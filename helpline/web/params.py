"""Path and query parameters, checked as bodies are: a value the database could not hold
or that names nothing (a 40-digit id, a contact id that is not 32 hex digits, a NUL)
never reaches a query. OpenAPI states the same rules (``path_schema``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from .errors import ApiError
from .schemas import ContactId, RowId, Seq

_contact_id: TypeAdapter[str] = TypeAdapter(ContactId)
_row_id: TypeAdapter[int] = TypeAdapter(RowId)
_seq: TypeAdapter[int] = TypeAdapter(Seq)


def contact_id(request: web.Request) -> str:
    """The ``{contact_id}`` of the path; 404 ``unknown_contact`` if it cannot be one."""
    try:
        return _contact_id.validate_python(request.match_info["contact_id"])
    except ValidationError:
        raise ApiError(404, "unknown_contact") from None


def row_id(request: web.Request, name: str) -> int:
    """A numeric id of the path (``{canned_id}``...); 404 ``not_found`` if it cannot be one."""
    raw = request.match_info[name]
    try:
        return _row_id.validate_python(_digits(raw))
    except (ValueError, ValidationError):
        raise ApiError(404, "not_found") from None


def seq_query(request: web.Request, name: str) -> int:
    """A seq number in the query string (0 if absent); 422 if it cannot be one."""
    try:
        return _seq.validate_python(_digits(request.query.get(name, "0")))
    except (ValueError, ValidationError):
        problem = [{"field": name, "problem": "out_of_range"}]
        raise ApiError(422, "invalid_request", details=problem) from None


def row_query(request: web.Request, name: str) -> int | None:
    """An optional id in the query string; 422 if it cannot be one."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return _row_id.validate_python(_digits(raw))
    except (ValueError, ValidationError):
        raise ApiError(422, "invalid_request", details=[{"field": name, "problem": "out_of_range"}]) from None


def _digits(raw: str) -> int:
    """A decimal number of at most 10 digits (ASCII only: int() also reads "٣")."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise ValueError(raw)
    return int(raw)


QUERY = {
    "handoff_id": _row_id.json_schema() | {"description": "Only this hand-off's records."},
    "state": {"type": "string", "description": "Only the hand-offs in this state."},
    "format": {"type": "string", "enum": ["json", "csv"], "description": "csv: a file to download."},
    "after_seq": _seq.json_schema() | {"description": "Only the messages after this seq."},
    "q": {"type": "string", "maxLength": 100, "description": "Words to look for."},
    "offset": _seq.json_schema() | {"description": "Skip this many entries."},
    "limit": _row_id.json_schema() | {"description": "At most this many entries (200 at most)."},
    "weeks": {"type": "integer", "minimum": 1, "maximum": 52, "description": "Weeks looked back (8)."},
    "target": {"type": "number", "minimum": 0.5, "maximum": 99,
               "description": "Share to answer in time: 0.8 or 80 (80%)."},
    "within_s": {"type": "integer", "minimum": 1, "maximum": 3600, "description": "Seconds (60)."},
    "from": {"type": "string", "format": "date", "description": "The first local day (YYYY-MM-DD)."},
    "to": {"type": "string", "format": "date", "description": "The last local day, included."},
    "channel": {"type": "string", "enum": ["all", "chat", "voice"], "description": "all by default."},
    "lang": {"type": "string", "enum": ["fr", "en"], "description": "The language of the labels."},
}


def path_schema(name: str) -> dict[str, Any]:
    """The JSON schema of a path parameter, by its name."""
    if name == "contact_id":
        return _contact_id.json_schema()
    if name.endswith("_id"):
        return _row_id.json_schema()
    return {"type": "string"}
