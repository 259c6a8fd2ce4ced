"""`helpline telephony simulate | configure | forget`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .config import TelephonySettings

DEMO_TOKEN = "demo-auth-token"  # noqa: S105 (the demo server's, printed in its banner)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = commands.add_parser("telephony", help="the phone line (Twilio)")
    cmds = t.add_subparsers(dest="t_command", required=True)
    sim = cmds.add_parser("simulate", help="play a caller against a running server (fake carrier)")
    sim.add_argument("--caller", required=True, help="the number calling, e.g. +33612345678")
    sim.add_argument(
        "--press",
        choices=["1", "2", "3", "9"],
        help="keypad answer: 1 young person, 2 parent, 3 professional, 9 English",
    )
    sim.add_argument("--hangup-after", type=float, metavar="SECONDS", help="the caller hangs up then")
    sim.add_argument("--no-answer", action="store_true", help="the counsellor's phone does not pick up")
    sim.add_argument("--url", default=None, help="the server (default: HELPLINE_PUBLIC_URL, else :8080)")
    sim.set_defaults(fn=cmd_simulate)
    conf = cmds.add_parser("configure", help="point the Twilio number's webhooks at HELPLINE_PUBLIC_URL")
    conf.add_argument("--number", help="the helpline's Twilio number (default: HELPLINE_TWILIO_NUMBER)")
    conf.set_defaults(fn=cmd_configure)
    forget = cmds.add_parser("forget", help="erase what is kept about a caller who asks (number on stdin)")
    forget.set_defaults(fn=cmd_forget)


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulator import Caller

    settings = TelephonySettings()
    token = settings.token if settings.enabled else DEMO_TOKEN
    if not settings.enabled:
        print(f"(HELPLINE_TWILIO_AUTH_TOKEN not set: signing with the demo server's {DEMO_TOKEN!r})")
    caller = Caller(
        server=args.url or settings.public_url or settings.own_url,
        public_url=settings.public_url or args.url or settings.own_url,  # what the server signs
        token=token,
        number=args.caller,
        press=args.press,
        hangup_after=args.hangup_after,
        answer=not args.no_answer,
    )
    try:
        asyncio.run(caller.run())
    except (OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_configure(args: argparse.Namespace) -> int:
    from .carrier import CarrierError
    from .plugin import make_carrier
    from .webhooks import PREFIX

    settings = TelephonySettings()
    number = args.number or settings.twilio_number
    if settings.carrier != "twilio" or not number or not settings.public_url:
        print(
            "error: needs HELPLINE_TWILIO_ACCOUNT_SID, HELPLINE_TWILIO_AUTH_TOKEN, HELPLINE_SECRET_KEY, "
            "HELPLINE_PUBLIC_URL and the number (--number or HELPLINE_TWILIO_NUMBER)",
            file=sys.stderr,
        )
        return 2
    voice_url = f"{settings.public_url}{PREFIX}/incoming"
    status_url = f"{settings.public_url}{PREFIX}/status"

    async def point() -> str:
        carrier = make_carrier(settings)
        try:
            return await carrier.point_number(number, voice_url, status_url)
        finally:
            await carrier.close()

    try:
        sid = asyncio.run(point())
    except CarrierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{number} ({sid}): calls -> {voice_url}\n  status callbacks -> {status_url}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    """A caller's erasure request: the number is read from stdin (never an argument, which
    shell histories keep), keyed as calls are, and that key is erased from every contact
    and block. The number itself is never stored nor printed."""
    from helpline import logs
    from helpline.cli import _with_services
    from helpline.config import Settings

    from .callers import caller_key

    settings = TelephonySettings()
    if settings.secret_key is None:
        print("error: HELPLINE_SECRET_KEY is not set: callers were keyed with a key that "
              "died with its process, so nothing kept can be linked to a number", file=sys.stderr)
        return 2
    key = caller_key(settings.caller_secret(), sys.stdin.readline().strip(), settings.phone_region)
    if key is None:
        print("error: not a phone number", file=sys.stderr)
        return 2

    async def forget(services: Any) -> int:
        contacts, blocked = await services.calls.forget_caller(key)
        print(f"caller forgotten: key erased from {contacts} contact(s)"
              f"{', block lifted' if blocked else ''}")
        return 0

    logs.configure(Settings().log_level)  # JSON lines on stderr, as the server's
    return _with_services(Settings(), forget)
