"""Property test: a whole floor driven by random arrivals, status changes, ends,
disconnects and transfers, routed by the real router. Whatever happens: no
contact is assigned twice, nobody is ever over capacity, within a priority no
contact is served before an older one that the same counsellor could have
served, and every contact is served, abandoned or still waiting (none lost)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad
from helpline.domain.routing import Priority, SkillsRouter, WaitingContact, can_serve, queue_order

SKILLS = ["general", "legal", "technical"]
FALLBACK = timedelta(seconds=180)


class Floor(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        self.router = SkillsRouter(FALLBACK)
        self.waiting: dict[str, WaitingContact] = {}
        self.assigned: dict[str, int] = {}  # contact -> counsellor
        self.channel_of: dict[str, Channel] = {}
        self.arrived: dict[str, WaitingContact] = {}
        self.done: set[str] = set()
        self.abandoned: set[str] = set()
        self.ever_assigned: list[str] = []
        self.staff: dict[int, CounsellorLoad] = {}
        self.available: set[int] = set()
        self.created = 0

    def load(self, cid: int) -> CounsellorLoad:
        mine = [c for c, k in self.assigned.items() if k == cid]
        chats = sum(self.channel_of[c] is Channel.CHAT for c in mine)
        return replace(self.staff[cid], active_chats=chats, active_voice=len(mine) - chats)

    def dispatch(self) -> None:
        loads = [self.load(k) for k in self.available]
        planned = self.router.plan(list(self.waiting.values()), loads, self.now)
        for a in planned:
            contact = self.waiting[a.contact_id]
            chosen = self.load(a.counsellor_id)
            # Nobody older of the same priority, that this counsellor could serve, is left behind.
            for other in self.waiting.values():
                if (
                    other.id != contact.id
                    and other.priority == contact.priority
                    and other.order_key < contact.order_key
                    and other.channel == contact.channel
                ):
                    left = other.id not in {p.contact_id for p in planned}
                    assert not (left and can_serve(chosen, other, self.now, FALLBACK)), "served out of order"
            assert a.contact_id not in self.assigned, "assigned twice"
            del self.waiting[a.contact_id]
            self.assigned[a.contact_id] = a.counsellor_id
            self.ever_assigned.append(a.contact_id)

    @staticmethod
    def draw_out(data: st.DataObject, contacts: dict[str, Any]) -> str:
        """One of ``contacts``, drawn and taken out of it."""
        contact = data.draw(st.sampled_from(sorted(contacts)))
        del contacts[contact]
        return contact

    @rule(
        skills=st.sets(st.sampled_from(SKILLS), min_size=1),
        max_chats=st.integers(1, 3),
        max_voice=st.integers(0, 1),
    )
    def counsellor_joins(self, skills: set[str], max_chats: int, max_voice: int) -> None:
        cid = len(self.staff) + 1
        self.staff[cid] = CounsellorLoad(cid, max_chats, 0, None, frozenset(skills), max_voice)
        self.available.add(cid)
        self.dispatch()

    @rule(skill=st.sampled_from(SKILLS), priority=st.sampled_from(list(Priority)), voice=st.booleans())
    def contact_arrives(self, skill: str, priority: Priority, voice: bool) -> None:
        self.created += 1
        cid = f"c{self.created:03d}"
        channel = Channel.VOICE if voice else Channel.CHAT
        self.channel_of[cid] = channel
        self.waiting[cid] = self.arrived[cid] = WaitingContact(cid, self.now, channel, skill, priority)
        self.dispatch()

    @rule(seconds=st.integers(1, 400))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.dispatch()

    @precondition(lambda self: self.staff)
    @rule(data=st.data(), available=st.booleans())
    def status_changes(self, data: st.DataObject, available: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.staff)))
        (self.available.add if available else self.available.discard)(cid)
        self.dispatch()

    @precondition(lambda self: self.assigned)
    @rule(data=st.data())
    def conversation_ends(self, data: st.DataObject) -> None:
        self.done.add(self.draw_out(data, self.assigned))
        self.dispatch()

    @precondition(lambda self: self.waiting)
    @rule(data=st.data())
    def visitor_gives_up(self, data: st.DataObject) -> None:
        self.abandoned.add(self.draw_out(data, self.waiting))

    @precondition(lambda self: self.staff)
    @rule(data=st.data())
    def console_lost_past_grace(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.staff)))
        self.available.discard(cid)
        for contact, k in list(self.assigned.items()):
            if k == cid:  # back to the queue, keeping its place
                del self.assigned[contact]
                self.waiting[contact] = self.arrived[contact]  # same skill, priority, time
        self.dispatch()

    @precondition(lambda self: self.assigned)
    @rule(data=st.data(), skill=st.sampled_from(SKILLS))
    def cold_transfer(self, data: st.DataObject, skill: str) -> None:
        contact = self.draw_out(data, self.assigned)
        self.waiting[contact] = replace(self.arrived[contact], skill=skill)  # keeps its place
        self.dispatch()

    @invariant()
    def nobody_over_capacity(self) -> None:
        for cid in self.staff:
            load = self.load(cid)
            assert load.active_chats <= load.max_chats
            assert load.active_voice <= load.max_voice

    @invariant()
    def no_contact_lost_or_in_two_places(self) -> None:
        places = [set(self.waiting), set(self.assigned), self.done, self.abandoned]
        assert sum(len(p) for p in places) == self.created
        assert set().union(*places) == set(self.channel_of)

    @invariant()
    def the_queue_order_is_total(self) -> None:
        ordered = queue_order(list(self.waiting.values()))
        assert [c.order_key for c in ordered] == sorted(c.order_key for c in ordered)


Floor.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestFloor = Floor.TestCase
