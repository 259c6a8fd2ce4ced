"""What the metrics add to each relayed message, measured in this process: the calls the
relay makes per message with metrics off (no-op instruments) and on (prometheus-client),
side by side in the same run. The end-to-end figure is ``chat_relay.py --metrics`` against
``chat_relay.py`` (see the README); this one is steadier on a busy machine.

Per message the relay counts it stored (the writer), times the batch's commit (once per
batch: counted here once per message, an upper bound), and times its delivery on the two
sockets that follow the contact (the sender's echo, the counsellor's console).

    python benchmarks/metrics_cost.py
"""

from __future__ import annotations

import timeit
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from helpline.clock import SystemClock
from helpline.metrics import SOCKETS, Metrics

N = 200_000
REPEAT = 5


def per_message(metrics: Metrics, clock: SystemClock, sent_at: str) -> None:
    metrics.messages_stored["visitor"].inc()
    metrics.message_commit.observe(0.002)
    if metrics.enabled:  # as web.connection: the latency is worked out only when metrics are on
        for kind in SOCKETS:
            stored = datetime.fromisoformat(sent_at)
            metrics.message_delivery[kind].observe(max(0.0, (clock.now() - stored).total_seconds()))


def main() -> int:
    clock = SystemClock()
    sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    costs = {}
    for name, metrics in (("off", Metrics.off()), ("on", Metrics(CollectorRegistry(auto_describe=False)))):
        best = min(timeit.repeat(lambda m=metrics: per_message(m, clock, sent_at), number=N, repeat=REPEAT))
        costs[name] = best / N * 1e6
        print(f"metrics {name}: {costs[name]:.2f} us per message")
    print(f"added by metrics: {costs['on'] - costs['off']:.2f} us per message "
          f"({costs['on'] / costs['off']:.0f}x the no-op instruments)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
