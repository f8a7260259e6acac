"""Exports for Wikidata tooling: a Mix'n'match catalogue and QuickStatements (v1).

Plain functions over any graph backend, plus the `mmkg export` command. Only sourced values
go out: QIDs are the graph's skos:exactMatch links; no QID is made up.

Mix'n'match (tab-separated, header `id name description type q url`):
- `id` is the path after `<base>id/` ("state/pl"), so one external-identifier property with
  formatter URL `<base>id/$1` covers every kind (see /identifiers);
- `type` is the Wikidata class of the row where a source of ours shows it:
  - a State: its mm:wikidataClass, the class its own Wikidata item is an instance of (P31),
    only where an mm:Claim with a source states that value. 48 of the 57 participating
    States are country (Q6256), read in a saved answer of the Wikidata Query Service
    (10 August 2024) to a query for the items whose best-ranked P31 includes Q6256 (the
    claims cite the item and that copy). Sovereign state (Q3624078) is preferred where a
    State has it sourced; none has today: no per-State list of Q3624078 was found (searched:
    Wikidata item pages and WikiProject Countries pages among stored web pages, saved
    query results and Wikidata entity JSON in public repositories; only queries, never
    their answers, turned up). Empty for the nine the copy does not list (the Holy See
    Q159583, Ukraine, Moldova, Bosnia and Herzegovina, Georgia, Monaco, San Marino,
    Luxembourg, Serbia: Q6256 was not among their best-ranked classes that day, which
    says nothing of what they are) and for the two Yugoslavias (no source of ours shows
    the class of Q83286 or Q838261, for instance historical country, Q3024240);
  - an expert: Q5 (human), whom the ontology makes a person (mm:Expert is a schema:Person)
    and whose sources name them as the people who served;
  - anything else: empty, no source gives a class QID for an invocation, report or
    mechanism. Our class is the first part of `description`;
- `q` is the item we link by skos:exactMatch, empty where we hold none (closeMatch is not used).

QuickStatements v1: one CREATE block per invocation (Wikidata has no item for them, and
none for the mechanisms), each statement referenced (`S854`, reference URL) to a source that
states the very value it supports, never a mirror and never a source without a URL:
- `Len` label and `Den` description (English, from the data: which mechanism was invoked);
- `P31` (instance of) from the class QID the ontology links mm:Invocation to by
  skos:exactMatch, referenced by the URL of a non-mirror source of that link's claim. None
  is sourced today (no source of ours, and no Wikidata page found, names a Wikidata class
  for an invocation of an OSCE mechanism), so P31 is not written and the header says so;
- `P585` (point in time) at the precision we hold (/11 day, /10 month, /9 year), referenced
  only by a date claim (mm:claimProperty mm:date) whose value is the invocation's date;
- `P710` (participant) for each invoking party with a QID, referenced only by an invoking-
  States claim (mm:InvokingStatesClaim) that lists that party.
A statement no such source supports is left out; an invocation left with nothing to state,
or marked uncertain, is left out whole. The file says which and why in `/* ... */` comment
lines, which QuickStatements skips. Left out on purpose: `P921` (main subject: no claim of
ours states an invocation's subject with its own source), `P361` (no QID for the Moscow
Mechanism), `P276` (no QID for the place), `P17` (an invocation is not located in the State
it concerns), `P1344` on the States (the new items have no QID yet; `P710` states the link).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Subcommands
from ..kg.store import Backend, integer, subclass_closure
from ..uris import BASE, MM

WD = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = f"""
PREFIX mm: <{MM}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <https://schema.org/>
"""

# Classes exported to Mix'n'match, in the order that decides an entity's one class.
MIXNMATCH_CLASSES = ("State", "Organisation", "OSCEBody", "Mechanism", "FoundingDocument",
                     "Invocation", "Expert", "Report", "Instrument")
MIXNMATCH_COLUMNS = ("id", "name", "description", "type", "q", "url")
# The Wikidata class of a row, by our class, where our data says it (see the module text).
MIXNMATCH_TYPES = {"Expert": "Q5"}
# Which sourced Wikidata class a row's `type` takes when it has several: sovereign state
# (Q3624078) before country (Q6256), then the smallest QID.
CLASS_PREFERENCE = ("Q3624078", "Q6256")
# Which sources a QuickStatements reference prefers; mirrors are never cited.
SOURCE_PREFERENCE = ("official-osce", "government", "united-nations", "european-union",
                     "academic", "ngo", "news", "encyclopedia", "dataset", "founding-page")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Mix'n'match


def mixnmatch_rows(graph: Backend, base: str = BASE) -> list[dict[str, str]]:
    """One row per State, organisation, OSCE body, mechanism, founding document, invocation,
    expert, report and instrument of the graph."""
    # ?s a/rdfs:subClassOf* ?cls, with the subclasses listed here: some stores (Virtuoso 7)
    # refuse a transitive path whose far end is bound only through VALUES.
    closure = subclass_closure(graph)
    pairs = []
    for i, name in enumerate(MIXNMATCH_CLASSES):
        cls = f"{MM}{name}"
        pairs += [(sub, cls, i) for sub in sorted({cls} | {c for c, sups in closure.items()
                                                           if cls in sups})]
    classes = " ".join(f"(<{sub}> <{cls}> {i})" for sub, cls, i in pairs)
    rows = graph.select(PREFIXES + f"""
        SELECT ?s (MIN(?order) AS ?o) (SAMPLE(?classLabel) AS ?cl) WHERE {{
          VALUES (?type ?cls ?order) {{ {classes} }}
          ?s a ?type .
          OPTIONAL {{ ?cls rdfs:label ?classLabel FILTER(LANGMATCHES(LANG(?classLabel), "en")) }}
          FILTER(STRSTARTS(STR(?s), "{base}id/"))
        }} GROUP BY ?s""")
    details = _details(graph, base)
    classes_of = _wikidata_classes(graph, base)
    out: list[tuple[int, dict[str, str]]] = []
    for row in rows:
        iri = str(row["s"])
        order = integer(row["o"])
        info = details.get(iri, {})
        cls = MIXNMATCH_CLASSES[order]
        label = str(row.get("cl") or cls)
        parts = [label]
        if info.get("date"):
            parts.append(info["date"])
        if info.get("codes"):
            parts.append("ISO 3166-1 " + "/".join(info["codes"]))
        out.append((order, {
            "id": iri[len(base) + 3:],
            "name": _one_line(info.get("name") or iri.rsplit("/", 1)[-1]),
            "description": _one_line("; ".join(parts)),
            "type": _preferred(classes_of.get(iri, ())) or MIXNMATCH_TYPES.get(cls, ""),
            "q": info.get("qid", ""),
            "url": iri,
        }))
    out.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    return [row for _, row in out]


def _details(graph: Backend, base: str) -> dict[str, dict[str, Any]]:
    """Name (English preferred label, else label), first date, ISO codes and QID per resource."""
    found: dict[str, dict[str, Any]] = {}
    for row in graph.select(PREFIXES + f"""
        SELECT ?s ?pref ?label ?date ?a2 ?a3 ?item WHERE {{
          ?s rdfs:label ?label . FILTER(LANGMATCHES(LANG(?label), "en"))
          FILTER(STRSTARTS(STR(?s), "{base}id/"))
          OPTIONAL {{ ?s skos:prefLabel ?pref FILTER(LANGMATCHES(LANG(?pref), "en")) }}
          OPTIONAL {{ ?s mm:date ?date }}
          OPTIONAL {{ ?s mm:iso3166Alpha2 ?a2 }}
          OPTIONAL {{ ?s mm:iso3166Alpha3 ?a3 }}
          OPTIONAL {{ ?s skos:exactMatch ?item FILTER(STRSTARTS(STR(?item), "{WD}")) }}
        }}"""):
        info = found.setdefault(str(row["s"]), {})
        # The English preferred label where there is one, else the (smallest) English label.
        if "pref" in row:
            info["name"] = str(row["pref"])
            info["has_pref"] = True
        elif not info.get("has_pref"):
            info["name"] = min(str(row["label"]), info.get("name", str(row["label"])))
        if "date" in row:
            info["date"] = min(str(row["date"]), info.get("date", str(row["date"])))
        if "a2" in row and "a3" in row:
            info["codes"] = [str(row["a2"]), str(row["a3"])]
        if "item" in row:
            qid = str(row["item"])[len(WD):]
            info["qid"] = min(qid, info.get("qid", qid))
    return found


def _wikidata_classes(graph: Backend, base: str) -> dict[str, set[str]]:
    """The Wikidata classes (QIDs) of each resource that a claim with a source states
    (mm:wikidataClass); a value without such a claim is not used."""
    found: dict[str, set[str]] = {}
    for row in graph.select(PREFIXES + f"""
        SELECT DISTINCT ?s ?class WHERE {{
          ?s mm:wikidataClass ?class . FILTER(STRSTARTS(STR(?class), "{WD}Q"))
          FILTER(STRSTARTS(STR(?s), "{base}id/"))
          ?claim mm:claimAbout ?s ; mm:claimProperty mm:wikidataClass ; mm:claimValue ?class ;
                 prov:wasDerivedFrom ?source .
        }}"""):
        found.setdefault(str(row["s"]), set()).add(str(row["class"])[len(WD):])
    return found


def _preferred(qids: Iterable[str]) -> str:
    ranked = sorted(qids, key=lambda q: (CLASS_PREFERENCE.index(q) if q in CLASS_PREFERENCE
                                         else len(CLASS_PREFERENCE), int(q[1:])))
    return ranked[0] if ranked else ""


def mixnmatch_tsv(graph: Backend, base: str = BASE) -> str:
    """The catalogue as tab-separated text with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MIXNMATCH_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(mixnmatch_rows(graph, base))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# QuickStatements


