"""Search over what people call things: every label, alternative label (in every language),
title and comment of our resources, built once per loaded graph and answered in memory.
Matching ignores case and accents; every word of the query must occur. No Flask here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rdflib import Literal
from rdflib.namespace import DCTERMS, RDFS, SKOS

from ..kg.store import Backend
from ..uris import MM, SCHEMA
from . import documents
from .kinds import ORDER

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
MAX_RESULTS = 200

NAMES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, DCTERMS.title, SCHEMA.name)
TEXTS = (RDFS.comment, SKOS.definition, MM.topic)


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: "Bílková" -> "bilkova"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped.casefold()).strip()


@dataclass(frozen=True)
class Entry:
    iri: str
    kind: str
    label: str  # the English (or first) name
    names: tuple[str, ...]  # folded names in every language
    text: str  # folded comments and definitions


@dataclass(frozen=True)
class Hit:
    iri: str
    kind: str
    label: str
    matched: str  # the name or words that matched, as written ("" when the label did)
    score: int


class QueryProblem(ValueError):
    """A search text that is refused (too long)."""


@dataclass
class SearchIndex:
    entries: list[Entry] = field(default_factory=list)
    shown: dict[str, list[str]] = field(default_factory=dict)  # iri -> names as written

    @classmethod
    def build(cls, kg: Backend, base: str) -> SearchIndex:
        """One query for every name and comment of every resource under <base>id/."""
        props = ", ".join(documents.sparql_iri(str(p)) for p in NAMES + TEXTS)
        rows = kg.select(
            f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o . FILTER(?p IN ({props})) FILTER(isLiteral(?o)) "
            f"FILTER(STRSTARTS(STR(?s), {documents.sparql_string(base + 'id/')})) }}")
        names: dict[str, dict[str, str]] = {}
        english: dict[str, str] = {}
        texts: dict[str, list[str]] = {}
        for row in rows:
            iri, prop, value = str(row["s"]), row["p"], row["o"]
            if prop in NAMES:
                text = str(value)
                names.setdefault(iri, {})[fold(text)] = text
                lang = value.language if isinstance(value, Literal) else None
                if prop in (RDFS.label, SKOS.prefLabel) and lang in ("en", None, ""):
                    english.setdefault(iri, text)
            elif not isinstance(value, Literal) or value.language in (None, "", "en"):
                texts.setdefault(iri, []).append(fold(str(value)))
        prefix = base + "id/"
        entries = []
        for iri in sorted(set(names) | set(texts)):
            written = names.get(iri, {})
            label = english.get(iri) or (sorted(written.values())[0] if written else iri)
            entries.append(Entry(iri, iri[len(prefix):].partition("/")[0], label,
                                 tuple(written), " ".join(texts.get(iri, []))))
        return cls(entries, {iri: list(n.values()) for iri, n in names.items()})

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[Hit]:
        """The resources every word of `query` occurs in, best first: a name equal to the
        query, then a name starting with it, a name holding the phrase, a name holding every
        word, then names and comments together."""
        if len(query) > MAX_QUERY_CHARS:
            raise QueryProblem(f"the search text is {len(query)} characters long; at most "
                               f"{MAX_QUERY_CHARS} are accepted")
        phrase = fold(query)
        words = phrase.split()[:MAX_WORDS]
        if not words:
            return []
        hits = []
        for entry in self.entries:
            score, matched = self._score(entry, phrase, words)
            if score:
                hits.append(Hit(entry.iri, entry.kind, entry.label, matched, score))
        hits.sort(key=lambda h: (-h.score, ORDER.get(h.kind, 99), fold(h.label)))
        return hits[:limit]

    def _score(self, entry: Entry, phrase: str, words: list[str]) -> tuple[int, str]:
        best, matched = 0, ""
        for name in entry.names:
            if name == phrase:
                score = 100
            elif name.startswith(phrase):
                score = 80
            elif phrase in name:
                score = 70
            elif all(w in name for w in words):
                score = 60
            else:
                continue
            if score > best:
                best, matched = score, name
        if best:
            return best, self._as_written(entry, matched)
        everything = " ".join(entry.names) + " " + entry.text
        if phrase in entry.text:
            return 40, ""
        if all(w in everything for w in words):
            return 30, ""
        return 0, ""

    def _as_written(self, entry: Entry, folded: str) -> str:
        """The matched name as the data writes it; "" when it is the label itself."""
        for name in self.shown.get(entry.iri, []):
            if fold(name) == folded:
                return "" if name == entry.label else name
        return ""
