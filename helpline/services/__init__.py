"""Use cases: they check rules (domain), change the store in one transaction, and
publish events on the bus after commit."""

from .context import Context
from .facade import Services

__all__ = ["Context", "Services"]
