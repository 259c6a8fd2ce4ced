"""What every use case works with."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..bus import Bus
from ..clock import Clock
from ..config import Settings
from ..domain.handoffs import Target
from ..domain.routing import Router
from ..domain.triage import TriageRules
from ..metrics import Metrics
from ..store import Store
from .schedule import ScheduleConfig


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    bus: Bus
    clock: Clock
    settings: Settings
    router: Router
    schedule: ScheduleConfig
    triage: TriageRules
    handoff_targets: dict[str, Target]
    metrics: Metrics = field(default_factory=Metrics.off)  # off: every instrument a no-op
