"""A socket's outbox: events leave in the order they came, the writer waits without
spinning, and a client that stops reading fills it up to its limit and no further."""

from __future__ import annotations

import asyncio

from helpline.web.connection import Outbox


async def test_events_leave_in_order_and_a_waiting_writer_is_woken() -> None:
    box = Outbox(10)
    got: list[int] = []

    async def writer() -> None:
        while len(got) < 3:
            got.append((await box.get())["n"])

    task = asyncio.create_task(writer())
    await asyncio.sleep(0)  # the writer now waits on an empty outbox
    assert not task.done()
    for n in range(3):
        assert box.put({"type": "x", "n": n})
    async with asyncio.timeout(5):
        await task
    assert got == [0, 1, 2]


async def test_a_full_outbox_refuses_the_next_event_and_keeps_the_ones_it_has() -> None:
    box = Outbox(2)
    assert box.put({"type": "x", "n": 1}) and box.put({"type": "x", "n": 2})
    assert not box.put({"type": "x", "n": 3})
    assert [(await box.get())["n"] for _ in range(2)] == [1, 2]
    assert box.put({"type": "x", "n": 4})  # room again


async def test_a_writer_cancelled_while_waiting_leaves_the_outbox_usable() -> None:
    box = Outbox(2)
    task = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert box.put({"type": "x", "n": 1})
    async with asyncio.timeout(5):
        assert (await box.get())["n"] == 1
