"""`helpline serve | demo | db upgrade | counsellor add | purge | ...`."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from . import logs
from .config import Settings, invalid_settings
from .crypto import KeyRing, KeyRingError, SealedDataError, generate_entry
from .domain.counsellor import MAX_CHATS, MIN_CHATS, Role
from .domain.errors import DomainError
from .domain.handoffs import HandoffState
from .i18n import LANGUAGES, translate
from .plugins import channels
from .services.handoff_targets import TargetsError, load_targets
from .store.keys import LOCAL_KEY_FILE, KeysUnavailable, load_keys

if TYPE_CHECKING:
    from .services import Services

DEMO_USERS = (  # username, password, name, role, where calls ring
    ("demo", "demo", "Demo", Role.COUNSELLOR, "client:demo"),
    ("superviseur", "demo", "Superviseur·e démo", Role.SUPERVISOR, None),
)


def _settings(args: argparse.Namespace, *, always_open: bool = False) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if always_open or getattr(args, "always_open", False):
        overrides["schedule"] = "always"
    return Settings(**overrides)  # type: ignore[arg-type]


MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter


def few_malloc_arenas() -> bool:
    """At most two glibc malloc arenas (unless MALLOC_ARENA_MAX says otherwise). Each thread
    that allocates (aiosqlite's, one per pooled connection; the executor's) would otherwise
    get an arena of its own, holding freed memory: with 1,000 sockets that was 8 KiB a socket
    of RSS for nothing (README, Performance). Call before any thread starts; True if applied."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))
    except (OSError, AttributeError):  # not glibc (musl has no arenas to limit)
        return False


