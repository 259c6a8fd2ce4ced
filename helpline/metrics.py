"""Operations metrics, in the Prometheus text format (``GET /metrics``, off unless configured:
see docs/operations.md).

Two kinds of figures:

- what happens, counted in the one place it happens (a message stored, a message delivered
  to a socket, a phone webhook answered, a hand-off delivery tried, rows purged, a request
  refused by a rate limit): the instruments of ``Metrics``, which the services' context
  carries. Metrics off, every instrument is a no-op and nothing is kept.
- the floor as it is (who waits, for how long, who is on duty, the hand-off outbox): read
  when Prometheus scrapes, from the queue snapshot the process already shares and one small
  reading (``Views.operations``), and written by ``exposition``.

Each application has a registry of its own (tests run many in one process). Label values
come from small fixed sets (skills, channels, statuses, kinds, rules, socket kinds, webhook
steps, outcomes): never an id, a number, an address or a text.

Several processes (``helpline serve --workers N``): the supervisor gives its workers a
fresh directory in ``PROMETHEUS_MULTIPROC_DIR`` and every worker writes its counters there
(prometheus-client's multiprocess mode); whichever worker a scrape reaches adds up every
worker's counters, so one scrape target sees the whole host. The floor figures come from
the database and are the same from every worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .domain.contact import Channel
from .domain.counsellor import Status
from .domain.messages import Sender
from .domain.retention import Kind

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
SOCKETS = ("visitor", "console")
RATE_RULES = ("contact", "message", "login")  # starting a contact, a visitor's message, logging in
HANDOFF_OUTCOMES = ("delivered", "retry", "failed")
# Seconds. A message reaches the other side within milliseconds; a phone webhook must answer
# well within Twilio's 15 s.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Off:
    """An instrument that keeps nothing (metrics off)."""

    def labels(self, *_values: str, **_named: str) -> _Off:
        return self

    def inc(self, _amount: float = 1) -> None:
        pass

    def dec(self, _amount: float = 1) -> None:
        pass

    def set(self, _value: float) -> None:
        pass

    def observe(self, _value: float) -> None:
        pass


OFF = _Off()


class Metrics:
    """This process's instruments. ``Metrics(None)``: off (every instrument a no-op)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.registry = registry
        on = registry is not None

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
            return Counter(name, doc, labels, registry=registry) if on else OFF

        def gauge(name: str, doc: str, labels: tuple[str, ...], mode: Literal["livesum", "max"]) -> Any:
            return Gauge(name, doc, labels, registry=registry, multiprocess_mode=mode) if on else OFF

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Any:
            return Histogram(name, doc, labels, registry=registry, buckets=buckets) if on else OFF

        stored = counter("helpline_messages_stored", "Messages stored, by sender.", ("sender",))
        self.messages_stored = {s.value: stored.labels(s.value) for s in Sender}
        self.message_commit = histogram("helpline_message_commit_seconds", "Time to store one batch of "
                                        "messages (one database transaction).", (), COMMIT_BUCKETS)
        delivery = histogram("helpline_message_delivery_seconds", "From a message's storing to its "
                             "sending on a socket following the contact, by socket kind.", ("socket",),
                             DELIVERY_BUCKETS)
        self.message_delivery = {k: delivery.labels(k) for k in SOCKETS}
        sockets = gauge("helpline_sockets_open", "WebSockets open, by kind.", ("socket",), "livesum")
        self.sockets_open = {k: sockets.labels(k) for k in SOCKETS}
        self.webhook = histogram("helpline_webhook_seconds", "Time to answer a phone carrier's "
                                 "webhook, by step of the call.", ("step",), WEBHOOK_BUCKETS)
        deliveries = counter("helpline_handoff_deliveries", "Hand-off delivery attempts, by outcome "
                             "(retry: failed, tried again later; failed: given up).", ("outcome",))
        self.handoff_deliveries = {o: deliveries.labels(o) for o in HANDOFF_OUTCOMES}
        purged = counter("helpline_purged_rows", "Rows erased by the retention purge, by kind.", ("kind",))
        self.purged = {k.value: purged.labels(k.value) for k in Kind}
        self.purge_completed = gauge("helpline_purge_last_completed_timestamp_seconds",
                                     "When a purge run last finished (Unix time).", (), "max")
        refused = counter("helpline_rate_limited", "Requests refused by a rate limit, by rule.", ("rule",))
        self.rate_limited = {r: refused.labels(r) for r in RATE_RULES}

    @classmethod
    def off(cls) -> Metrics:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self.registry is not None

    def exposition(self, floor: FloorFigures) -> bytes:
        """What ``GET /metrics`` answers: this process's counters (every worker's, in
        multiprocess mode), then the floor's gauges."""
        assert self.registry is not None
        counted = self.registry
        path = os.environ.get(MULTIPROCESS_DIR)
        if path:
            counted = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(counted, path)  # type: ignore[no-untyped-call]
        now = CollectorRegistry(auto_describe=False)
        now.register(_FloorCollector(floor))
        return generate_latest(counted) + generate_latest(now)


@dataclass(frozen=True, slots=True)
class FloorFigures:
    """The floor at one moment, as ``Views.operations`` reads it."""

    waiting: Mapping[tuple[str, Channel], tuple[int, float]]  # (skill, channel): (how many, longest wait s)
    counsellors: Mapping[Status, int]  # enabled accounts by status
    active: Mapping[Channel, int]  # contacts with a counsellor, by channel
    outbox_backlog: int  # hand-offs waiting to be delivered (or retried)
    service_level: float | None = None  # answered within SERVICE_LEVEL_S, contacts of the last hour
    skills: tuple[str, ...] = field(default=())  # the line's skills: a row each even when nobody waits


class _FloorCollector:
    def __init__(self, floor: FloorFigures) -> None:
        self.floor = floor

    def collect(self) -> Iterator[Metric]:
        f = self.floor
        waiting = GaugeMetricFamily("helpline_contacts_waiting", "Contacts waiting in the queue (people "
                                    "really there), by skill and channel.", labels=("skill", "channel"))
        longest = GaugeMetricFamily("helpline_longest_wait_seconds", "How long the first of them has "
                                    "waited, by skill and channel (0: nobody waits).",
                                    labels=("skill", "channel"))
        rows = dict.fromkeys(((s, c) for s in f.skills for c in Channel), (0, 0.0))
        rows.update(f.waiting)
        for (skill, channel), (n, wait_s) in sorted(rows.items()):
            waiting.add_metric((skill, channel.value), n)
            longest.add_metric((skill, channel.value), wait_s)
        yield waiting
        yield longest
        active = GaugeMetricFamily("helpline_contacts_active", "Contacts with a counsellor, by channel.",
                                   labels=("channel",))
        for channel in Channel:
            active.add_metric((channel.value,), f.active.get(channel, 0))
        yield active
        staff = GaugeMetricFamily("helpline_counsellors", "Enabled counsellor accounts, by status.",
                                  labels=("status",))
        for status in Status:
            staff.add_metric((status.value,), f.counsellors.get(status, 0))
        yield staff
        yield GaugeMetricFamily("helpline_handoff_outbox_backlog", "Hand-offs waiting to be delivered "
                                "or tried again.", value=f.outbox_backlog)
        if f.service_level is not None:
            yield GaugeMetricFamily("helpline_service_level_last_hour", "Of the contacts that came in the "
                                    "last hour and were answered or gave up, the share answered within "
                                    "60 s.", value=f.service_level)
