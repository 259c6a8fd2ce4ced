"""What every use case works with, and the facade that groups the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from ..bus import Bus
from ..clock import Clock
from ..config import Settings
from ..domain.routing import Router
from ..domain.schedule import Schedule
from ..store import Store


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    bus: Bus
    clock: Clock
    settings: Settings
    router: Router
    schedule: Schedule


class Services:
    def __init__(self, ctx: Context) -> None:
        from .accounts import Accounts
        from .conversations import Conversations
        from .floor import Floor

        self.ctx = ctx
        self.accounts = Accounts(ctx)
        self.floor = Floor(ctx)
        self.conversations = Conversations(ctx, self.floor)
