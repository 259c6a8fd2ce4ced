"""What every use case works with, and the facade that groups the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from ..bus import Bus
from ..clock import Clock
from ..config import Settings
from ..domain.routing import Router
from ..store import Store
from .schedule import ScheduleConfig


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    bus: Bus
    clock: Clock
    settings: Settings
    router: Router
    schedule: ScheduleConfig


class Services:
    def __init__(self, ctx: Context) -> None:
        from .accounts import Accounts
        from .conversations import Conversations
        from .floor import Floor
        from .schedule import Schedules

        self.ctx = ctx
        self.accounts = Accounts(ctx)
        self.schedules = Schedules(ctx, ctx.schedule)
        self.floor = Floor(ctx, self.schedules)
        self.conversations = Conversations(ctx, self.floor, self.schedules)
