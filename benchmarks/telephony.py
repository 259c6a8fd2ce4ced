"""Phone line benchmark: how fast the Twilio webhooks answer with N callers on hold.

Twilio gives up on a webhook after 15 s; we aim at milliseconds. With N callers waiting,
each caller's hold loop posts ``/telephony/voice/wait`` every 45 s (about N/45 requests a
second: 11/s for 500 callers), and every new call posts ``/telephony/voice/incoming``.

What it measures
    Setup: N callers (``--callers``, 500) ring (``incoming``) and press a key (``choice``)
    through the real webhooks, with no counsellor online, so all N stay queued.
    Then, for ``incoming`` (new CallSids, which do not join the queue) and for ``wait``
    (the N waiting CallSids in turn, so each answer computes a position in the whole queue):

    paced   open loop at ``--rate`` requests a second (default N/45: the hold loops of N
            callers) for ``--paced-requests`` (250); latency is counted from the request's
            scheduled time, so a slow server cannot slow the sender down.
    burst   closed loop, ``--concurrency`` requests in flight (20) for ``--requests``
            (2000): the most the server answers a second, and the latency when it must.

    Every request is signed as Twilio signs it (``X-Twilio-Signature``, HMAC-SHA1 over the
    public URL and the sorted parameters), every answer must be 200 and valid TwiML of the
    right kind (a keypad ``Gather`` to ``choice``; a ``Pause`` and a ``Redirect`` to ``wait``).

The two servers
    ours      ``helpline serve --always-open`` on a fresh SQLite database in a temporary
              directory, with a Twilio auth token and its own address as public URL (fake
              carrier: nothing leaves the machine).
    baseline  a bare aiohttp app defined in this file (``--baseline-server``): it reads the
              form, checks the signature the same way (``RequestValidator``) and answers a
              fixed TwiML document of the same shape and size. The floor any webhook pays.

Each server is a subprocess, run one after the other (the baseline first); the servers get
all CPUs but the last and this load generator the last (``--no-pin`` to let them share).
Loopback addresses only; every subprocess is stopped and the temporary directory removed at
the end, even on Ctrl+C. The visitor grace is raised for the run so that no caller is ended
as gone while the other webhook is measured.

    python benchmarks/telephony.py                       # 500 callers waiting
    python benchmarks/telephony.py --callers 2000 --concurrency 50
    python benchmarks/telephony.py --json                # machine-readable results
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import re
import secrets
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from processes import HOST, Bench, ServerProcess, cpu_seconds, log, run_cli, serve_baseline
from report import aligned, figure, json_ready, percentile_ms, ratio
from twilio.request_validator import RequestValidator

PREFIX = "/telephony/voice"
NS = 1_000_000_000
THIS_FILE = str(Path(__file__).resolve())
FORM = "application/x-www-form-urlencoded"
POSITION = re.compile(r"position (\d+)")
HOLD_LOOP_S = 45  # a caller on hold posts /wait this often (HELPLINE_HOLD_ANNOUNCE_S)
GRACE_S = 3600  # HELPLINE_VISITOR_GRACE_S for the run: no caller ends as gone between phases


# --- the baseline webhook server (runs in its own process with --baseline-server) ---------

# The same shapes and sizes as ours: the welcome with its keypad menu, "you are queued",
# one turn of the hold loop. {url} is the server's public URL.
BASELINE_TWIML = {
    "incoming": (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="{url}/telephony/voice/choice'
        '?lang=fr" method="POST" numDigits="1" timeout="5"><Say language="fr-FR">Bonjour, vous êtes '
        "sur la ligne d'écoute. L'appel est gratuit, anonyme et confidentiel : personne ne verra "
        'votre numéro.</Say><Say language="fr-FR">Si vous êtes un ou une jeune, tapez 1. Si vous '
        "êtes un parent, tapez 2. Si vous êtes un ou une professionnelle, tapez 3.</Say><Say "
        'language="en-GB">For English, press 9.</Say></Gather><Redirect method="POST">{url}'
        "/telephony/voice/choice?lang=fr</Redirect></Response>"
    ),
    "choice": (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="fr-FR">Merci. Une personne '
        "de l'équipe d'écoute va vous répondre. Restez en ligne.</Say><Redirect method=\"POST\">"
        "{url}/telephony/voice/wait?lang=fr</Redirect></Response>"
    ),
    "wait": (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="fr-FR">Vous êtes en '
        'position 137 dans la file.</Say><Say language="fr-FR">Restez en ligne, vous gardez votre '
        'place.</Say><Pause length="45" /><Redirect method="POST">{url}/telephony/voice/wait?lang=fr'
        "</Redirect></Response>"
    ),
}
BASELINE: web.AppKey[dict[str, str]] = web.AppKey("baseline", dict[str, str])


async def baseline_healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def baseline_webhook(request: web.Request) -> web.Response:
    """Read the form, check Twilio's signature as ours does, answer a fixed document."""
    settings = request.app[BASELINE]
    params = await request.post()
    signature = request.headers.get("X-Twilio-Signature", "")
    seen_by_twilio = settings["public_url"] + request.rel_url.path_qs
    if not signature or not RequestValidator(settings["token"]).validate(seen_by_twilio, params, signature):
        return web.json_response({"error": {"code": "bad_signature", "message": ""}}, status=403)
    document = settings.get(request.match_info["step"])
    if document is None:
        raise web.HTTPNotFound()
    return web.Response(text=document, content_type="text/xml")


