"""Who may see or act on what. One small function per action, one condition a line,
tested hard (tests/unit/test_access.py). Services and sockets ask these; nothing
decides access anywhere else."""

from __future__ import annotations

from .counsellor import Role


def may_act_on_contact(user_id: int, assigned_to: int | None) -> bool:
    """Write, type, end, transfer: only the counsellor the contact is assigned to."""
    return assigned_to is not None and assigned_to == user_id


def may_read_transcript(role: Role, user_id: int, assigned_to: int | None) -> bool:
    """Its counsellor, or a supervisor or admin."""
    if role.supervises:
        return True
    return may_act_on_contact(user_id, assigned_to)


def may_wrap_up(role: Role, user_id: int, assigned_to: int | None) -> bool:
    """Write or read a contact's wrap-up: whoever may read its transcript."""
    return may_read_transcript(role, user_id, assigned_to)


def may_set_priority(role: Role, user_id: int, assigned_to: int | None) -> bool:
    """Its counsellor, or a supervisor or admin for any contact."""
    if role.supervises:
        return True
    return may_act_on_contact(user_id, assigned_to)


def may_monitor(role: Role) -> bool:
    """Follow any conversation read-only, as it happens."""
    return role.supervises


def may_see_floor(role: Role) -> bool:
    """The supervisor's overview: every counsellor, the queue per skill, today's figures."""
    return role.supervises


def may_block_callers(role: Role) -> bool:
    """Block the caller of a call, or the sender of a live chat, for a while, and lift the
    block. A supervisor may monitor any conversation, so any they hold or monitor."""
    return role.supervises


def may_redirect(role: Role) -> bool:
    """Put any waiting or stuck contact back in the queue, for anyone or for a named colleague."""
    return role.supervises


def may_approve_handoff(role: Role, user_id: int, author_id: int) -> bool:
    """Four eyes: a supervisor or admin who is not the hand-off's author."""
    return role.supervises and user_id != author_id


def may_read_handoff(role: Role, user_id: int, author_id: int) -> bool:
    """A hand-off: its author, or a supervisor or admin (who also retry a failed one)."""
    return role.supervises or user_id == author_id


def may_see_statistics(role: Role) -> bool:
    """The statistics, their exports and the report: aggregates only, never a contact."""
    return role.supervises


def may_administer(role: Role) -> bool:
    """Accounts, canned responses, the line's exceptional closures and openings."""
    return role is Role.ADMIN


def may_manage_legal_holds(role: Role) -> bool:
    """See the contacts on legal hold and release one (with a reason; audited)."""
    return role is Role.ADMIN
