"""Channel adapters living outside the core (the phone line, say) plug in through the
``helpline.channels`` entry point group: each entry names a module with

- ``setup(app, settings)``: add its routes and resources to the server;
- ``add_commands(subparsers)``: add its commands to ``helpline``;
- ``demo()``: set itself up for ``helpline demo``; returns a line for the banner.

The core never imports them; it only finds what is installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

GROUP = "helpline.channels"


def channels() -> list[Any]:
    return [entry.load() for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name)]
