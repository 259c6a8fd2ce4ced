"""Composition root: builds the aiohttp Application from Settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from time import monotonic

from aiohttp import WSCloseCode, web
from prometheus_client import CollectorRegistry

from .bus import Bus, make_bus
from .bus.base import FLOOR, SESSIONS
from .clock import Clock, SystemClock
from .config import Settings
from .domain.access import may_see_floor
from .logs import get_logger
from .metrics import Metrics
from .plugins import channels
from .services import Services, events
from .services.schedule import load_config
from .services.throttle import LoginThrottle
from .store import Store
from .store.keys import load_keys
from .tasks import Periodic
from .web.csrf import csrf_middleware
from .web.errors import error_middleware
from .web.keys import LOGIN_THROTTLE, METRICS, REGISTRY, SERVICES, SETTINGS
from .web.registry import Registry
from .web.routes import setup_routes

MAX_BODY = 64 * 1024
CLOSE_SOCKETS_S = 3.0
log = get_logger("app")


def build_app(settings: Settings, *, clock: Clock | None = None, bus: Bus | None = None) -> web.Application:
    load_config(settings.schedule, settings.schedule_file)  # a bad schedule file fails here, not later
    app = web.Application(middlewares=[error_middleware, csrf_middleware], client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    metrics = Metrics(CollectorRegistry(auto_describe=False)) if settings.metrics_enabled else Metrics.off()
    app[METRICS] = metrics
    app[REGISTRY] = Registry(metrics)
    app[LOGIN_THROTTLE] = LoginThrottle()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        store = Store(settings.database_url, keys.ring)
        the_bus = bus or make_bus(settings.redis_url)
        await the_bus.start()
        services = Services.build(settings, store, the_bus, clock or SystemClock(), metrics)
        app[SERVICES] = services
        registry = app[REGISTRY]
        loops = background_loops(services, registry)

        def floor_changed(event: events.Event | None) -> None:
            services.views.floor_event(event)
            for loop in loops[:3]:
                loop.kick()

        def catch_up() -> None:  # the bus may have lost events: every client reads the truth again
            floor_changed(None)
            for conn in registry.all():
                conn.request_catch_up()

        the_bus.on_resync(catch_up)
        subscriptions = [
            await the_bus.subscribe(FLOOR, floor_changed),
            await the_bus.subscribe(SESSIONS, registry.session_ended),
        ]
        for loop in loops:
            loop.start()
        yield
        for sub in subscriptions:
            await sub.close()
        for loop in loops:
            await loop.stop()
        await registry.settle(within=2.0)
        await services.conversations.close()
        await the_bus.close()
        await services.limits.close()
        await store.close()

    app.cleanup_ctx.append(resources)
    app.on_shutdown.append(lambda app: close_sockets(app[REGISTRY]))
    setup_routes(app)
    for channel in channels():
        channel.setup(app, settings)
    keys = load_keys(settings)  # no keys on PostgreSQL: KeysUnavailable, before anything starts
    if keys.local_file is not None:
        log.warning("data_keys_local_file")  # the demo's own key file: production sets HELPLINE_DATA_KEYS
    return app


CONSOLE_REFRESH_S = 10.0  # the consoles' floor, sent again at least this often (the loop ticks every 15 s)


def background_loops(services: Services, registry: Registry) -> list[Periodic]:
    """The per-process loops. The first three are woken by every floor change."""
    settings = services.ctx.settings

    floor_seen = -1  # the floor version the consoles were last sent
    consoles_sent_at = -CONSOLE_REFRESH_S  # when (monotonic)

    async def notify_floor() -> None:
        """Queue positions to waiting visitors, the queue's summary to consoles, the
        overview to supervisors: after changes, at most twice a second (so a change, a
        caller hanging up say, shows everywhere within a second). A visitor is sent their
        figures when what they see changes, at most once a second (``PushGate``); a figure
        held back, or a snapshot older than a change, runs this again."""
        nonlocal floor_seen, consoles_sent_at
        views = services.views
        visitors = [conn for conns in registry.visitors.values() for conn in conns]
        consoles = [conn for conns in registry.consoles.values() for conn in conns]
        version = views.floor_version
        again = False
        if visitors:
            snapshot = await views.snapshot()
            now = monotonic()
            for conn in visitors:
                standing = snapshot.standings.get(conn.contact_id)
                if standing is not None:
                    again |= conn.queue_update(standing, now)
        # Also now and then when nothing changed: what time alone changes (a chat nobody is
        # behind any more) still reaches the floor.
        now = monotonic()
        if consoles and (version != floor_seen or now - consoles_sent_at >= CONSOLE_REFRESH_S):
            floor_seen, consoles_sent_at = version, now
            waiting = events.waiting_list(await views.queue_summary())
            for console in consoles:
                console.push(waiting)
            supervisors = [c for c in consoles if may_see_floor(c.user.role)]
            if supervisors:
                overview = events.overview(await views.overview())
                for console in supervisors:
                    console.push(overview)
        if again or (visitors and not views.snapshot_current):
            loops[1].kick()

    async def heartbeat() -> None:
        await services.floor.visitors_live(list(registry.visitors))
        await services.floor.consoles_live(list(registry.consoles))

    loops = [
        # kicked by every change: a surge of joins makes a few runs a second, not one a join
        Periodic("dispatch", services.floor.dispatch, settings.dispatch_interval_s, min_gap=0.1),
        Periodic("floor-updates", notify_floor, 15.0, min_gap=0.5),
        Periodic("handoffs", services.handoffs.dispatch_due, 5.0, min_gap=0.25),
        Periodic("heartbeat", heartbeat, settings.heartbeat_s),
        Periodic("sweep", services.floor.sweep, settings.sweep_interval_s),
        Periodic("purge", services.purge.run, settings.purge_interval_s),
    ]
    return loops


async def close_sockets(registry: Registry) -> None:
    """Shutting down: every socket is told (1001 going away) and closed, within seconds
    even if a client never answers the close."""
    conns = registry.all()
    try:
        async with asyncio.timeout(CLOSE_SOCKETS_S):
            await asyncio.gather(
                *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server_shutdown") for c in conns),
                return_exceptions=True,
            )
    except TimeoutError:
        log.warning("sockets_close_timeout", open=sum(1 for c in conns if not c.ws.closed))