def baseline_app(token: str, public_url: str) -> web.Application:
    app = web.Application()
    app[BASELINE] = {"token": token, "public_url": public_url,
                     **{step: doc.replace("{url}", public_url) for step, doc in BASELINE_TWIML.items()}}
    app.router.add_get("/healthz", baseline_healthz)
    app.router.add_post(PREFIX + "/{step}", baseline_webhook)
    return app


# --- server subprocesses ------------------------------------------------------------------


def server_env(token: str, public_url: str, database: Path | None) -> dict[str, str]:
    """This environment without any HELPLINE_* setting, plus the phone line's; with
    ``database``, ours: SQLite in there, warnings and errors only in its log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["HELPLINE_TWILIO_AUTH_TOKEN"] = token
    env["HELPLINE_PUBLIC_URL"] = public_url
    if database is not None:
        env["HELPLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
        env["HELPLINE_LOG_LEVEL"] = "warning"
        env["HELPLINE_SCHEDULE"] = "always"
        env["HELPLINE_VISITOR_GRACE_S"] = str(GRACE_S)
    return env


# --- signed requests, as Twilio sends them ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signed:
    path: str  # path?query, the same on the public URL and where the server listens
    body: bytes
    signature: str


class Twilio:
    """Signs webhook requests for one server with the auth token."""

    def __init__(self, token: str, public_url: str) -> None:
        self.validator = RequestValidator(token)
        self.public_url = public_url

    def request(self, step: str, sid: str, number: str, **extra: str) -> Signed:
        path = f"{PREFIX}/{step}" + ("" if step in ("incoming", "status") else "?lang=fr")
        params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": number, "To": "+33800000000",
                  "Direction": "inbound", "CallStatus": "in-progress", "ApiVersion": "2010-04-01", **extra}
        signature = self.validator.compute_signature(self.public_url + path, params)
        return Signed(path, urlencode(params).encode(), signature)


def new_call() -> tuple[str, str]:
    """A CallSid and a French mobile number."""
    return "CA" + secrets.token_hex(16), "+336" + "".join(secrets.choice("0123456789") for _ in range(8))


# --- what the load generator observes --------------------------------------------------------


def check_twiml(step: str, status: int, content_type: str, body: bytes) -> str | None:
    """None if ``body`` is the right answer to ``step``, else why not."""
    if status != 200:
        return f"http_{status}"
    if content_type != "text/xml":
        return "not_xml"
    try:
        root = ET.fromstring(body)  # our own servers' answers
    except ET.ParseError:
        return "invalid_xml"
    if root.tag != "Response":
        return "not_twiml"
    verbs = [v.tag for v in root]
    redirects = [(v.text or "").strip() for v in root if v.tag == "Redirect"]
    if step == "incoming":
        gather = root.find("Gather")
        if gather is None or f"{PREFIX}/choice" not in gather.get("action", ""):
            return "incoming_without_keypad"
    elif step == "choice":
        if not any(f"{PREFIX}/wait" in r for r in redirects):
            return "choice_not_queued"
    elif step == "wait" and ("Hangup" in verbs or not ({"Pause", "Play"} & set(verbs))
                             or not any(f"{PREFIX}/wait" in r for r in redirects)):
        return "wait_not_on_hold"
    return None


@dataclass
class Phase:
    """The requests of one phase and what came back."""

    step: str
    load: str  # paced or burst
    latencies_ns: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    positions: list[int] = field(default_factory=list)
    response_bytes: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    loadgen_cpu_s: float = 0.0

    def record(self, latency_ns: int, status: int, content_type: str, body: bytes) -> None:
        self.latencies_ns.append(latency_ns)
        self.response_bytes = max(self.response_bytes, len(body))
        problem = check_twiml(self.step, status, content_type, body)
        if problem is not None:
            self.errors[problem] += 1
        elif self.step == "wait":
            found = POSITION.search(body.decode(errors="replace"))
            self.positions.append(int(found.group(1)) if found else 1)


async def post(http: aiohttp.ClientSession, base: str, req: Signed, phase: Phase, start_ns: int) -> None:
    try:
        async with http.post(base + req.path, data=req.body,
                             headers={"X-Twilio-Signature": req.signature, "Content-Type": FORM}) as r:
            body = await r.read()
            phase.record(time.perf_counter_ns() - start_ns, r.status, r.content_type, body)
    except (aiohttp.ClientError, TimeoutError) as e:
        phase.latencies_ns.append(time.perf_counter_ns() - start_ns)
        phase.errors[f"client:{type(e).__name__}"] += 1


async def burst(http: aiohttp.ClientSession, base: str, requests: Sequence[Signed], phase: Phase,
                concurrency: int) -> None:
    """Closed loop: ``concurrency`` requests in flight until all are answered."""
    pending = iter(requests)

    async def worker() -> None:
        for req in pending:
            await post(http, base, req, phase, time.perf_counter_ns())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def paced(http: aiohttp.ClientSession, base: str, requests: Sequence[Signed], phase: Phase,
                rate: float) -> None:
    """Open loop: request i sent at start + i/rate whatever the answers; its latency counts
    from that scheduled time."""
    loop_start = time.perf_counter_ns()
    tasks: list[asyncio.Task[None]] = []
    for i, req in enumerate(requests):
        due = loop_start + int(i * NS / rate)
        delay = (due - time.perf_counter_ns()) / NS
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(http, base, req, phase, due)))
    await asyncio.gather(*tasks)


async def run_phase(server: ServerProcess, http: aiohttp.ClientSession, step: str, load: str,
                    requests: Sequence[Signed], config: Config) -> Phase:
    phase = Phase(step, load)
    log(f"{server.name}: {step}, {load}, {len(requests)} requests")
    cpu_start, wall_start = cpu_seconds(server.pid), time.perf_counter()
    loadgen_start = time.process_time()
    if load == "burst":
        await burst(http, server.url, requests, phase, config.concurrency)
    else:
        await paced(http, server.url, requests, phase, config.rate)
    phase.wall_s = time.perf_counter() - wall_start
    phase.server_cpu_s = cpu_seconds(server.pid) - cpu_start
    phase.loadgen_cpu_s = time.process_time() - loadgen_start
    return phase


async def fill_queue(server: ServerProcess, http: aiohttp.ClientSession, twilio: Twilio,
                     config: Config) -> tuple[list[tuple[str, str]], Phase]:
    """N callers ring and press a key (1, 2 or 3): N calls on hold. Their (sid, number)."""
    callers = [new_call() for _ in range(config.callers)]
    setup = Phase("choice", "setup")
    gate = asyncio.Semaphore(config.concurrency)
    rings = Phase("incoming", "setup")

    async def call(i: int, sid: str, number: str) -> None:
        async with gate:
            await post(http, server.url, twilio.request("incoming", sid, number, CallStatus="ringing"),
                       rings, time.perf_counter_ns())
            await post(http, server.url, twilio.request("choice", sid, number, Digits=str(1 + i % 3)),
                       setup, time.perf_counter_ns())

    log(f"{server.name}: {config.callers} callers ring and press a key")
    await asyncio.gather(*(call(i, sid, number) for i, (sid, number) in enumerate(callers)))
    setup.errors.update(rings.errors)
    if setup.errors:
        raise RuntimeError(f"{server.name}: filling the queue failed: {dict(setup.errors)}")
    return callers, setup


@dataclass
class Result:
    target: str
    step: str
    load: str
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    throughput: float  # answers a second over the phase
    server_cpu_ms_per_request: float
    loadgen_cpu_pct: float  # this process, % of a core: near 100 means it, not the server, was the limit
    response_bytes: int
    errors: dict[str, int]
    positions: list[int]  # lowest and highest position told (wait)


def result_of(target: str, phase: Phase) -> Result:
    lat = sorted(phase.latencies_ns)
    n = len(lat)
    return Result(
        target=target, step=phase.step, load=phase.load, requests=n,
        p50_ms=percentile_ms(lat, 50), p99_ms=percentile_ms(lat, 99), max_ms=percentile_ms(lat, 100),
        throughput=n / phase.wall_s if phase.wall_s else math.nan,
        server_cpu_ms_per_request=1000 * phase.server_cpu_s / n if n else math.nan,
        loadgen_cpu_pct=100 * phase.loadgen_cpu_s / phase.wall_s if phase.wall_s else math.nan,
        response_bytes=phase.response_bytes, errors=dict(phase.errors),
        positions=[min(phase.positions), max(phase.positions)] if phase.positions else [],
    )


@dataclass(frozen=True)
class Config(Bench):
    callers: int
    requests: int
    paced_requests: int
    rate: float
    concurrency: int


PHASES = (("incoming", "paced"), ("incoming", "burst"), ("wait", "paced"), ("wait", "burst"))


@dataclass
class TargetRun:
    results: list[Result]
    setup_s: float
    log_problems: list[str]


async def load_server(server: ServerProcess, config: Config, token: str) -> TargetRun:
    """Fill the queue, then each phase in turn."""
    await server.wait_healthy(60)
    twilio = Twilio(token, server.url)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30),
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        started = time.perf_counter()
        callers, _ = await fill_queue(server, http, twilio, config)
        setup_s = time.perf_counter() - started
        results = []
        gc.collect()
        gc.freeze()  # keep this process's collector pauses short while measuring
        try:
            for step, load in PHASES:
                count = config.requests if load == "burst" else config.paced_requests
                if step == "incoming":  # new calls: each rings once
                    requests = [twilio.request("incoming", *new_call(), CallStatus="ringing")
                                for _ in range(count)]
                else:  # the callers on hold, in turn
                    requests = [twilio.request("wait", *callers[i % len(callers)]) for i in range(count)]
                phase = await run_phase(server, http, step, load, requests, config)
                results.append(result_of(server.name, phase))
        finally:
            gc.unfreeze()
    return TargetRun(results, setup_s, [])


async def run(config: Config) -> dict[str, TargetRun]:
    """Each target in turn: start its server, load it, stop it (see ``Bench.run_targets``)."""
    token = secrets.token_hex(16)

    def env(target: str, port: int, workdir: Path) -> dict[str, str]:
        return server_env(token, f"http://{HOST}:{port}", workdir / "bench.db" if target == "ours" else None)

    outcomes = await config.run_targets(THIS_FILE, env, lambda server, _: load_server(server, config, token))
    for target_run, problems in outcomes.values():
        target_run.log_problems = problems
    return {target: target_run for target, (target_run, _) in outcomes.items()}


# --- reporting --------------------------------------------------------------------------------


def _f(value: float, digits: int = 2) -> str:
    return figure(value, digits)


def _errors(r: Result) -> str:
    if not r.errors:
        return "0"
    kinds = ", ".join(f"{k}={v}" for k, v in sorted(r.errors.items()))
    return f"{sum(r.errors.values())} ({kinds})"


def table(config: Config, runs: dict[str, TargetRun]) -> str:
    header = ["webhook", "load", "server", "requests", "p50 ms", "p99 ms", "max ms", "req/s",
              "CPU ms/req", "loadgen CPU", "bytes", "errors"]
    rows = [header]
    for i, (step, load) in enumerate(PHASES):
        load_label = (f"{config.rate:.1f}/s paced" if load == "paced"
                      else f"burst, {config.concurrency} in flight")
        by_target = {t: run.results[i] for t, run in runs.items()}
        for target, r in by_target.items():
            rows.append([step, load_label, target, f"{r.requests:,}", _f(r.p50_ms), _f(r.p99_ms),
                         _f(r.max_ms), _f(r.throughput, 0), _f(r.server_cpu_ms_per_request),
                         f"{_f(r.loadgen_cpu_pct, 0)}%", str(r.response_bytes), _errors(r)])
        ours, base = by_target.get("ours"), by_target.get("baseline")
        if ours and base:
            rows.append([step, load_label, "ours/baseline", "",
                         f"{_f(ratio(ours.p50_ms, base.p50_ms), 1)}x",
                         f"{_f(ratio(ours.p99_ms, base.p99_ms), 1)}x",
                         f"{_f(ratio(ours.max_ms, base.max_ms), 1)}x",
                         f"{_f(ratio(ours.throughput, base.throughput))}x",
                         f"{_f(ratio(ours.server_cpu_ms_per_request, base.server_cpu_ms_per_request), 1)}x",
                         "", "", ""])
    lines = [f"phone line: {config.callers} callers on hold, no counsellor online; "
             f"{'pinned' if config.pinned else 'unpinned'} CPUs", *aligned(rows, left=3)]
    for target, run in runs.items():
        told = [r.positions for r in run.results if r.positions]
        lowest = min((p[0] for p in told), default=0)
        highest = max((p[1] for p in told), default=0)
        lines.append(f"{target}: queue filled in {run.setup_s:.1f} s; wait told positions "
                     f"{lowest}..{highest}; server log warnings/errors: {len(run.log_problems)}")
    return "\n".join(lines)


def summary(runs: dict[str, TargetRun]) -> str:
    parts = []
    ours, base = runs.get("ours"), runs.get("baseline")
    for i, (step, load) in enumerate(PHASES):
        if ours is None:
            continue
        o = ours.results[i]
        text = f"{step} {load} p50 {_f(o.p50_ms)} / p99 {_f(o.p99_ms)} ms"
        if base is not None:
            b = base.results[i]
            text += f" ({_f(ratio(o.p99_ms, b.p99_ms), 1)}x baseline p99)"
        parts.append(text)
    errors = sum(sum(r.errors.values()) for run in runs.values() for r in run.results)
    errors += sum(len(run.log_problems) for run in runs.values())
    parts.append(f"errors {errors}")
    return "SUMMARY: " + "; ".join(parts)


def as_json(config: Config, runs: dict[str, TargetRun]) -> str:
    settings = {k: v for k, v in asdict(config).items() if k != "helpline"}
    doc = {"config": settings,
           "results": {t: {"setup_s": run.setup_s, "server_log_problems": len(run.log_problems),
                           "phases": [asdict(r) for r in run.results]} for t, run in runs.items()}}
    return json.dumps(json_ready(doc), indent=2)


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--callers", "-n", type=int, default=500, help="callers on hold (default 500)")
    p.add_argument("--requests", "-m", type=int, default=2000, help="requests per burst phase (2000)")
    p.add_argument("--paced-requests", type=int, default=250, help="requests per paced phase (250)")
    p.add_argument("--rate", type=float, help="paced requests a second (default: callers / 45, the rate "
                   "of their hold loops: 11.1/s for 500)")
    p.add_argument("--concurrency", "-c", type=int, default=20, help="requests in flight in a burst (20)")
    Bench.add_options(p)
    args = p.parse_args(argv)
    if not args.baseline_server:
        Bench.check_options(p, args)
        counts = (args.callers, args.requests, args.paced_requests, args.concurrency)
        if min(counts) < 1 or (args.rate is not None and args.rate <= 0):
            p.error("need --callers, --requests, --paced-requests, --concurrency >= 1 and --rate > 0")
        if args.rate is None:
            args.rate = args.callers / HOLD_LOOP_S
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_server:
        app = baseline_app(os.environ["HELPLINE_TWILIO_AUTH_TOKEN"], os.environ["HELPLINE_PUBLIC_URL"])
        return serve_baseline(app, args.port)
    config = Config(
        callers=args.callers, requests=args.requests, paced_requests=args.paced_requests, rate=args.rate,
        concurrency=args.concurrency, pin=args.pin, targets=args.targets, helpline=args.helpline,
    )
    runs = run_cli(run(config))
    if isinstance(runs, int):
        return runs
    print(as_json(config, runs) if args.json else f"{table(config, runs)}\n{summary(runs)}")
    errors = sum(sum(r.errors.values()) for run in runs.values() for r in run.results)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
