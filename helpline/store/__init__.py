"""Persistence: SQLAlchemy 2 tables and the unit of work over them."""

from .unit_of_work import Store, Tx

__all__ = ["Store", "Tx"]
