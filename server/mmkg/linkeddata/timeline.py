"""The landing page: every invocation on a timeline (server-side SVG, a Jinja template like
every page), with the dataset's description and schema.org markup for dataset search."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import render_template
from markupsafe import Markup
from rdflib import Graph

from ..kg.store import Backend
from ..web.urls import page_path
from . import documents
from .pages import MONTHS, Labels, date_position, format_date, select


@dataclass
class TimelineItem:
    href: str | None
    label: str
    when: str
    x: float
    y: float
    mechanism: str


def timeline(kg: Backend, base: str) -> dict[str, Any]:
    """Every invocation placed by date on a horizontal axis (server-side SVG)."""
    rows = select(kg, """SELECT ?i (SAMPLE(?d) AS ?date) (SAMPLE(?l) AS ?label)
        (SAMPLE(?m) AS ?mech) WHERE {
        ?i a mm:Invocation .
        OPTIONAL { ?i mm:date ?d } OPTIONAL { ?i rdfs:label ?l FILTER(langMatches(lang(?l), "en")
        || lang(?l) = "") } OPTIONAL { ?i mm:mechanism ?m } } GROUP BY ?i""")
    labels = Labels(Graph(), kg, extra=[r["mech"] for r in rows if "mech" in r])
    positioned = [(date_position(r["date"]), r) for r in rows if "date" in r]
    dated = [(pos, r) for pos, r in positioned if pos is not None]
    undated = [r for r in rows if "date" not in r]
    width, left, right, lane = 960, 40, 20, 18
    if dated:
        first = int(min(p for p, _ in dated)) - 1
        last = int(max(p for p, _ in dated)) + 2
    else:
        first, last = 1990, 2030
    scale = (width - left - right) / max(last - first, 1)
    items: list[TimelineItem] = []
    lanes: list[float] = []  # x of the last item in each lane, to avoid overlaps
    for pos, r in sorted(dated, key=lambda pr: (pr[0], str(pr[1]["i"]))):
        x = left + (pos - first) * scale
        lane_no = next((n for n, end in enumerate(lanes) if x - end >= 14), len(lanes))
        if lane_no == len(lanes):
            lanes.append(x)
        lanes[lane_no] = x
        items.append(TimelineItem(
            page_path(str(r["i"]), base), str(r.get("label", r["i"])), format_date(r["date"]),
            x, 0.0 + lane_no, labels(r["mech"]) if "mech" in r else ""))
    axis_y = 30 + lane * max(len(lanes), 1)
    for item in items:
        item.y = axis_y - 12 - lane * item.y
    step = 5 if last - first > 15 else 1
    ticks = [(left + (year - first) * scale, year)
             for year in range(first, last + 1) if year % step == 0]
    return {"width": width, "height": axis_y + 30, "axis_y": axis_y, "left": left,
            "right": width - right, "ticks": ticks, "events": items,
            "undated": [(page_path(str(r["i"]), base), str(r.get("label", r["i"])))
                        for r in undated],
            "table": sorted(items, key=lambda i: i.x)}


def landing_page(kg: Backend, stats: documents.Statistics, base: str, public_root: str) -> str:
    """The landing page: what the dataset is, the timeline, how to query and cite it.
    `public_root` is where absolute links point (the configured public URL, never the Host
    header a client sent)."""
    markup = json.dumps(documents.schema_org_dataset(stats, kg.modified, public_root + "/", base),
                        ensure_ascii=False, indent=1)
    # Inside <script>, "</" would end the element: escape it the JSON way.
    markup = markup.replace("</", "<\\/")
    modified = kg.modified.date()
    return render_template(
        "landing.html", title=documents.TITLE, description=documents.DESCRIPTION,
        stats=stats, timeline=timeline(kg, base), schema_org=Markup(markup),
        licence=str(documents.LICENSE), base=base, host=public_root,
        modified=f"{modified.day} {MONTHS[modified.month - 1]} {modified.year}",
        year=modified.year, dumps=documents.DUMP_FORMATS, data_version=kg.version,
        formats=[], path="/")
