"""The landing page and the timeline of every invocation (server-side SVG, a Jinja template like
every page), with the dataset described as a schema:Dataset for dataset search engines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from rdflib import Graph

from ..kg.store import Backend, integer
from ..web.urls import page_path
from . import documents
from .facts import date_position, format_date
from .labels import Labels
from .pages import script_json
from .site import Site

# Marks of the timeline by mechanism: (key, words); "other" is the Human Dimension Mechanism
# where a source does not say which part was used.
MECHANISMS = (("moscow", "Moscow Mechanism"), ("vienna", "Vienna Mechanism"),
              ("other", "Human Dimension Mechanism (which part not stated)"))
PREFIX = ("PREFIX mm: <https://w3id.org/mmkg/ontology#> "
          "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")


@dataclass
class TimelineItem:
    href: str | None
    label: str
    when: str
    x: float
    y: float
    mechanism: str
    key: str  # moscow, vienna or other: the mark's colour and shape


def _mechanism_key(iri: str) -> str:
    tail = iri.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail in ("moscow", "vienna") else "other"


def timeline(kg: Backend, base: str) -> dict[str, Any]:
    """Every invocation placed by date on a horizontal axis, in lanes so marks never overlap."""
    rows = kg.select(PREFIX + """SELECT ?i (SAMPLE(?d) AS ?date) (SAMPLE(?l) AS ?label)
        (SAMPLE(?m) AS ?mech) WHERE {
        ?i a mm:Invocation .
        OPTIONAL { ?i mm:date ?d } OPTIONAL { ?i rdfs:label ?l FILTER(langMatches(lang(?l), "en")
        || lang(?l) = "") } OPTIONAL { ?i mm:mechanism ?m } } GROUP BY ?i""")
    labels = Labels(Graph(), kg, extra=[r["mech"] for r in rows if "mech" in r])
    dated = [(date_position(r["date"]), r) for r in rows if "date" in r]
    placed = [(pos, r) for pos, r in dated if pos is not None]
    undated = [r for r in rows if "date" not in r]
    width, left, right, lane, gap = 960, 40, 20, 26, 22
    if placed:
        first = int(min(p for p, _ in placed)) - 1
        last = int(max(p for p, _ in placed)) + 2
    else:
        first, last = 1990, 2030
    scale = (width - left - right) / max(last - first, 1)
    items: list[TimelineItem] = []
    lanes: list[float] = []  # x of the last mark in each lane
    for pos, r in sorted(placed, key=lambda pr: (pr[0], str(pr[1]["i"]))):
        x = left + (pos - first) * scale
        lane_no = next((n for n, end in enumerate(lanes) if x - end >= gap), len(lanes))
        if lane_no == len(lanes):
            lanes.append(x)
        lanes[lane_no] = x
        mech = str(r.get("mech", ""))
        items.append(TimelineItem(
            page_path(str(r["i"]), base), str(r.get("label", r["i"])), format_date(r["date"]),
            x, float(lane_no), labels(r["mech"]) if "mech" in r else "",
            _mechanism_key(mech)))
    axis_y = 34 + lane * max(len(lanes), 1)
    for item in items:
        item.y = axis_y - 18 - lane * item.y
    step = 5 if last - first > 15 else 1
    ticks = [(left + (year - first) * scale, year)
             for year in range(first, last + 1) if year % step == 0]
    legend = [(key, words, sum(1 for i in items if i.key == key)) for key, words in MECHANISMS]
    years = [int(pos) for pos, _ in placed]
    return {"width": width, "height": axis_y + 30, "axis_y": axis_y, "left": left,
            "span": (min(years), max(years)) if years else None,
            "right": width - right, "ticks": ticks, "events": items,
            "legend": [entry for entry in legend if entry[2]],
            "undated": [(page_path(str(r["i"]), base), str(r.get("label", r["i"])))
                        for r in undated],
            "table": sorted(items, key=lambda i: i.x)}


def counts(kg: Backend) -> dict[str, int]:
    """How many of each main kind the graph holds (the landing page's numbers)."""
    row = kg.select(PREFIX + """SELECT
        (COUNT(DISTINCT ?i) AS ?invocations) (COUNT(DISTINCT ?r) AS ?reports)
        (COUNT(DISTINCT ?a) AS ?allegations) (COUNT(DISTINCT ?e) AS ?experts)
        (COUNT(DISTINCT ?s) AS ?sources) WHERE {
        { ?i a mm:Invocation } UNION { ?r a mm:Report } UNION { ?a a mm:Allegation }
        UNION { ?e a mm:Expert } UNION { ?s a mm:Source } }""")[0]
    states = kg.select(PREFIX + """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {
        ?i a mm:Invocation . ?i mm:invokedBy|mm:subjectState|mm:conductState ?s .
        ?s a mm:ParticipatingState }""")[0]
    found = {name: integer(value) for name, value in row.items()}
    found["states"] = integer(states["n"]) if "n" in states else 0
    return found


def landing_page(kg: Backend, stats: documents.Statistics, base: str, site: Site,
                 public_root: str) -> str:
    """The landing page: what the dataset is, where to start, the timeline, how to query
    and cite it. `public_root` is where absolute links point (the configured public URL,
    never the Host header a client sent)."""
    release = site.release
    markup = documents.schema_org_dataset(stats, kg.modified, public_root + "/", base)
    markup.update({"version": release.version, "name": release.title})
    if release.issued:  # the release's date, not the files' time on this machine
        markup["datePublished"] = markup["dateModified"] = release.issued
    if release.citation:
        markup["citation"] = release.citation
    return render_template(
        "landing.html", title=release.title, description=documents.DESCRIPTION,
        stats=stats, counts=counts(kg), timeline=timeline(kg, base),
        jsonld=script_json(markup), licence=str(documents.LICENSE), base=base,
        host=public_root,
        issued=format_date(release.issued) if release.issued else "",
        dumps=documents.DUMP_FORMATS, formats=[], path="/")
