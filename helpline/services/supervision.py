"""What the console lists besides one's own contacts: colleagues to transfer to, and, for
supervisors, every conversation in progress (to monitor one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .events import caller_label, iso

if TYPE_CHECKING:
    from .facade import Services



async def colleagues(services: Services) -> list[dict[str, Any]]:
    """Every enabled counsellor: id, name, status and skills (what a transfer needs)."""
    overview = await services.floor.overview()
    staff: list[dict[str, Any]] = overview["counsellors"]  # type: ignore[assignment]
    return [{k: c[k] for k in ("id", "display_name", "status", "skills")} for c in staff]


async def conversations_in_progress(services: Services) -> list[dict[str, Any]]:
    """Every assigned contact, with who holds it: nothing that identifies the visitor."""
    overview = await services.floor.overview()
    staff: list[dict[str, Any]] = overview["counsellors"]  # type: ignore[assignment]
    found = []
    async with services.ctx.store.reading() as tx:
        for counsellor in staff:
            for c in await tx.contacts.active_for(counsellor["id"]):
                found.append({
                    "contact_id": c.id, "channel": c.channel.value, "counsellor_id": counsellor["id"],
                    "counsellor": counsellor["display_name"], "skill": c.skill,
                    "priority": c.priority.label, "topic": c.profile.get("topic"),
                    "assigned_at": iso(c.assigned_at) if c.assigned_at else None,
                    **({"caller": caller_label(c.caller_key)} if c.caller_key else {}),
                })
    return found
