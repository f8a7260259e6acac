"""Our identifiers seen from Wikidata: the local-id expression and formatter URL of each kind
of resource, the QIDs our resources link, and the index the Wikidata views serve from (built
once at start). No Flask here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kg.store import Backend
from ..uris import KINDS, split_resource_iri
from . import exports
from .extend import Extender
from .reconcile import Reconciler

QID = re.compile(r"Q[1-9][0-9]*")
WD = "http://www.wikidata.org/entity/"
SKOS = "http://www.w3.org/2004/02/skos/core#"


# The regular expression of the local id of each kind, as the data uses them (docs/MODEL.md);
# tests check that every identifier in the graph matches its kind's expression.
SLUG = r"[a-z0-9]+(-[a-z0-9]+)*"
# mm-/vm- for a use of the Moscow or Vienna Mechanism; hdm- for the 1999 use whose sources
# do not say which of the two (mechanism/human-dimension).
INVOCATION_ID = r"(mm|vm)-\d{4}(-\d{2})?-[a-z]+(-[a-z0-9]+)*|hdm-\d{4}-\d{2}"
STATE_ID = r"[a-z]{2}|[a-z]+(-[a-z]+)+"
LOCAL_ID_PATTERNS: dict[str, str] = {kind: SLUG for kind in KINDS} | {
    "state": STATE_ID,
    "invocation": INVOCATION_ID,
    "mission": INVOCATION_ID,
    "report": INVOCATION_ID,
    "allegation": rf"({INVOCATION_ID})(-{SLUG})?",
    "meeting": r"pc-\d{4}-\d{2}-\d{2}",
    "participation": rf"({STATE_ID})-osce",
    "confidence": r"confirmed|single-source|uncertain",
}
EXAMPLES: dict[str, str] = {
    "state": "pl", "org": "osce", "mechanism": "moscow", "document": "moscow-document-1991",
    "invocation": "mm-2025-07-ua-pow", "mission": "mm-2025-07-ua-pow",
    "report": "mm-2025-07-ua-pow", "meeting": "pc-2025-09-25", "person": "veronika-bilkova",
    "allegation": "mm-2025-07-ua-pow-torture-ill-treatment",
    "claim": "mm-2025-07-ua-pow-invokers-gov-pl", "source": "gov-pl-2025-07-24",
    "category": "torture-ill-treatment", "group": "prisoners-of-war", "framework": "ihl",
    "confidence": "confirmed", "procedure": "moscow-para-8", "source-type": "mirror",
    "instrument": "gciii", "provision": "gciii-art-13", "scheme": "violation-categories",
    "participation": "pl-osce", "correction": "2026-11-29-sfr-yugoslavia-wikidata",
}


@dataclass
class WikidataLinks:
    """What the Wikidata views need, computed once at start."""

    exact: dict[str, list[str]]  # QID -> our resource IRIs (skos:exactMatch)
    close: dict[str, list[str]]  # QID -> our resource IRIs (skos:closeMatch only)
    reconciler: Reconciler
    extender: Extender  # data extension over the reconciliation index
    ids: dict[str, set[str]]  # kind -> local ids the graph uses
    _exports: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, backend: Backend, base: str) -> WikidataLinks:
        exact, close = qid_links(backend, base)
        reconciler = Reconciler(backend, base)
        return cls(exact=exact, close=close, reconciler=reconciler,
                   extender=Extender(reconciler), ids=local_ids(backend, base))

    def export(self, name: str, backend: Backend, base: str) -> str:
        """An export, built on first use and kept: the served graph never changes."""
        if name not in self._exports:
            build = {"mixnmatch": exports.mixnmatch_tsv, "quickstatements": exports.quickstatements}
            self._exports[name] = build[name](backend, base)
        return self._exports[name]


def qid_links(graph: Backend, base: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Our resources linked to each Wikidata item, by skos:exactMatch and skos:closeMatch."""
    exact: dict[str, list[str]] = {}
    close: dict[str, list[str]] = {}
    for row in graph.select(f"""
        PREFIX skos: <{SKOS}>
        SELECT DISTINCT ?s ?p ?item WHERE {{
          VALUES ?p {{ skos:exactMatch skos:closeMatch }}
          ?s ?p ?item . FILTER(STRSTARTS(STR(?item), "{WD}"))
        }} ORDER BY ?s"""):
        iri, qid = str(row["s"]), str(row["item"])[len(WD):]
        if split_resource_iri(iri, base) is None or not QID.fullmatch(qid):
            continue  # ontology terms mapped to Wikidata properties are not resources
        target = exact if str(row["p"]) == SKOS + "exactMatch" else close
        target.setdefault(qid, []).append(iri)
    return exact, close


def local_ids(graph: Backend, base: str) -> dict[str, set[str]]:
    """Every identifier of ours used in the graph (as subject or object), by kind."""
    prefix = f"{base}id/"
    found: dict[str, set[str]] = {}
    for row in graph.select(f"""
        SELECT DISTINCT ?r WHERE {{
          {{ ?r ?p ?o }} UNION {{ ?s ?p ?r }}
          FILTER(ISIRI(?r) && STRSTARTS(STR(?r), "{prefix}"))
        }}"""):
        kind, _, local = str(row["r"])[len(prefix):].partition("/")
        found.setdefault(kind, set()).add(local)
    return found


def identifier_table(base: str, ids: Mapping[str, set[str]]) -> list[dict[str, Any]]:
    """Per kind: formatter URL, local-id expression, an example the graph holds, and how many
    of the graph's ids of that kind there are and match the expression."""
    rows = []
    for kind in KINDS:
        held = ids.get(kind, set())
        pattern = re.compile(LOCAL_ID_PATTERNS[kind])
        example = EXAMPLES[kind] if EXAMPLES[kind] in held or not held else min(held)
        rows.append({
            "kind": kind,
            "formatterURL": f"{base}id/{kind}/$1",
            "regex": LOCAL_ID_PATTERNS[kind],
            "example": example,
            "exampleIRI": f"{base}id/{kind}/{example}",
            "identifiers": len(held),
            "matching": sum(1 for i in held if pattern.fullmatch(i)),
        })
    return rows


def combined_pattern() -> str:
    """One expression for an external identifier that covers every kind ("state/pl")."""
    kinds = "|".join(sorted(KINDS, key=lambda k: (-len(k), k)))
    return f"({kinds})/[a-z0-9]+(-[a-z0-9]+)*"
