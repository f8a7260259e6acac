"""The index pages: every invocation (with the timeline), report, expert, State (with its roles
and counts), violation category and source, and the corrections log; each a few queries over
the backend, so each can be built ahead like any page. No Flask here but the templates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from rdflib import Graph, URIRef
from rdflib.term import Node

from ..kg.store import Backend, integer
from ..uris import MM, WD
from ..web.urls import page_path
from .facts import Value, date_position, format_date
from .labels import Labels
from .site import Site
from .timeline import timeline

PREFIXES = ("PREFIX mm: <https://w3id.org/mmkg/ontology#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX dcterms: <http://purl.org/dc/terms/> "
            "PREFIX prov: <http://www.w3.org/ns/prov#> "
            "PREFIX schema: <https://schema.org/> ")


def _select(kg: Backend, query: str) -> list[dict[str, Node]]:
    return kg.select(PREFIXES + query)


class _Show:
    """Labels and links for the IRIs of query rows (one lookup for all of them)."""

    def __init__(self, kg: Backend, base: str, rows: list[dict[str, Node]]) -> None:
        self.base = base
        nodes = {v for row in rows for v in row.values() if isinstance(v, URIRef)}
        self.labels = Labels(Graph(), kg, extra=nodes)

    def __call__(self, node: Node) -> Value:
        iri = str(node)
        href = page_path(iri, self.base)
        if href is None:
            return Value(self.labels(node), iri, external=True)
        return Value(self.labels(node), href)


def _page(template: str, path: str, base: str, title: str, description: str,
          **context: Any) -> str:
    return render_template(template, title=title, description=description, path=path,
                           formats=(), page_type="CollectionPage", **context)


def _count(row: dict[str, Node], name: str) -> int:
    return integer(row[name]) if name in row else 0


# --- invocations ---------------------------------------------------------------------------

def invocations_page(kg: Backend, base: str) -> str:
    rows = _select(kg, """SELECT ?i ?date ?mech (COUNT(DISTINCT ?by) AS ?invokers)
        (SAMPLE(?complete) AS ?full) (GROUP_CONCAT(DISTINCT STR(?about); separator=" ") AS ?abouts)
        (SAMPLE(?report) AS ?r) WHERE {
        ?i a mm:Invocation . OPTIONAL { ?i mm:date ?date } OPTIONAL { ?i mm:mechanism ?mech }
        OPTIONAL { ?i mm:invokedBy ?by } OPTIONAL { ?i mm:invokingListComplete ?complete }
        OPTIONAL { ?i mm:subjectState|mm:conductState ?about }
        OPTIONAL { { ?i mm:mission/mm:report ?report } UNION { ?report mm:answersInvocation ?i } }
        } GROUP BY ?i ?date ?mech""")
    abouts = {URIRef(a) for r in rows for a in str(r.get("abouts", "")).split()}
    show = _Show(kg, base, rows + [{"a": a} for a in abouts])
    table = []
    for r in sorted(rows, key=lambda r: (date_position(r["date"]) or 9999.0)
                    if "date" in r else 9999.0):
        count = _count(r, "invokers")
        complete = "full" not in r or str(r["full"]) == "true"
        table.append({
            "invocation": show(r["i"]),
            "when": format_date(r["date"]) if "date" in r else "date unknown",
            "year": str(r["date"])[:4] if "date" in r else "",
            "mechanism": show(r["mech"]) if "mech" in r else None,
            "invokers": f"{count}" if complete else (f"{count} named" if count else
                                                      "not named"),
            "about": sorted((show(URIRef(a)) for a in str(r.get("abouts", "")).split()),
                            key=lambda v: v.text),
            "report": show(r["r"]) if "r" in r else None,
        })
    return _page("index_invocations.html", "/invocations", base, "Invocations",
                 f"Every use of the OSCE Moscow and Vienna Mechanisms in this dataset "
                 f"({len(table)}), by date: who invoked it, whom it concerned, the report.",
                 timeline=timeline(kg, base), rows=table)


# --- reports -------------------------------------------------------------------------------

def reports_page(kg: Backend, base: str) -> str:
    rows = _select(kg, """SELECT ?r ?title ?number ?date ?i (COUNT(DISTINCT ?a) AS ?findings)
        WHERE { ?r a mm:Report . OPTIONAL { ?r dcterms:title ?title }
        OPTIONAL { ?r mm:reportNumber ?number }
        OPTIONAL { ?r mm:date|mm:publishedOn ?date }
        OPTIONAL { ?r mm:answersInvocation ?i } OPTIONAL { ?a mm:allegedIn ?r } }
        GROUP BY ?r ?title ?number ?date ?i""")
    show = _Show(kg, base, rows)
    best: dict[Node, dict[str, Node]] = {}
    for r in rows:  # one line per report: the earliest of its dates
        kept = best.get(r["r"])
        if kept is None or ("date" in r and str(r["date"]) < str(kept.get("date", "9999"))):
            best[r["r"]] = r
    table: list[dict[str, Any]] = [
        {"report": show(r["r"]), "title": str(r.get("title", "")),
         "number": str(r.get("number", "")),
         "when": format_date(r["date"]) if "date" in r else "",
         "sort": (date_position(r["date"]) if "date" in r else None) or 9999.0,
         "invocation": show(r["i"]) if "i" in r else None,
         "findings": _count(r, "findings")} for r in best.values()]
    table.sort(key=lambda t: float(t["sort"]))
    return _page("index_reports.html", "/reports", base, "Reports",
                 f"The {len(table)} reports of the Moscow Mechanism missions: title, date, "
                 "document number, the invocation they answer and their findings.",
                 rows=table)


# --- experts and people --------------------------------------------------------------------

def experts_page(kg: Backend, base: str) -> str:
    rows = _select(kg, """SELECT ?p ?m ?i ?date ?affiliation WHERE {
        ?p a ?type . FILTER(?type IN (mm:Expert, schema:Person))
        OPTIONAL { ?m mm:expert ?p OPTIONAL { ?i mm:mission ?m OPTIONAL { ?i mm:date ?date } } }
        OPTIONAL { ?p mm:affiliation ?affiliation FILTER(langMatches(lang(?affiliation), "en")
                   || lang(?affiliation) = "") } }""")
    show = _Show(kg, base, rows)
    people: dict[Node, dict[str, Any]] = {}
    for r in rows:
        entry = people.setdefault(r["p"], {"person": show(r["p"]), "missions": {},
                                           "affiliation": str(r.get("affiliation", ""))})
        if "i" in r:
            entry["missions"][r["i"]] = (date_position(r["date"]) if "date" in r else 9999.0,
                                         show(r["i"]))
    experts: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for entry in sorted(people.values(), key=lambda e: e["person"].text):
        entry["missions"] = [v for _, v in sorted(entry["missions"].values(),
                                                   key=lambda pv: pv[0] or 9999.0)]
        (experts if entry["missions"] else others).append(entry)
    addressed = _select(kg, "SELECT ?p ?i WHERE { ?i mm:addressedTo ?p }")
    letters: dict[Node, list[Node]] = defaultdict(list)
    for r in addressed:
        letters[r["p"]].append(r["i"])
    show_letters = _Show(kg, base, addressed)
    for entry in others:
        iri = next((p for p, e in people.items() if e is entry), None)
        entry["letters"] = [show_letters(i) for i in letters.get(iri, [])] if iri else []
    return _page("index_experts.html", "/experts", base, "Experts and people",
                 f"The {len(experts)} experts and rapporteurs of the missions, with the "
                 "missions each served on, and the other people the sources name.",
                 experts=experts, others=others)


# --- States --------------------------------------------------------------------------------

@dataclass
class StateLine:
    state: Value
    historical: bool
    invoked: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    against: int = 0
    wikidata: list[Value] = field(default_factory=list)


def states_page(kg: Backend, base: str) -> str:
    rows = _select(kg, """SELECT ?s ?type
        (COUNT(DISTINCT ?joined) AS ?invoked) (COUNT(DISTINCT ?subject) AS ?subjects)
        (COUNT(DISTINCT ?conduct) AS ?conducts) (COUNT(DISTINCT ?a) AS ?against)
        (GROUP_CONCAT(DISTINCT STR(?wd); separator=" ") AS ?items) WHERE {
        ?s a ?type . FILTER(?type IN (mm:ParticipatingState, mm:FormerParticipatingState))
        OPTIONAL { ?joined mm:invokedBy ?s }
        OPTIONAL { ?subject mm:subjectState ?s } OPTIONAL { ?conduct mm:conductState ?s }
        OPTIONAL { ?a mm:allegedPerpetrator ?s }
        OPTIONAL { ?s skos:exactMatch ?wd
                   FILTER(STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/")) }
        } GROUP BY ?s ?type""")
    show = _Show(kg, base, rows)
    lines = []
    for r in rows:
        lines.append(StateLine(
            show(r["s"]), r["type"] == MM.FormerParticipatingState, _count(r, "invoked"),
            {k: v for k, v in (("about it or on its territory", _count(r, "subjects")),
                               ("examining its conduct", _count(r, "conducts"))) if v},
            _count(r, "against"),
            [Value(f"Wikidata {w[len(str(WD)):]}", w, external=True)
             for w in str(r.get("items", "")).split()]))
    lines.sort(key=lambda line: line.state.text)
    current = [line for line in lines if not line.historical]
    return _page("index_states.html", "/states", base, "States",
                 f"The {len(current)} participating States and the historical ones: how often "
                 "each invoked a mechanism and how often one concerned it.",
                 current=current, historical=[line for line in lines if line.historical])


# --- violation categories, affected groups, frameworks ------------------------------------

def categories_page(kg: Backend, base: str) -> str:
    def concepts(scheme: str, prop: str) -> list[dict[str, Any]]:
        rows = _select(kg, f"""SELECT ?c ?definition (COUNT(DISTINCT ?a) AS ?n)
            (COUNT(DISTINCT ?r) AS ?reports) WHERE {{
            ?c skos:inScheme <{base}id/scheme/{scheme}> .
            OPTIONAL {{ ?c skos:definition ?definition
                       FILTER(langMatches(lang(?definition), "en")) }}
            OPTIONAL {{ ?a {prop} ?c OPTIONAL {{ ?a mm:allegedIn ?r . ?r a mm:Report }} }}
            }} GROUP BY ?c ?definition""")
        show = _Show(kg, base, rows)
        return sorted(({"concept": show(r["c"]), "definition": str(r.get("definition", "")),
                        "count": _count(r, "n"), "reports": _count(r, "reports")}
                       for r in rows), key=lambda c: c["concept"].text)
    return _page("index_categories.html", "/categories", base, "Violation categories",
                 "The kinds of violation the reports and other sources allege, the groups "
                 "affected and the bodies of law, with how many allegations each has.",
                 categories=concepts("violation-categories", "mm:category"),
                 groups=concepts("affected-groups", "mm:affectedGroup"),
                 frameworks=concepts("legal-frameworks", "mm:legalFramework"))


# --- sources -------------------------------------------------------------------------------

def sources_page(kg: Backend, base: str) -> str:
    rows = _select(kg, """SELECT ?s ?type ?publisher ?date ?url (COUNT(DISTINCT ?x) AS ?cited)
        WHERE { ?s a mm:Source . OPTIONAL { ?s mm:sourceType ?type }
        OPTIONAL { ?s dcterms:publisher ?publisher FILTER(isLiteral(?publisher)) }
        OPTIONAL { ?s mm:date|dcterms:date ?date } OPTIONAL { ?s schema:url ?url }
        OPTIONAL { ?x prov:wasDerivedFrom|mm:allegedIn ?s } }
        GROUP BY ?s ?type ?publisher ?date ?url""")
    show = _Show(kg, base, rows)
    by_type: dict[str, dict[Node, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        group = show(r["type"]).text if "type" in r else "Other"
        by_type[group].setdefault(r["s"], {
            "source": show(r["s"]), "publisher": str(r.get("publisher", "")),
            "when": format_date(r["date"]) if "date" in r else "",
            "url": str(r.get("url", "")), "cited": _count(r, "cited")})
    groups = [(name, sorted(items.values(), key=lambda s: s["source"].text.lower()))
              for name, items in sorted(by_type.items())]
    total = sum(len(items) for _, items in groups)
    return _page("index_sources.html", "/sources", base, "Sources",
                 f"The {total} documents the facts come from, by type: publisher, date, "
                 "address and how many facts cite each.", groups=groups, total=total)


# --- corrections ---------------------------------------------------------------------------

def corrections_page(kg: Backend, base: str, site: Site, report_to: str) -> str:
    rows = _select(kg, """SELECT ?c ?date ?release ?comment WHERE { ?c a mm:Correction .
        OPTIONAL { ?c dcterms:date ?date } OPTIONAL { ?c mm:inRelease ?release }
        OPTIONAL { ?c rdfs:comment ?comment FILTER(langMatches(lang(?comment), "en")) } }""")
    changed = _select(kg, """SELECT ?c ?r ?s WHERE { ?c a mm:Correction .
        { ?c mm:correctionOf ?r } UNION { ?c prov:wasDerivedFrom ?s } }""")
    show = _Show(kg, base, rows + changed)
    resources: dict[Node, list[Value]] = defaultdict(list)
    sources: dict[Node, list[Value]] = defaultdict(list)
    for r in changed:
        if "r" in r:
            resources[r["c"]].append(show(r["r"]))
        if "s" in r:
            sources[r["c"]].append(show(r["s"]))
    entries: list[dict[str, Any]] = [
        {"correction": show(r["c"]), "when": format_date(r["date"]) if "date" in r else "",
         "release": str(r.get("release", "")), "comment": str(r.get("comment", "")),
         "resources": sorted(resources[r["c"]], key=lambda v: v.text),
         "sources": sorted(sources[r["c"]], key=lambda v: v.text)} for r in rows]
    entries.sort(key=lambda e: (e["release"], e["correction"].text))
    return _page("corrections.html", "/corrections", base, "Corrections and reporting errors",
                 "How to report an error in the data, and every correction made in each "
                 "release: what changed, why, and the source that shows it.",
                 entries=entries, report_to=report_to, release=site.release)

