"""What the site for people knows about the whole dataset, read once from the data: the
release (version, date, how to cite), the identifiers renamed in a release (301 redirects),
the schema.org types behind our classes (for the JSON-LD embedded in pages) and the search
index. No Flask here."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDFS

from ..kg.store import Backend, subclass_closure
from ..uris import SCHEMA
from . import documents
from .search import SearchIndex

REDIRECTS_FILE = "redirects.csv"
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; rdflib knows DCAT 2


@dataclass(frozen=True)
class Release:
    """The release of the data the server holds, as the data states it on <base>dataset."""

    version: str = ""  # dcat:version, e.g. "2026-11-29"
    issued: str = ""  # dcterms:issued, an ISO date
    title: str = documents.TITLE
    citation: str = ""  # dcterms:bibliographicCitation
    note: str = ""  # rdfs:comment: licences of reused data

    @classmethod
    def read(cls, kg: Backend, base: str) -> Release:
        dataset = documents.sparql_iri(str(documents.dataset_iri(base)))
        rows = kg.select(
            f"SELECT ?p ?o WHERE {{ {dataset} ?p ?o . FILTER(?p IN ("
            f"{', '.join(documents.sparql_iri(str(p)) for p in _RELEASE_PROPERTIES)})) "
            "FILTER(!isLiteral(?o) || lang(?o) = '' || langMatches(lang(?o), 'en')) }")
        found = {str(r["p"]): str(r["o"]) for r in rows}
        return cls(version=found.get(str(DCAT_VERSION)) or found.get(str(OWL.versionInfo), ""),
                   issued=found.get(str(DCTERMS.issued), ""),
                   title=found.get(str(DCTERMS.title), documents.TITLE),
                   citation=found.get(str(DCTERMS.bibliographicCitation), ""),
                   note=found.get(str(RDFS.comment), ""))


_RELEASE_PROPERTIES = (DCAT_VERSION, OWL.versionInfo, DCTERMS.issued, DCTERMS.title,
                       DCTERMS.bibliographicCitation, RDFS.comment)


def read_redirects(path: Path, base: str) -> dict[str, str]:
    """Old -> new paths under the base (`id/allegation/seed-...` -> `id/allegation/mm-...`)
    from a two-column CSV of full IRIs; rows outside the base are ignored."""
    if not path.is_file():
        return {}
    table: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            old, new = (row.get("old") or "").strip(), (row.get("new") or "").strip()
            if old.startswith(base) and new.startswith(base):
                table[old[len(base):]] = new[len(base):]
    return table


def schema_types(kg: Backend) -> dict[str, tuple[str, ...]]:
    """For each class of the ontology, the schema.org classes it is a subclass of (through any
    chain of rdfs:subClassOf): what search engines read in the embedded JSON-LD. The chain is
    followed here, not by rdfs:subClassOf+ with both ends open, which some stores (Virtuoso 7)
    refuse."""
    found: dict[str, tuple[str, ...]] = {}
    for cls, supers in subclass_closure(kg).items():
        names = sorted(s[len(str(SCHEMA)):] for s in supers if s.startswith(str(SCHEMA)))
        if names:
            found[cls] = tuple(names)
    return found


@dataclass(frozen=True)
class Site:
    """Computed once per loaded graph (the data does not change while serving)."""

    release: Release = field(default_factory=Release)
    redirects: dict[str, str] = field(default_factory=dict)
    schema_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    search: SearchIndex = field(default_factory=SearchIndex)
    root: str = ""  # where permanent page addresses start (web.urls.permanent_root)

    @classmethod
    def build(cls, kg: Backend, base: str, redirects: Path | None, root: str = "") -> Site:
        return cls(root=root or base, release=Release.read(kg, base),
                   redirects=read_redirects(redirects, base) if redirects else {},
                   schema_types=schema_types(kg),
                   search=SearchIndex.build(kg, base))

    def redirect_for(self, path: str) -> str | None:
        """The new path for an old one under the base (`id/...`, `doc/...` with or without an
        extension, `graph/...`), or None."""
        if path.startswith("doc/"):
            stem, dot, ext = path.partition(".")
            new = self.redirects.get("id/" + stem[4:])
            return f"doc/{new[3:]}{dot}{ext}" if new and new.startswith("id/") else None
        if path.startswith("graph/"):
            stem, dot, ext = path.partition(".")
            new = self.redirects.get(stem)
            return f"{new}{dot}{ext}" if new else None
        return self.redirects.get(path)
