"""The nginx configuration shipped in `deploy/nginx/helpline.conf`, run by Debian's nginx
(a process of the test's own: its own prefix, ports, certificate, logs) in front of two
helpline processes on PostgreSQL and Redis. Only the listening ports, the certificate and
the upstream addresses are changed from the shipped file.

Through it, over TLS: a young person starts a chat and its socket upgrades; their
counsellor logs in and takes it; they talk both ways; the young person's socket drops
and comes back (on whichever process nginx picks) and gets what was written meanwhile.
Both processes served requests: nothing is sticky."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from tests.clients import Client, Counsellor, Visitor
from tests.conftest import _unavailable
from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "helpline.conf"
READY_TIMEOUT = 10.0


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def templated(shipped: str, *, https: int, http: int, upstreams: list[int], cert: Path, key: Path) -> str:
    """The shipped configuration with this test's ports, certificate and upstreams; each
    replaced line must be in it, so the file and the test cannot drift apart silently."""
    replacements = [
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        (r"listen 80;", f"listen 127.0.0.1:{http};"),
        (r"\s*listen \[::\]:\d+( ssl)?;", ""),
        (r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};"),
        (r"server 10\.0\.0\.11:8080", f"server 127.0.0.1:{upstreams[0]}"),
        (r"server 10\.0\.0\.12:8080", f"server 127.0.0.1:{upstreams[1]}"),
    ]
    text = shipped
    for pattern, new in replacements:
        text, n = re.subn(pattern, new, text)
        assert n, f"{SHIPPED.name} no longer has {pattern!r}"
    return text


@dataclass
class Nginx:
    url: str
    ws_url: str
    context: ssl.SSLContext
    directory: Path


@pytest_asyncio.fixture
async def nginx(
    tmp_path: Path, postgres_url: str, redis: RedisProcess
) -> AsyncIterator[tuple[Nginx, list[ServerProcess]]]:
    binary = nginx_binary()
    if binary is None:
        _unavailable("nginx (apt-get install nginx)")
    if shutil.which("openssl") is None:
        _unavailable("openssl")
    assert binary is not None
    here = tmp_path / "nginx"
    (here / "logs").mkdir(parents=True)
    cert, key = here / "cert.pem", here / "key.pem"
    subprocess.run(  # noqa: ASYNC221 - before anything runs, once
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    https, http = free_port(), free_port()
    public = f"https://127.0.0.1:{https}"

    servers = list(ServerProcess.pair(tmp_path, database_url=postgres_url, redis_url=redis.url,
                                      public_url=public, trusted_proxies="127.0.0.1",
                                      metrics_allow="127.0.0.1"))
    proc: asyncio.subprocess.Process | None = None
    try:
        for server in servers:
            await server.start()
        (here / "helpline.conf").write_text(templated(
            SHIPPED.read_text(), https=https, http=http, upstreams=[s.port for s in servers],
            cert=cert, key=key,
        ))
        temp_paths = "".join(f"    {kind}_temp_path {here / kind};\n"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (here / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # else its workers would be nobody's
            + "worker_processes 1;\n"
            f"error_log {here / 'logs' / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n{temp_paths}    access_log {here / 'logs' / 'access.log'};\n"
            f"    include {here / 'helpline.conf'};\n}}\n"
        )
        proc = await asyncio.create_subprocess_exec(
            binary, "-p", str(here), "-e", str(here / "logs" / "error.log"), "-c", str(here / "nginx.conf"),
            "-g", f"daemon off; pid {here / 'nginx.pid'};",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=(here / "logs" / "stderr.log").open("wb"),
        )
        context = ssl.create_default_context(cafile=str(cert))
        front = Nginx(public, public.replace("https://", "wss://"), context, here)
        await wait_for_nginx(front, proc)
        yield front, servers
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()  # nginx's fast shutdown
            async with asyncio.timeout(READY_TIMEOUT):
                await proc.wait()
        for server in servers:
            await server.stop()


async def wait_for_nginx(front: Nginx, proc: asyncio.subprocess.Process) -> None:
    """Until /healthz answers through nginx; the pause only lets the port open."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=front.context)) as http:
        async with asyncio.timeout(READY_TIMEOUT):
            while True:
                assert proc.returncode is None, (front.directory / "logs" / "stderr.log").read_text()
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{front.url}/healthz") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.05)


def requests(server: ServerProcess) -> int:
    """HTTP requests (a socket's upgrade included) the process has logged so far."""
    return server.output(("stderr",)).count(b'"event": "http_request"')


def through(front: Nginx, client: Client) -> Client:
    """The test client, speaking to nginx over TLS and trusting only its certificate."""
    client.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                        connector=aiohttp.TCPConnector(ssl=front.context))
    return client


async def test_a_conversation_and_a_reconnect_through_the_shipped_nginx_configuration(
    nginx: tuple[Nginx, list[ServerProcess]],
) -> None:
    front, servers = nginx
    before = [requests(server) for server in servers]
    await servers[0].cli("counsellor", "add", "alice", "--password-stdin", stdin="secret-pass\n")
    visitor = through(front, Visitor(front))  # type: ignore[arg-type]
    alice = through(front, Counsellor(front, "alice"))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(60):
            await visitor.start()
            await visitor.connect()
            await visitor.expect("queue")
            await alice.login()
            await alice.connect()
            contact = visitor.contact_id
            await alice.expect("assigned")
            assert (await visitor.expect("assigned"))["counsellor"] == {"display_name": "alice"}

            assert (await visitor.say("bonjour", client_id="v1"))["seq"] == 1
            assert (await alice.expect("message", contact_id=contact, seq=1))["text"] == "bonjour"
            assert (await alice.say(contact, "je t'écoute", client_id="c2"))["seq"] == 2
            assert (await visitor.expect("message", seq=2))["text"] == "je t'écoute"

            await visitor.drop()  # the network goes, the young person comes back
            assert (await alice.say(contact, "tu es là ?", client_id="c3"))["seq"] == 3
            for _ in range(3):  # reconnects land on either process: each time, the talk goes on
                await visitor.connect(after_seq=max(m["seq"] for m in visitor.messages()))
                await visitor.expect("assigned")
                last = max(m["seq"] for m in visitor.messages())
                assert (await visitor.say("encore là", client_id=f"v{last + 1}"))["seq"] == last + 1
                await alice.expect("message", contact_id=contact, seq=last + 1)
                await visitor.drop()
            assert [m["seq"] for m in visitor.messages()] == list(range(1, 7))  # each once, in order
    finally:
        await visitor.close()
        await alice.close()
    served = [requests(server) - n for server, n in zip(servers, before, strict=True)]
    assert all(served), f"no stickiness: both processes serve this one conversation ({served})"
    assert not (front.directory / "logs" / "access.log").exists() or not (
        front.directory / "logs" / "access.log").read_bytes(), "nginx logged who asked for what"


async def test_metrics_are_served_to_the_scraper_on_the_host_and_not_through_nginx(
    nginx: tuple[Nginx, list[ServerProcess]],
) -> None:
    front, servers = nginx
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=front.context)) as http, \
            http.get(f"{front.url}/metrics") as r:
        assert r.status == 404  # nginx itself answers: nothing reaches a helpline process
        assert "helpline_" not in await r.text()
    async with aiohttp.ClientSession() as http, http.get(f"{servers[0].url}/metrics") as r:
        assert r.status == 200  # from loopback, which HELPLINE_METRICS_ALLOW lets in
        assert "helpline_contacts_waiting" in await r.text()
