"""What free text may hold. No control characters (multi-line text keeps its tabs and line
breaks) and no lone surrogates: no one types them, and PostgreSQL cannot store NUL or a lone
surrogate in text."""

from __future__ import annotations

import re

UNPRINTABLE_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
