"""The competency questions: SPARQL files shipped in mmkg/queries/, each with a title and a
description in its leading comment lines (the query page shows them as examples)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class CompetencyQuestion:
    """One shipped query: its file name (without .rq), title, description and text."""

    name: str
    title: str
    description: str
    sparql: str


def _header(text: str, key: str) -> str:
    prefix = f"# {key}:"
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return ""


def questions() -> list[CompetencyQuestion]:
    """Every shipped competency question, in file-name order."""
    folder = resources.files("mmkg") / "queries"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".rq"):
            continue
        text = entry.read_text(encoding="utf-8")
        found.append(CompetencyQuestion(
            name=entry.name.removesuffix(".rq"),
            title=_header(text, "title") or entry.name,
            description=_header(text, "description"),
            sparql=text,
        ))
    return found


def question(name: str) -> CompetencyQuestion:
    """One question by file name (with or without .rq); KeyError if there is none."""
    name = name.removesuffix(".rq")
    for one in questions():
        if one.name == name:
            return one
    raise KeyError(name)