@dataclass(frozen=True)
class SourceRef:
    url: str
    kind: str

    @property
    def rank(self) -> tuple[int, str]:
        order = SOURCE_PREFERENCE.index(self.kind) if self.kind in SOURCE_PREFERENCE else 99
        return order, self.url


def _sources(graph: Backend, about: str) -> dict[str, list[SourceRef]]:
    """For each resource: its cited sources with a URL, mirrors left out."""
    result: dict[str, list[SourceRef]] = {}
    for row in graph.select(PREFIXES + f"""
        SELECT DISTINCT ?r ?url ?type WHERE {{
          {about}
          ?r prov:wasDerivedFrom ?src . ?src schema:url ?url .
          OPTIONAL {{ ?src mm:sourceType ?type }}
        }}"""):
        kind = str(row.get("type", "")).rsplit("/", 1)[-1]
        if kind == "mirror":
            continue
        result.setdefault(str(row["r"]), []).append(SourceRef(str(row["url"]), kind))
    return result


def _best(refs: Iterable[SourceRef]) -> str | None:
    ranked = sorted(refs, key=lambda r: r.rank)
    return ranked[0].url if ranked else None


def wikidata_time(value: str, datatype: str) -> str | None:
    """A QuickStatements time value at the precision we hold; never a made-up day or month."""
    if datatype == XSD + "date" and len(value) == 10:
        return f"+{value}T00:00:00Z/11"
    if datatype == XSD + "gYearMonth" and len(value) == 7:
        return f"+{value}-00T00:00:00Z/10"
    if datatype == XSD + "gYear" and len(value) == 4:
        return f"+{value}-00-00T00:00:00Z/9"
    return None


