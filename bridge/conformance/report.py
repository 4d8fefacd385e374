"""The human table, JUnit XML and JSON of a conformance run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from bridge.conformance.runner import Outcome

MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERROR"}


def table(outcomes: Sequence[Outcome]) -> str:
    header = ("scenario", "oban", "mode", "result", "seconds")
    rows = [
        (o.scenario, o.oban_version, o.mode, MARKS[o.status], f"{o.seconds:.2f}") for o in outcomes
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(outcomes: Sequence[Outcome]) -> str:
    counts = {s: sum(o.status == s for o in outcomes) for s in MARKS}
    return (
        f"{counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
        f"{counts['skipped']} skipped"
    )


def details(outcomes: Sequence[Outcome]) -> str:
    parts = []
    for o in outcomes:
        if o.status in ("failed", "error"):
            parts.append(f"--- {o.scenario} (Oban {o.oban_version}, {o.mode}) ---\n{o.message}")
        elif o.status == "skipped":
            parts.append(f"--- {o.scenario} (Oban {o.oban_version}): skipped: {o.message}")
    return "\n\n".join(parts)


def write_junit(path: Path, outcomes: Sequence[Outcome]) -> None:
    root = ET.Element("testsuites", name="oban-bridge conformance")
    suites: dict[tuple[str, str], ET.Element] = {}
    for o in outcomes:
        key = (o.oban_version, o.mode)
        if key not in suites:
            suites[key] = ET.SubElement(root, "testsuite", name=f"oban-{o.oban_version}-{o.mode}")
        case = ET.SubElement(
            suites[key],
            "testcase",
            name=o.scenario,
            classname=f"conformance.oban_{o.oban_version.replace('.', '_')}.{o.mode}",
            time=f"{o.seconds:.3f}",
        )
        if o.status == "skipped":
            ET.SubElement(case, "skipped", message=o.message)
        elif o.status in ("failed", "error"):
            node = ET.SubElement(
                case,
                "failure" if o.status == "failed" else "error",
                message=o.message.splitlines()[0] if o.message else o.status,
            )
            node.text = o.message
    for (_, _), suite in suites.items():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
        suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path: Path, outcomes: Sequence[Outcome]) -> None:
    data = [
        {
            "scenario": o.scenario,
            "oban_version": o.oban_version,
            "mode": o.mode,
            "status": o.status,
            "seconds": round(o.seconds, 3),
            "message": o.message,
            "step": o.step,
        }
        for o in outcomes
    ]
    path.write_text(json.dumps(data, indent=1) + "\n")
