"""Errors that a rule raises; each carries a stable code the clients can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a rule. ``code`` names it for clients and catalogs."""

    code: str = "invalid"

    def __init__(self, code: str | None = None, detail: str = "") -> None:
        if code is not None:
            self.code = code
        super().__init__(detail or self.code)


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class Duplicate(Conflict):
    """The store refused a row that another one already holds (a unique key): a second
    answer, a resend racing its first copy, a username taken meanwhile."""

    code = "conflict"


class RateLimited(DomainError):
    """Too much at once from one place (or for the whole line): try again after a while."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s

    @property
    def extra(self) -> dict[str, int]:
        return {"retry_after_s": self.retry_after_s}