def _string(text: str) -> str:
    """A QuickStatements string value (double quotes inside are replaced: v1 cannot escape)."""
    return '"' + _one_line(text).replace('"', "'") + '"'


def _claim_sources(graph: Backend, pattern: str) -> dict[tuple[str, str], list[SourceRef]]:
    """Sources (non-mirror, with a URL) of the claims matching `pattern`, which binds ?claim,
    ?inv (the invocation) and ?value (the value the claim states), by (invocation, value)."""
    sources = _sources(graph, "?r mm:claimAbout ?about .")
    found: dict[tuple[str, str], list[SourceRef]] = {}
    for row in graph.select(PREFIXES + f"SELECT DISTINCT ?claim ?inv ?value WHERE {{ {pattern} }}"):
        key = (str(row["inv"]), str(row["value"]))
        found.setdefault(key, []).extend(sources.get(str(row["claim"]), []))
    return found


def _comment(text: str) -> str:
    """A QuickStatements comment line (the v1 parser takes /* ... */ as a summary and skips a
    line that holds nothing else)."""
    return "/* " + _one_line(text).replace("*/", "* /") + " */"


def _class_item(graph: Backend) -> tuple[str, str] | None:
    """(QID, reference URL) of the Wikidata class the ontology links mm:Invocation to by
    skos:exactMatch, where a claim of that link has a source with a URL that is not a
    mirror; None otherwise."""
    for row in graph.select(PREFIXES + f"""
        SELECT ?item ?url ?type WHERE {{
          mm:Invocation skos:exactMatch ?item . FILTER(STRSTARTS(STR(?item), "{WD}Q"))
          ?claim mm:claimAbout mm:Invocation ; mm:claimProperty skos:exactMatch ;
                 mm:claimValue ?item ; prov:wasDerivedFrom ?source .
          ?source schema:url ?url . OPTIONAL {{ ?source mm:sourceType ?type }}
        }} ORDER BY ?item ?url"""):
        if str(row.get("type", "")).rsplit("/", 1)[-1] != "mirror":
            return str(row["item"])[len(WD):], str(row["url"])
    return None


