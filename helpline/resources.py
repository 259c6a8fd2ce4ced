"""Files shipped inside the package, next to its code: the chat widget and the console
(``widgets/``) and the database history (``migrations/``). Found through the import
system, so an installed wheel and an editable checkout serve the same files."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(*parts: str) -> Path:
    """A directory shipped inside the ``helpline`` package. The package is installed as
    plain files (a wheel or an editable checkout, never a zip), so this is a real path."""
    return Path(str(files("helpline").joinpath(*parts)))
