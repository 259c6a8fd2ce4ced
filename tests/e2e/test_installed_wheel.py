"""The package as users get it: a wheel built from this tree, installed away from it, serves
the chat widget and the console and creates its database, with no source checkout around."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import _unavailable
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e

SOURCE = Path(__file__).resolve().parents[2]
# Never copied into the build: the virtualenv, caches and earlier build output (a stale
# build/ would put old files in the wheel).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "var", "tests"
)
PIP_TIMEOUT = 120.0


def _can_build_offline() -> str | None:
    """Why a wheel cannot be built here without the network, or None if it can."""
    try:
        from importlib.metadata import version

        major = int(version("setuptools").split(".")[0])
    except Exception as e:  # not installed, or an unreadable version
        return f"setuptools unavailable: {e!r}"
    return None if major >= 77 else f"setuptools {major} is older than the build needs (77)"


async def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), PIP_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{args} did not finish in {PIP_TIMEOUT}s") from None
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"{args} exited with {proc.returncode}:\n{text[-4000:]}"
    return text


async def _install_wheel(tmp_path: Path) -> Path:
    """Build a wheel from a copy of this tree (offline: no build isolation, no index) and
    install it, without its dependencies (those of this virtualenv serve), into a directory
    of its own. That directory."""
    tree, wheels, target = tmp_path / "tree", tmp_path / "wheels", tmp_path / "site"
    shutil.copytree(SOURCE, tree, ignore=NOT_SOURCE)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    await _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), ".",
               cwd=tree)
    (wheel,) = wheels.glob("helpline-*.whl")
    await _run(*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel), cwd=tmp_path)
    shutil.rmtree(tree)  # nothing left to fall back on
    return target


async def test_an_installed_wheel_serves_the_widget_and_the_console_away_from_the_source_tree(
    tmp_path: Path,
) -> None:
    reason = _can_build_offline()
    if reason is not None:
        _unavailable(f"building a wheel ({reason})")
    target = await _install_wheel(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    server = ServerProcess(run_dir, command=[sys.executable, "-m", "helpline.cli"])
    server.settings["PYTHONPATH"] = str(target)  # the installed copy, never the checkout

    where = await _run(sys.executable, "-c", "import helpline; print(helpline.__file__)",
                       cwd=run_dir, env=server.env())
    assert Path(where.strip()).is_relative_to(target), f"helpline imported from {where.strip()}"

    try:
        await server.start()  # creates and upgrades its SQLite database from the shipped history
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/widget.js") as r:
                assert r.status == 200, await r.text()
                assert r.content_type == "application/javascript"
                widget = await r.text()
            assert "__HELPLINE_CSS__" not in widget
            assert ".hl" in widget  # the widget's stylesheet, inlined

            async with http.get(f"{server.url}/console/") as r:
                assert r.status == 200, await r.text()
                assert r.content_type == "text/html"
                assert "<!doctype html>" in (await r.text()).lower()

            # Every module of the console (app.js imports the others) ships in the wheel.
            modules = sorted(p.name for p in (SOURCE / "helpline" / "widgets" / "console").glob("*.js"))
            assert "app.js" in modules
            for name in modules:
                async with http.get(f"{server.url}/console/{name}") as r:
                    assert r.status == 200, f"{name}: {await r.text()}"
                    assert r.content_type == "application/javascript"

            async with http.get(f"{server.url}/demo") as r:
                assert r.status == 200, await r.text()
                assert "/widget.js" in await r.text()
    finally:
        code = await server.stop()
    assert code == 0, server.stderr_tail()