HEADER = """\
QuickStatements (v1) for Wikidata from mmkg, the OSCE Moscow Mechanism knowledge graph: one
item per invocation. Every statement is referenced (S854) to a source that states the value
it supports; none to a mirror. Statements and invocations without such a source are left
out, each with a comment below saying why.
"""


def quickstatements(graph: Backend, base: str = BASE) -> str:
    """QuickStatements v1 commands creating an item per invocation, every statement referenced
    by a source that states it, and comment lines for what is left out and why."""
    invocations = graph.select(PREFIXES + f"""
        SELECT ?inv ?label ?date ?mech ?uncertain WHERE {{
          ?inv a mm:Invocation ; rdfs:label ?label ; mm:date ?date .
          FILTER(LANGMATCHES(LANG(?label), "en"))
          OPTIONAL {{ ?inv mm:mechanism/rdfs:label ?mech FILTER(LANGMATCHES(LANG(?mech), "en")) }}
          BIND(EXISTS {{ ?inv mm:confidence <{base}id/confidence/uncertain> }} AS ?uncertain)
        }} ORDER BY ?date ?inv""")
    # A date claim supports P585 only where its value is the invocation's date itself.
    date_sources = _claim_sources(graph, """
        ?claim mm:claimProperty mm:date ; mm:claimAbout ?inv ; mm:claimValue ?value .
        ?inv a mm:Invocation ; mm:date ?date . FILTER(sameTerm(?value, ?date))""")
    list_sources = _claim_sources(graph, """
        ?claim a mm:InvokingStatesClaim ; mm:claimAbout ?inv ; mm:listsState ?value .""")
    participants: dict[str, list[tuple[str, str]]] = {}
    for row in graph.select(PREFIXES + f"""
        SELECT ?inv ?party ?item WHERE {{
          ?inv a mm:Invocation ; mm:invokedBy ?party .
          ?party skos:exactMatch ?item . FILTER(STRSTARTS(STR(?item), "{WD}"))
        }} ORDER BY ?inv ?party"""):
        participants.setdefault(str(row["inv"]), []).append(
            (str(row["party"]), str(row["item"])[len(WD):]))
    class_item = _class_item(graph)

    lines = [_comment(line) for line in HEADER.splitlines()]
    if class_item is None:
        lines.append(_comment(
            "P31 (instance of) is not written: no source of ours gives the Wikidata class of "
            "an invocation (the ontology links mm:Invocation to none by skos:exactMatch). Add "
            "P31 by hand once a class is chosen and sourced; patrollers expect one."))
    lines.append(_comment(
        "P921 (main subject) is not written: no claim of ours states an invocation's subject "
        "State with its own source."))
    for row in invocations:
        inv = str(row["inv"])
        local = inv[len(base) + 3:]
        if str(row["uncertain"]).lower() == "true":
            lines.append(_comment(f"{local} left out: marked uncertain (its sources do not "
                                  "say which mechanism was used)."))
            continue
        date = row["date"]
        when = wikidata_time(str(date), str(getattr(date, "datatype", "")))
        mechanism = str(row.get("mech") or "mechanism")
        block = [f"LAST\tLen\t{_string(str(row['label']))}",
                 f"LAST\tDen\t{_string('invocation of the OSCE ' + mechanism)}"]
        statements, omitted = [], []
        if class_item is not None:
            statements.append(f"LAST\tP31\t{class_item[0]}\tS854\t{_string(class_item[1])}")
        date_ref = _best(date_sources.get((inv, str(date)), []))
        if when and date_ref:
            statements.append(f"LAST\tP585\t{when}\tS854\t{_string(date_ref)}")
        else:
            omitted.append(f"P585 {date}: no date claim from a non-mirror source with a URL "
                           "states this date")
        unlisted = []
        for party, qid in participants.get(inv, []):
            ref = _best(list_sources.get((inv, party), []))
            if ref:
                statements.append(f"LAST\tP710\t{qid}\tS854\t{_string(ref)}")
            else:
                unlisted.append(qid)
        if unlisted:
            omitted.append(f"P710 {', '.join(unlisted)}: no invoking-States list from a "
                           "non-mirror source with a URL names this party")
        if not statements:
            lines.append(_comment(f"{local} left out: nothing to state with a reference ("
                                  + "; ".join(omitted) + ")."))
            continue
        lines.extend(_comment(f"{local}: {reason}.") for reason in omitted)
        lines.append("CREATE")
        lines.extend(block + statements)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Command line


