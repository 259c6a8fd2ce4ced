"""Routing rules: priorities, skills, fallback, channels, transfers, and triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad
from helpline.domain.routing import Priority, SkillsRouter, WaitingContact, queue_order
from helpline.domain.waiting import standings
from helpline.services.triage import load_triage

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TRIAGE = load_triage(None)


def contact(cid: str, second: int = 0, **kw: object) -> WaitingContact:
    return WaitingContact(cid, T0 + timedelta(seconds=second), **kw)  # type: ignore[arg-type]


def counsellor(cid: int, *skills: str, max_chats: int = 3, **kw: object) -> CounsellorLoad:
    return CounsellorLoad(cid, max_chats, 0, None, frozenset(skills or {"general"}), **kw)  # type: ignore[arg-type]


def plan(waiting: list[WaitingContact], staff: list[CounsellorLoad], at: datetime = T0) -> dict[str, int]:
    return {a.contact_id: a.counsellor_id for a in SkillsRouter().plan(waiting, staff, at)}


def test_an_urgent_contact_goes_before_older_normal_ones() -> None:
    waiting = [
        contact("old", 0),
        contact("urgent", 50, priority=Priority.URGENT),
        contact("high", 10, priority=Priority.HIGH),
    ]
    assert [c.id for c in queue_order(waiting)] == ["urgent", "high", "old"]
    assert plan(waiting, [counsellor(1, max_chats=1)]) == {"urgent": 1}


def test_a_specialist_contact_waits_for_the_skill_until_the_fallback() -> None:
    legal = contact("legal", 0, skill="legal")
    staff = [counsellor(1, "general"), counsellor(2, "technical")]
    assert plan([legal], staff, T0 + timedelta(seconds=179)) == {}
    assert plan([legal], staff, T0 + timedelta(seconds=180)) == {"legal": 1}  # general takes it


def test_a_specialist_gets_their_skill_first() -> None:
    staff = [counsellor(1, "general"), counsellor(2, "legal")]
    assert plan([contact("x", skill="legal")], staff) == {"x": 2}


def test_a_contact_nobody_can_serve_does_not_block_the_ones_behind() -> None:
    waiting = [contact("legal", 0, skill="legal"), contact("tech", 1, skill="technical")]
    assert plan(waiting, [counsellor(1, "technical")]) == {"tech": 1}


def test_someone_on_a_call_gets_no_chats_but_can_be_called() -> None:
    on_call = CounsellorLoad(1, 3, 0, None, frozenset({"general"}), max_voice=1, active_voice=1)
    assert plan([contact("chat")], [on_call]) == {}
    free = counsellor(2)
    assert plan([contact("call", channel=Channel.VOICE)], [free]) == {"call": 2}
    assert plan([contact("call2", channel=Channel.VOICE)], [on_call]) == {}


def test_a_contact_transferred_to_a_named_counsellor_waits_for_them_only() -> None:
    waiting = [contact("x", target_counsellor_id=2)]
    assert plan(waiting, [counsellor(1)]) == {}
    assert plan(waiting, [counsellor(1), counsellor(2)]) == {"x": 2}


def test_a_named_transfer_falls_back_to_anyone_with_its_skill_after_its_deadline() -> None:
    deadline = T0 + timedelta(minutes=3)
    waiting = [contact("x", skill="legal", target_counsellor_id=2, target_until=deadline)]
    lawyer = counsellor(1, "legal")
    assert plan(waiting, [lawyer], at=deadline - timedelta(seconds=1)) == {}
    assert plan(waiting, [lawyer], at=deadline) == {"x": 1}
    assert plan(waiting, [lawyer, counsellor(2)], at=deadline - timedelta(seconds=1)) == {"x": 2}


def test_a_requeued_contact_keeps_its_place() -> None:
    back = contact("back", 0)  # enqueued first, put back later with its original time
    newer = contact("newer", 30)
    assert plan([newer, back], [counsellor(1, max_chats=1)]) == {"back": 1}


def test_positions_count_only_contacts_competing_for_the_same_counsellors() -> None:
    waiting = [
        contact("l1", 0, skill="legal"),
        contact("t1", 1, skill="technical"),
        contact("l2", 2, skill="legal"),
    ]
    staff = [
        CounsellorLoad(1, 1, 1, None, frozenset({"legal"})),
        CounsellorLoad(2, 1, 1, None, frozenset({"technical"})),
    ]
    stood = standings(waiting, staff, 600)
    assert (stood["l1"].position, stood["t1"].position, stood["l2"].position) == (1, 1, 2)
    assert stood["l2"].estimated_wait_s == 1200


def test_triage_raises_priority_from_words_in_french_and_english() -> None:
    assert TRIAGE.priority(None, "J'ai envie de MOURIR") is Priority.URGENT
    assert TRIAGE.priority(None, "je pense au suicide depuis hier") is Priority.URGENT
    assert TRIAGE.priority(None, "I want to die") is Priority.URGENT
    assert TRIAGE.priority(None, "il menace de publier mes photos") is Priority.HIGH
    assert TRIAGE.priority(None, "he is blackmailing me") is Priority.HIGH
    assert TRIAGE.priority(None, "bonjour, j'ai une question sur tiktok") is Priority.NORMAL


def test_triage_matches_whole_words_only() -> None:
    assert TRIAGE.priority(None, "unnude") is Priority.NORMAL
    assert TRIAGE.priority(None, "la chantagerie") is Priority.NORMAL


def test_the_topic_sets_skill_and_priority() -> None:
    assert TRIAGE.priority("sextortion") is Priority.HIGH
    assert TRIAGE.skill("sextortion") == "legal"
    assert TRIAGE.skill("hacked_account") == "technical"
    assert TRIAGE.skill(None) == "general"
    # words only raise: a high topic stays high on a calm message, and becomes urgent on a cry
    assert TRIAGE.priority("sextortion", "bonjour") is Priority.HIGH
    assert TRIAGE.priority("sextortion", "je veux mourir") is Priority.URGENT
