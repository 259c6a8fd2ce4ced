"""The hand-off targets file: the built-in one is whole, and a mistake is named precisely,
before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpline.domain.handoffs import TargetKind
from helpline.services.handoff_targets import TargetsError, load_targets

REPORT = """
[[targets]]
id = "hotline"
kind = "report"
connector = "{connector}"
name = {{ fr = "Hotline", en = "Hotline" }}
settings = {settings}
[[targets.fields]]
id = "urls"
type = "urls"
required = true
label = {{ fr = "Adresses", en = "Addresses" }}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, "utf-8")
    return path


def test_the_built_in_targets_cover_every_partner_of_the_helpline() -> None:
    targets = load_targets(None)
    assert set(targets) == {"emergency", "child_in_danger", "pharos", "point_de_contact",
                            "platform_notice", "brigade_numerique", "thesee"}
    assert targets["emergency"].kind is TargetKind.EMERGENCY and not targets["emergency"].approval
    assert all(t.approval for t in targets.values() if t.sends)
    assert targets["thesee"].guidance is not None and not targets["thesee"].sends
    for t in targets.values():
        for f in t.fields:
            assert f.label.fr and f.label.en


@pytest.mark.parametrize(("text", "says"), [
    ("[[targets]]\nid = 'x'\n", "targets.0.kind: Field required"),
    (REPORT.format(connector="none", settings="{}"), "reports and notices need a connector"),
    (REPORT.format(connector="webhook", settings='{ url = "https://h.example" }'),
     "the webhook connector needs settings.secret_env"),
    (REPORT.format(connector="webhook", settings='{ url = "https://h.example", secret_env = "NO_SUCH_VAR" }'),
     "the environment variable NO_SUCH_VAR (secret_env) is not set"),
    (REPORT.format(connector="manual", settings="{}") * 2, "two targets have the same id"),
    (REPORT.format(connector="manual", settings="{}").replace('type = "urls"', 'type = "choice"'),
     "a choice field lists its choices"),
    ("not toml [", "targets.toml"),
])
def test_a_mistake_is_named_with_the_file_and_the_place(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TargetsError) as refused:
        load_targets(path, environ={})
    assert str(path) in str(refused.value) and says in str(refused.value)


def test_the_check_command_lists_a_good_file_and_exits_1_on_a_bad_one(tmp_path: Path) -> None:
    good = write(tmp_path, REPORT.format(connector="manual", settings="{}"))
    run = subprocess.run([sys.executable, "-m", "helpline.cli", "handoffs", "targets", "check", str(good)],
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (0, "hotline: report, manual, 1 field(s), approval\n")
    bad = write(tmp_path, "[[targets]]\nid = 'x'\n")
    run = subprocess.run([sys.executable, "-m", "helpline.cli", "handoffs", "targets", "check", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "kind: Field required" in run.stderr