def _load_graph(args: argparse.Namespace) -> Backend:
    from ..config import Settings
    from ..kg.store import load_graph, served_files

    settings = Settings.from_env(data=args.data or None)
    return load_graph(served_files(settings))


def _run(args: argparse.Namespace) -> int:
    from ..config import Settings
    from ..progress import Progress

    with Progress("loading the data"):
        graph = _load_graph(args)
    base = Settings.from_env().base
    with Progress(f"writing the {args.format} export"):
        text = mixnmatch_tsv(graph, base) if args.format == "mixnmatch" \
            else quickstatements(graph, base)
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def add_command(subparsers: Subcommands) -> None:
    """`mmkg export {mixnmatch,quickstatements} [-o FILE] [--data PATH]`."""
    parser = subparsers.add_parser(
        "export", help="write a Mix'n'match catalogue or QuickStatements for Wikidata",
        description="Exports for Wikidata tooling; the same files are served at "
                    "/export/mixnmatch.tsv and /export/quickstatements.txt.")
    parser.add_argument("format", choices=("mixnmatch", "quickstatements"),
                        help="mixnmatch: tab-separated catalogue; quickstatements: v1 commands")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.add_argument("--data", action="append", metavar="PATH",
                        help="extra RDF files or folders beside the shipped data (repeatable)")
    parser.set_defaults(func=_run)
