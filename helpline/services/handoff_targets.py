"""The hand-off targets, read from a TOML file (helpline/data/handoffs.toml by default, or
``HELPLINE_HANDOFF_TARGETS_FILE``) and checked when the server starts: a mistake stops the
start with a message naming the target and the field."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..domain.handoffs import FieldType, Localised, Target, TargetField, TargetKind

CONNECTORS = ("none", "manual", "webhook", "email")
_ID = r"^[a-z][a-z0-9_]{0,39}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Text(_Strict):
    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _Field(_Strict):
    id: str = Field(pattern=_ID)
    type: FieldType
    label: _Text
    required: bool = False
    help: _Text | None = None
    choices: list[str] = []

    @model_validator(mode="after")
    def _choices(self) -> _Field:
        if (self.type is FieldType.CHOICE) != bool(self.choices):
            raise ValueError("a choice field lists its choices, and only a choice field does")
        return self


class _Target(_Strict):
    id: str = Field(pattern=_ID)
    kind: TargetKind
    name: _Text
    approval: bool = True
    connector: Literal["none", "manual", "webhook", "email"]
    guidance: _Text | None = None
    settings: dict[str, str] = {}
    fields: list[_Field] = []

    @model_validator(mode="after")
    def _coherent(self) -> _Target:
        sends = self.kind in (TargetKind.REPORT, TargetKind.NOTICE)
        if sends == (self.connector == "none"):
            raise ValueError("reports and notices need a connector (manual, webhook, email); "
                             "emergency and guidance targets send nothing (connector none)")
        if not sends and self.guidance is None:
            raise ValueError("emergency and guidance targets need their guidance text")
        if sends and not self.fields:
            raise ValueError("reports and notices list the fields they send")
        ids = [f.id for f in self.fields]
        if len(ids) != len(set(ids)):
            raise ValueError("two fields have the same id")
        for key in _required_settings(self.connector):
            if not self.settings.get(key):
                raise ValueError(f"the {self.connector} connector needs settings.{key}")
        return self


class _Registry(_Strict):
    targets: list[_Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> _Registry:
        ids = [t.id for t in self.targets]
        if len(ids) != len(set(ids)):
            raise ValueError("two targets have the same id")
        return self


def _required_settings(connector: str) -> tuple[str, ...]:
    return {"webhook": ("url", "secret_env"), "email": ("to", "from", "host")}.get(connector, ())


class TargetsError(ValueError):
    pass


def load_targets(path: Path | None, environ: Mapping[str, str] = os.environ) -> dict[str, Target]:
    """The targets by id, checked; raises ``TargetsError`` saying what is wrong and where."""
    where = str(path) if path else "built-in hand-off targets"
    try:
        text = (path.read_text("utf-8") if path else
                resources.files("helpline").joinpath("data", "handoffs.toml").read_text("utf-8"))
        registry = _Registry.model_validate(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TargetsError(f"{where}: {e}") from None
    except ValidationError as e:
        raise TargetsError(f"{where}: {_explain(e)}") from None
    for t in registry.targets:
        for key, name in t.settings.items():
            if key.endswith("_env") and not environ.get(name):
                raise TargetsError(f"{where}: target {t.id}: the environment variable {name} "
                                   f"({key}) is not set")
    return {t.id: _target(t) for t in registry.targets}


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(p) for p in first["loc"])
    return f"{location}: {first['msg']}" if location else str(first["msg"])


def _text(t: _Text | None) -> Localised | None:
    return Localised(t.fr, t.en) if t else None


def _target(t: _Target) -> Target:
    return Target(
        id=t.id, name=Localised(t.name.fr, t.name.en), kind=t.kind, approval=t.approval,
        connector=t.connector, guidance=_text(t.guidance), settings=dict(t.settings),
        fields=tuple(
            TargetField(f.id, f.type, Localised(f.label.fr, f.label.en), f.required, _text(f.help),
                        tuple(f.choices))
            for f in t.fields
        ),
    )