def _serve(settings: Settings, banner: str = "", *, worker: bool = False) -> None:
    from .app import build_app
    from .store.migrate import upgrade

    few_malloc_arenas()
    logs.configure(settings.log_level)
    app = build_app(settings)  # the channels' settings are checked before anything changes
    if settings.is_sqlite:  # the embedded database upgrades itself
        upgrade(settings.database_url)
    if worker:  # one of `serve --workers N`'s processes: the supervisor prints the banner
        from .workers import watch_supervisor

        watch_supervisor(app)

    def started(_line: str) -> None:
        base = f"http://{settings.host}:{settings.port}"
        database = settings.sqlite_path()
        local_keys = ""  # the demo's own key file (stderr carries only JSON lines)
        if database is not None and not settings.data_keys and settings.data_keys_file is None:
            key_file = database.parent / LOCAL_KEY_FILE
            local_keys = (f"  warning: data sealed with the local key file {key_file};\n"
                          "  production must set HELPLINE_DATA_KEYS (see `helpline keys generate`)\n")
        print(banner + f"Helpline serving on {base}\n"
              f"  console (counsellors, supervisors): {base}/console/\n"
              f"  chat widget demo page:              {base}/demo\n"
              f"  status:                             {base}/api/v1/status\n"
              f"  API description:                    {base}/api/v1/openapi.json\n"
              f"{local_keys}(Ctrl+C to stop)", flush=True)

    web.run_app(
        app, host=settings.host, port=settings.port, reuse_port=worker or None,
        access_log_class=logs.RedactedAccessLogger, print=None if worker else started,
        shutdown_timeout=5.0,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.reuse_port or args.workers == 1:
        _serve(settings, worker=args.reuse_port)
        return 0
    from .app import build_app
    from .workers import Supervisor, refusal

    why = refusal(settings)
    if why is not None:
        print(f"error: {why}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    build_app(settings)  # a bad schedule, targets file or missing keys: refused here, once
    worker_args = ["--host", settings.host, "--port", str(settings.port)]
    if args.always_open:
        worker_args.append("--always-open")
    print(f"Helpline serving on http://{settings.host}:{settings.port} with {args.workers} worker "
          "processes\n(Ctrl+C to stop)", flush=True)
    return asyncio.run(Supervisor(args.workers, worker_args, metrics=settings.metrics_enabled).run())


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def cmd_demo(args: argparse.Namespace) -> int:
    """Upgrade the embedded database, make sure the demo accounts exist, serve."""
    from .store.migrate import upgrade

    settings = _settings(args, always_open=True)
    if settings.is_sqlite:
        upgrade(settings.database_url)
    created = asyncio.run(_ensure_demo_users(settings))
    lines = [f"  {u} / {p}  ({r.value})" for u, p, _, r, _ in DEMO_USERS]
    banner = ("Demo accounts" + (" created" if created else "") + ":\n" + "\n".join(lines) + "\n")
    banner += "".join(channel.demo() for channel in channels())
    _serve(settings, banner)
    return 0


async def _ensure_demo_users(settings: Settings) -> bool:
    services, close = await _services(settings)
    created = False
    try:
        for username, password, name, role, voice in DEMO_USERS:
            try:
                await services.accounts.add_counsellor(
                    username, password, display_name=name, role=role, voice_endpoint=voice,
                    demo_account=True,
                )
                created = True
            except DomainError:
                pass  # already there
    finally:
        await close()
    return created


async def _services(settings: Settings, *, need_keys: bool = False
                    ) -> tuple[Services, Callable[[], Awaitable[None]]]:
    """The use cases on their own, for one-off commands (no server, in-process bus).
    Without data keys (PostgreSQL), a command that reads nothing sealed still runs."""
    from .bus import MemoryBus
    from .clock import SystemClock
    from .services import Services
    from .store import Store

    if settings.is_sqlite:  # the embedded database upgrades itself, as `serve` does
        from .store.migrate import upgrade

        await asyncio.to_thread(upgrade, settings.database_url)
    try:
        keys = load_keys(settings).ring
    except KeysUnavailable:
        if need_keys:
            raise
        keys = KeyRing([])  # reads clear rows only; whatever is sealed says so when read
    store = Store(settings.database_url, keys)
    services = Services.build(settings, store, MemoryBus(), SystemClock())
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

    async def add(services: Services) -> int:
        counsellor_id = await services.accounts.add_counsellor(
            args.username, password, display_name=args.display_name, role=Role(args.role),
            max_chats=args.max_chats, max_voice=args.max_voice, voice_endpoint=args.voice,
            skills=args.skills.split(",") if args.skills else None,
        )
        print(f"{args.role} {args.username!r} added (id {counsellor_id})")
        return 0

    settings = Settings()
    try:
        return _with_services(settings, add)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def cmd_handoffs_list(args: argparse.Namespace) -> int:
    async def listing(services: Services) -> int:
        state = HandoffState(args.state) if args.state else None
        for h in await services.handoffs.listed(None, state):
            error = f"  {h.last_error}" if h.last_error else ""
            print(f"{h.id:>5}  {h.reference}  {h.target_id:<18} {h.state.value:<18} "
                  f"{h.updated_at:%Y-%m-%d %H:%M}{error}")
        return 0

    return _with_services(Settings(), listing)


def cmd_handoffs_show(args: argparse.Namespace) -> int:
    async def show(services: Services) -> int:
        handoffs = services.handoffs
        h = await handoffs.get(args.id)
        print(f"{h.reference}  {h.target_id}  {h.state.value}  partner: {h.partner_reference or '-'}"
              f"{'  last error: ' + h.last_error if h.last_error else ''}")
        for step in await handoffs.timeline(h.id, None):
            print(f"  {step['at']:%Y-%m-%d %H:%M:%S}  {step['action']:<16} "
                  f"by {step['actor_id'] or 'system'}  {step['detail'] or ''}".rstrip())
        return 0

    return _with_services(Settings(), show)


def cmd_handoffs_retry(args: argparse.Namespace) -> int:
    async def retry(services: Services) -> int:
        h = await services.handoffs.retry(args.id, None)
        print(f"{h.reference}: {h.state.value}")
        return 0

    return _with_services(Settings(), retry)


def cmd_handoff_targets_check(args: argparse.Namespace) -> int:
    try:
        targets = load_targets(args.file)
    except TargetsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for t in targets.values():
        print(f"{t.id}: {t.kind.value}, {t.connector}, {len(t.fields)} field(s)"
              f"{', approval' if t.approval and t.sends else ''}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Retention's purge now: what is due goes (or, with --dry-run, is only counted), with a
    progress bar per kind on stderr and a summary per kind on stdout."""
    from tqdm import tqdm

    async def purge(services: Services) -> int:
        due = await services.purge.due()
        if args.dry_run:
            _summary("would go (dry run)", due)
            return 0
        bars = {kind: tqdm(total=n, desc=kind.value, unit="row", file=sys.stderr, ascii=True,
                           mininterval=0.5, leave=True) for kind, n in due.items() if n}
        try:
            gone = await services.purge.run(lambda kind, n: bars[kind].update(n) if kind in bars else None)
        finally:
            for bar in bars.values():
                bar.close()
        if gone is None:
            print("error: another purge is running (its lease is held); nothing done", file=sys.stderr)
            return 1
        _summary("gone", gone)
        return 0

    logs.configure(Settings().log_level)
    return _with_services(Settings(), purge)


def _summary(title: str, counts: dict[Any, int]) -> None:
    print(f"{title}:")
    for kind, n in counts.items():
        print(f"  {kind.value:<12} {n:>9,}")


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[int]], *,
                   need_keys: bool = False) -> int:
    async def run() -> int:
        services, close = await _services(settings, need_keys=need_keys)
        try:
            return await work(services)
        finally:
            await close()

    return asyncio.run(run())


def cmd_keys_generate(args: argparse.Namespace) -> int:
    """Print a new entry; its id is not one the ring (HELPLINE_DATA_KEYS) already has."""
    settings = Settings()
    given = settings.data_keys or settings.data_keys_file is not None
    print(generate_entry(date.today(), load_keys(settings).ring.key_ids if given else ()))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .store.rotation import pending, rotate

    if args.batch < 1:
        print("error: --batch must be 1 or more", file=sys.stderr)
        return 2

    async def run(services: Services) -> int:
        store = services.ctx.store
        todo = await pending(store)
        print(f"re-sealing under {store.keys.newest}: {sum(todo.values())} row(s) to do", flush=True)
        tty = sys.stderr.isatty()
        with tqdm(total=sum(todo.values()), unit="row", file=sys.stderr, ascii=not tty,
                  mininterval=0.5 if tty else 5.0, disable=None if tty else False) as bar:
            def advance(table: str, rows: int) -> None:
                bar.set_description(table)
                bar.update(rows)

            done = await rotate(store, args.batch, advance)
        for table, n in done.resealed.items():
            skipped = done.skipped[table]
            again = f", {skipped} changed meanwhile (run again)" if skipped else ""
            print(f"  {table:<9} {n} re-sealed{again}")
        return 0

    return _with_services(Settings(), run, need_keys=True)


REPORT_PROGRESS_DAYS = 92  # a longer range shows a progress bar


def cmd_report(args: argparse.Namespace) -> int:
    """One self-contained HTML report of the statistics of a range, small counts hidden."""
    from tqdm import tqdm

    from .reports.html import report
    from .reports.labels import Labels

    async def write(services: Services) -> int:
        statistics = services.statistics
        period = statistics.period(args.start, args.end)
        channel = statistics.channel(args.channel)
        labels = Labels(args.lang, services.ctx.handoff_targets)
        quiet = period.days <= REPORT_PROGRESS_DAYS
        with tqdm(total=1 + 14, unit="step", file=sys.stderr, ascii=True, disable=quiet,
                  desc="report") as bar:
            found = (await statistics.compute(period, channel)).suppressed()
            bar.total = 1 + len(found.tables)
            bar.update(1)
            html = report(found, labels, services.ctx.clock.now().date(), advance=lambda: bar.update(1))
        args.out.write_text(html, "utf-8")
        print(f"{args.out}: {period.first} to {period.last}, {channel.value}, {len(html):,} bytes")
        return 0

    logs.configure(Settings().log_level)
    return _with_services(Settings(), write)


def _fmt_day(view: dict[str, Any]) -> str:
    hours = ", ".join(f"{h['from']}-{h['to']}" for h in view["hours"]) or "fermé / closed"
    notes = ([view["holiday"]["fr"]] if view["holiday"] else []) + view["exceptions"]
    line = f"{view['date']} {view['weekday'][:3]}  {hours}"
    return line + (f"  ({'; '.join(notes)})" if notes else "")


def cmd_schedule_show(args: argparse.Namespace) -> int:
    async def show(services: Services) -> int:
        view = await services.schedules.public_view(services.ctx.clock.now(), days=args.days)
        state = "OUVERT / OPEN" if view["open"] else "FERMÉ / CLOSED"
        change = view["closes_at"] if view["open"] else view["opens_at"]
        print(f"{state} now ({view['timezone']}); next change: {change or '-'}")
        for day in view["days"]:
            print("  " + _fmt_day(day))
        return 0

    return _with_services(Settings(), show)


def cmd_schedule_check(args: argparse.Namespace) -> int:
    async def check(services: Services) -> int:
        at = args.at if args.at.tzinfo else args.at.replace(tzinfo=services.schedules.zone)
        e = await services.schedules.explain(at)
        print(f"{e['at']} ({e['weekday']}): {'OPEN' if e['open'] else 'CLOSED'}"
              + ("" if e["accepting_contacts"] or not e["open"] else " (last-entry cutoff: no new contacts)"))
        print(f"  hours that day: {', '.join(e['hours']) or 'none'}")
        if e["holiday"]:
            print(f"  public holiday: {e['holiday']}")
        for reason in e["exceptions"]:
            print(f"  exception: {reason}")
        change = f"closes at {e['closes_at']}" if e["open"] else f"opens at {e['opens_at']}"
        print(f"  why: {e['why']}; {change}")
        return 0

    return _with_services(Settings(), check)


def _days(text: str) -> tuple[date, date]:
    first, _, last = text.partition("..")
    try:
        return date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError("dates look like 2026-12-24 or 2026-12-24..2026-12-31") from None


def cmd_schedule_change(args: argparse.Namespace) -> int:
    from .services.schedule import validate_override

    first, last = args.days
    override = validate_override(args.kind, first, last, args.start, args.end, args.reason)

    async def add(services: Services) -> int:
        new_id = await services.schedules.add_override(override, None)
        print(f"exception {new_id} added: {override.kind.value} {first}..{last} "
              f"{override.window or 'all day'} ({override.reason})")
        return 0

    return _with_services(Settings(), add)


def cmd_schedule_list(args: argparse.Namespace) -> int:
    async def listing(services: Services) -> int:
        for o in await services.schedules.list_overrides():
            print(f"{o.id:>4}  {o.kind.value:<5} {o.first}..{o.last}  {o.window or 'all day'}  {o.reason}")
        return 0

    return _with_services(Settings(), listing)


def cmd_schedule_remove(args: argparse.Namespace) -> int:
    async def remove(services: Services) -> int:
        if not await services.schedules.remove_override(args.id):
            print(f"error: no exception {args.id}", file=sys.stderr)
            return 1
        print(f"exception {args.id} removed")
        return 0

    return _with_services(Settings(), remove)


def _schedule_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("schedule", help="opening hours and exceptional closures")
    cmds = s.add_subparsers(dest="s_command", required=True)
    show = cmds.add_parser("show", help="the coming days' hours")
    show.add_argument("--days", type=int, default=14)
    show.set_defaults(fn=cmd_schedule_show)
    check = cmds.add_parser("check", help="open or closed at a given time, and why")
    check.add_argument("--at", type=datetime.fromisoformat, required=True,
                       help="e.g. 2026-12-25T10:00 (local time of the schedule) or with an offset")
    check.set_defaults(fn=cmd_schedule_check)
    for kind, text in (("close", "close exceptionally"), ("open", "open exceptionally")):
        c = cmds.add_parser(kind, help=f"{text} on a day or days (FIRST[..LAST])")
        c.add_argument("days", type=_days, metavar="FIRST[..LAST]")
        c.add_argument("--from", dest="start", help="HH:MM (with --to: only these hours)")
        c.add_argument("--to", dest="end", help="HH:MM")
        c.add_argument("--reason", required=True)
        c.set_defaults(fn=cmd_schedule_change, kind=kind)
    cmds.add_parser("list", help="the exceptions").set_defaults(fn=cmd_schedule_list)
    rm = cmds.add_parser("remove", help="remove an exception")
    rm.add_argument("id", type=int)
    rm.set_defaults(fn=cmd_schedule_remove)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helpline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    for name, fn, text in (("serve", cmd_serve, "run the server"),
                           ("demo", cmd_demo, "run the server with demo accounts (make run)")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--host")
        s.add_argument("--port", type=int)
        s.add_argument("--always-open", action="store_true",
                       help="serve 24/7 whatever the opening hours (demos, tests)")
        s.set_defaults(fn=fn)
        if name == "serve":
            s.add_argument("--workers", type=_positive, default=1, metavar="N",
                           help="N processes sharing the port (PostgreSQL and Redis only)")
            s.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # a worker

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
    add.add_argument("--max-chats", type=int, choices=range(MIN_CHATS, MAX_CHATS + 1),
                     metavar=f"{MIN_CHATS}-{MAX_CHATS}")
    add.add_argument("--max-voice", type=int, default=1, help="0 or 1 call at a time (default 1)")
    add.add_argument("--skills", help="comma-separated, e.g. general,legal (default: every skill)")
    add.add_argument("--voice", metavar="ENDPOINT",
                     help='where their calls ring: "+33612345678" or "client:identity" (none: no calls)')
    add.set_defaults(fn=cmd_counsellor_add)
    _schedule_parser(sub)
    purge = sub.add_parser("purge", help="erase what retention says is due (HELPLINE_RETAIN_*)")
    purge.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    purge.set_defaults(fn=cmd_purge)
    handoffs = sub.add_parser("handoffs", help="hand-offs to partners").add_subparsers(
        dest="h_command", required=True)
    listing = handoffs.add_parser("list", help="hand-offs, newest first (no field is shown)")
    listing.add_argument("--state", choices=[s.value for s in HandoffState])
    listing.set_defaults(fn=cmd_handoffs_list)
    for name, fn, text in (("show", cmd_handoffs_show, "a hand-off's state and what happened to it"),
                           ("retry", cmd_handoffs_retry, "deliver a failed hand-off again")):
        one = handoffs.add_parser(name, help=text)
        one.add_argument("id", type=int)
        one.set_defaults(fn=fn)
    targets = handoffs.add_parser("targets", help="where hand-offs go").add_subparsers(
        dest="t_command", required=True)
    check = targets.add_parser("check", help="check a targets file (the server checks its own at start)")
    check.add_argument("file", type=Path)
    check.set_defaults(fn=cmd_handoff_targets_check)
    rep = sub.add_parser("report", help="write the statistics of a range as one HTML file")
    rep.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first local day")
    rep.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last local day")
    rep.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    rep.add_argument("--channel", default="all", help="all (default), chat or voice")
    rep.add_argument("--lang", choices=LANGUAGES, default=LANGUAGES[0])
    rep.set_defaults(fn=cmd_report)
    keys = sub.add_parser("keys", help="data keys sealing what is stored").add_subparsers(
        dest="k_command", required=True)
    keys.add_parser("generate", help="print a new keyid:key entry").set_defaults(fn=cmd_keys_generate)
    rotate = keys.add_parser("rotate", help="re-seal every row under the newest key (safe while serving)")
    rotate.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
    rotate.set_defaults(fn=cmd_keys_rotate)
    for channel in channels():
        channel.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except DomainError as e:
        print(f"error: {e.code}: {translate(f'error.{e.code}', 'en')}", file=sys.stderr)
        return 1
    except ValidationError as e:  # a HELPLINE_* variable the settings refuse
        for line in invalid_settings(e):
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (KeysUnavailable, KeyRingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SealedDataError as e:
        print(f"error: {e}; add that key to HELPLINE_DATA_KEYS", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
