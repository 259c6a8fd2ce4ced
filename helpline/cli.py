"""`helpline serve | demo | db upgrade | counsellor add`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from aiohttp import web

from . import logs
from .config import Settings
from .domain.counsellor import Role
from .domain.errors import DomainError

DEMO_USERS = (
    ("demo", "demo", "Demo", Role.COUNSELLOR),
    ("superviseur", "demo", "Superviseur·e démo", Role.SUPERVISOR),
)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return Settings(**overrides)


def _serve(settings: Settings, banner: str = "") -> None:
    from .app import build_app
    from .store.migrate import upgrade

    logs.configure(settings.log_level)
    if settings.is_sqlite:  # the embedded database upgrades itself
        upgrade(settings.database_url)

    def started(_line: str) -> None:
        base = f"http://{settings.host}:{settings.port}"
        print(banner + f"Helpline serving on {base}\n"
              f"  status:  {base}/api/v1/status\n"
              f"  API doc: {base}/api/v1/openapi.json\n"
              "(Ctrl+C to stop)", flush=True)

    web.run_app(
        build_app(settings), host=settings.host, port=settings.port,
        access_log_class=logs.RedactedAccessLogger, print=started, shutdown_timeout=5.0,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(_settings(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Upgrade the embedded database, make sure the demo accounts exist, serve."""
    from .store.migrate import upgrade

    settings = _settings(args)
    if settings.is_sqlite:
        upgrade(settings.database_url)
    created = asyncio.run(_ensure_demo_users(settings))
    lines = [f"  {u} / {p}  ({r.value})" for u, p, _, r in DEMO_USERS]
    banner = ("Demo accounts" + (" created" if created else "") + ":\n" + "\n".join(lines) + "\n")
    _serve(settings, banner)
    return 0


async def _ensure_demo_users(settings: Settings) -> bool:
    services, close = await _services(settings)
    created = False
    try:
        for username, password, name, role in DEMO_USERS:
            try:
                await services.accounts.add_counsellor(username, password, display_name=name, role=role)
                created = True
            except DomainError:
                pass  # already there
    finally:
        await close()
    return created


async def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from .bus import MemoryBus
    from .clock import SystemClock
    from .domain.routing import FirstComeFirstServed
    from .domain.schedule import AlwaysOpen
    from .services import Context, Services
    from .store import Store

    store = Store(settings.database_url)
    services = Services(Context(store, MemoryBus(), SystemClock(), settings,
                                FirstComeFirstServed(), AlwaysOpen()))
    return services, store.close


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from .store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def cmd_counsellor_add(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("error: give the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    settings = Settings()
    if settings.is_sqlite:  # the embedded database upgrades itself, as `serve` does
        from .store.migrate import upgrade

        upgrade(settings.database_url)

    async def add() -> int:
        services, close = await _services(settings)
        try:
            return await services.accounts.add_counsellor(
                args.username, password, display_name=args.display_name, role=Role(args.role),
                max_chats=args.max_chats,
            )
        finally:
            await close()

    try:
        counsellor_id = asyncio.run(add())
    except DomainError as e:
        print(f"error: {e.code}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.role} {args.username!r} added (id {counsellor_id})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helpline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    for name, fn, text in (("serve", cmd_serve, "run the server"),
                           ("demo", cmd_demo, "run the server with demo accounts (make run)")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--host")
        s.add_argument("--port", type=int)
        s.add_argument("--always-open", action="store_true",
                       help="serve 24/7 (the only schedule until opening hours exist)")
        s.set_defaults(fn=fn)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations (Alembic)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(fn=cmd_db_upgrade)

    accounts = sub.add_parser("counsellor", help="counsellor accounts")
    c = accounts.add_subparsers(dest="c_command", required=True)
    add = c.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--display-name")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.COUNSELLOR.value)
    add.add_argument("--max-chats", type=int)
    add.set_defaults(fn=cmd_counsellor_add)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    raise SystemExit(main())
