"""Typed application state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..config import Settings
    from ..metrics import Metrics
    from ..services import Services
    from ..services.throttle import LoginThrottle
    from .registry import Registry

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
SERVICES: web.AppKey[Services] = web.AppKey("services")
REGISTRY: web.AppKey[Registry] = web.AppKey("registry")
LOGIN_THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
