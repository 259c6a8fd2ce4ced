"""What the staffing planner reads: demand per hour from the contact facts, and the
availability history. Aggregates only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import AvailabilitySpan, ContactFact, Counsellor


@dataclass(frozen=True, slots=True)
class HourFacts:
    """The contacts of one channel that arrived in one UTC hour."""

    hour: datetime
    channel: str
    arrived: int
    answered: int
    handle_s: int  # summed over the answered
    waited_s: int  # summed over all (the time each was at risk of giving up)
    abandoned: int


class PlanningRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def demand(self, since: datetime, until: datetime) -> list[HourFacts]:
        f = ContactFact
        answered = f.outcome == "answered"
        rows = await self.conn.execute(
            select(
                f.arrived_hour, f.channel, func.count().label("arrived"),
                func.sum(case((answered, 1), else_=0)).label("answered"),
                func.sum(case((answered, func.coalesce(f.handle_s, 0)), else_=0)).label("handle_s"),
                func.sum(func.coalesce(f.wait_s, 0)).label("waited_s"),
                func.sum(case((answered, 0), else_=1)).label("abandoned"),
            )
            .where(f.arrived_hour >= since, f.arrived_hour < until)
            .group_by(f.arrived_hour, f.channel)
        )
        return [
            HourFacts(r.arrived_hour, r.channel, int(r.arrived), int(r.answered or 0), int(r.handle_s or 0),
                      int(r.waited_s or 0), int(r.abandoned or 0))
            for r in rows
        ]

    async def availability(self, since: datetime, until: datetime) -> list[tuple[int, datetime, datetime]]:
        """(counsellor, start, end) of every span that overlaps [since, until), cut to it; a
        span still open runs to ``until``."""
        span = AvailabilitySpan
        rows = await self.conn.execute(
            select(span.counsellor_id, span.started_at, span.ended_at).where(
                span.started_at < until, or_(span.ended_at.is_(None), span.ended_at > since)
            )
        )
        return [
            (r.counsellor_id, max(r.started_at, since), min(r.ended_at or until, until)) for r in rows
        ]

    async def chat_capacities(self) -> list[int]:
        """``max_chats`` of every enabled account that takes contacts."""
        rows = await self.conn.execute(select(Counsellor.max_chats).where(Counsellor.disabled.is_(False)))
        return [int(r.max_chats) for r in rows]
