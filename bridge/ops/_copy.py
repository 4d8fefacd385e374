"""PostgreSQL ``COPY … FROM STDIN`` text format, produced in pure Python.

Formatting rows ourselves (instead of per-value adaptation in the driver) is
what lets a bulk insert keep up with the server; see ``bridge.ops.jobs.insert_all_jobs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

# PostgreSQL docs, COPY "Text Format": backslash, newline, carriage return and tab are escaped
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
NULL = "\\N"


def escape(text: str) -> str:
    """One text value in COPY text format (most values need no escaping at all)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def array_literal(items: Sequence[str]) -> str:
    """A ``text[]`` input literal, every element double-quoted (docs: "Array Value Input")."""
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def chunks(lines: Iterable[str], size: int = 2000) -> Iterator[str]:
    """Join row lines into chunks of ``size`` rows, so the server starts work early."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            batch.append("")
            yield "\n".join(batch)
            batch = []
    if batch:
        batch.append("")
        yield "\n".join(batch)
