"""deploy/prometheus/alerts.yml is a real Prometheus rule file whose every expression names
metrics the helpline exports (as GET /metrics writes them), and that promtool (Debian's
prometheus package, installed by .ci/run) accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from helpline.domain.contact import Channel
from helpline.metrics import FloorFigures, Metrics
from tests.conftest import _unavailable

RULES = Path(__file__).parents[2] / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_OWN = {"up"}  # series Prometheus itself makes for every target
PROMQL_WORDS = {
    "and", "or", "unless", "on", "ignoring", "by", "without", "offset", "bool", "group_left",
    "group_right", "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "delta", "time",
    "histogram_quantile", "max_over_time", "min_over_time", "avg_over_time", "absent", "le",
}


def exported() -> set[str]:
    """Every series name GET /metrics writes (counters, histograms' parts, the floor's gauges)."""
    metrics = Metrics(CollectorRegistry(auto_describe=False))
    metrics.webhook.labels("incoming").observe(0.1)  # its series appear with a first call's step
    floor = FloorFigures(waiting={("general", Channel.CHAT): (1, 12.0)}, counsellors={}, active={},
                         outbox_backlog=0, service_level=1.0, skills=("general",))
    body = metrics.exposition(floor).decode()
    return {s.name for family in text_string_to_metric_families(body) for s in family.samples}


def names_in(expr: str) -> set[str]:
    """The metric names an expression reads: its words, less PromQL's own, label matchers,
    strings, durations and numbers."""
    expr = re.sub(r"\{[^}]*\}|\"[^\"]*\"|\[[^\]]*\]", " ", expr)  # matchers, strings, ranges
    expr = re.sub(r"\b(by|on|without|ignoring)\s*\([^)]*\)", " ", expr)  # grouping labels
    expr = re.sub(r"\b\d+(\.\d+)?([smhdwy]|ms)?\b", " ", expr)  # numbers, durations (offset 5m)
    return {w for w in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr) if w not in PROMQL_WORDS}


def load() -> list[dict[str, object]]:
    document = yaml.safe_load(RULES.read_text("utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_alert_reads_only_metrics_the_helpline_exports() -> None:
    ours = exported()
    rules = load()
    assert len(rules) >= 8
    for rule in rules:
        names = names_in(str(rule["expr"]))
        assert names, rule["alert"]
        assert names <= ours | PROMETHEUS_OWN, (rule["alert"], names - ours)


def test_every_alert_has_a_severity_and_a_summary_in_french_and_english() -> None:
    for rule in load():
        assert str(rule["alert"]).startswith("Helpline")
        assert rule["labels"]["severity"] in ("page", "warning")  # type: ignore[index]
        assert " / " in rule["annotations"]["summary"]  # type: ignore[index]


def test_the_check_sees_a_misspelt_metric() -> None:
    assert names_in('max(helpline_longest_wait_second{skill="legal"}) > 300') - exported() == {
        "helpline_longest_wait_second"}
    assert names_in("histogram_quantile(0.99, sum by (le) (rate(helpline_webhook_seconds_bucket[5m])))") \
        == {"helpline_webhook_seconds_bucket"}


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        _unavailable("promtool (apt-get install prometheus)")
    assert promtool is not None
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
