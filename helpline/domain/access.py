"""Who may see or act on a contact. One condition a line, tested hard."""

from __future__ import annotations

from .counsellor import Role


def may_read_transcript(role: Role, user_id: int, assigned_to: int | None) -> bool:
    if role.supervises:
        return True
    return assigned_to is not None and assigned_to == user_id


def may_act_on_contact(user_id: int, assigned_to: int | None) -> bool:
    """Write, type or end: only the counsellor the contact is assigned to."""
    return assigned_to is not None and assigned_to == user_id
