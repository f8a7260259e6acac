"""The summary at the top of each kind of page: what a reader came for, in sentences and short
lists, before the full table of statements. Each function reads a page's Facts (gathering the
few related resources it needs) and returns what its template (templates/summary/) shows.
No Flask here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from ..uris import MM, SCHEMA, WD
from .facts import Facts, References, Value, date_position

# A State's roles in an invocation, as its page and the invocation's page name them.
STATE_ROLES = (
    (MM.invitingState, "inviting State"),
    (MM.subjectState, "mission about it or on its territory"),
    (MM.conductState, "State whose conduct is examined"),
)
NO_MISSION_SUBJECT = "State it concerns"
DESCRIBING = (RDFS.comment, SKOS.definition, DCTERMS.description)


@dataclass
class Finding:
    """One alleged violation as a line of a summary: its sentence and its references."""

    title: Value
    sentence: str
    refs: list[int]
    confidence: str = ""
    by: str = ""  # who alleges it, when that is not the report itself
    invocation: Value | None = None


@dataclass
class Group:
    heading: Value
    items: list[Finding] = field(default_factory=list)


@dataclass
class Line:
    """A resource in a list, with its date and a note (a role, a count)."""

    value: Value
    when: str = ""
    note: str = ""
    refs: list[int] = field(default_factory=list)


def _confidence(f: Facts, subject: Node) -> str:
    found = f.one(subject, MM.confidence)
    return f.labels(found) if found is not None else ""


def _describe(f: Facts, subject: Node) -> str:
    return f.text(subject, *DESCRIBING)


def findings(f: Facts, refs: References, allegations: Iterable[Node],
             with_invocation: bool = False) -> list[Group]:
    """Allegations grouped by category (categories alphabetically), each with its sentence
    (its comment, else its label) and its sources as reference numbers."""
    groups: dict[Node | None, Group] = {}
    for a in sorted(allegations, key=f.sort_key):
        category = f.one(a, MM.category)
        group = groups.get(category)
        if group is None:
            heading = f.value(category) if category is not None else Value("Not categorised")
            group = groups[category] = Group(heading)
        by = ", ".join(f.labels(x) for x in f.objects(a, MM.allegedBy)
                       if not f.is_a(x, MM.Expert))
        invocation = f.one(a, MM.relatedInvocation)
        group.items.append(Finding(
            f.value(a), f.text(a, RDFS.comment), refs.sources_of(a), _confidence(f, a), by,
            f.value(invocation) if with_invocation and invocation is not None else None))
    return sorted(groups.values(), key=lambda g: (g.heading.text.lower(), g.heading.href or ""))


def _split_by_report(f: Facts, allegations: Iterable[Node]) -> tuple[list[Node], list[Node]]:
    """(those a report makes, those other documents make): the mission's findings are kept
    apart from what the invoking States or other sources alleged."""
    ours: list[Node] = []
    others: list[Node] = []
    for a in allegations:
        (ours if any(f.is_a(d, MM.Report) for d in f.objects(a, MM.allegedIn))
         else others).append(a)
    return ours, others


def _states_sentence(f: Facts, states: list[Node]) -> list[Value]:
    return [f.value(s) for s in sorted(states, key=f.by_label)]


# --- invocation ----------------------------------------------------------------------------

def invocation(f: Facts, topic: URIRef) -> dict[str, Any]:
    allegations = f.subjects(MM.relatedInvocation, topic)
    claims = f.subjects(MM.claimAbout, topic)
    missions = f.objects(topic, MM.mission)
    f.gather([*allegations, *claims, *missions])
    reports = sorted({*f.subjects(MM.answersInvocation, topic),
                      *(r for m in missions for r in f.objects(m, MM.report))}, key=f.sort_key)
    f.gather([*reports, *f.objects(topic, MM.addressedTo)])
    f.gather([m for r in reports for m in f.objects(r, MM.presentedAt)])
    refs = References(f)
    invokers = f.objects(topic, MM.invokedBy)
    states = [s for s in invokers if f.is_a(s, MM.ParticipatingState)
              or f.is_a(s, MM.FormerParticipatingState) or f.is_a(s, MM.State)]
    bodies = [s for s in invokers if s not in states]
    complete = f.one(topic, MM.invokingListComplete)
    roles: dict[Node, list[str]] = defaultdict(list)
    for prop, role in STATE_ROLES:
        for state in f.objects(topic, prop):
            # A use with no mission (the Vienna Mechanism, say) concerns the State; no
            # mission is about it.
            roles[state].append(role if missions or prop != MM.subjectState
                                else NO_MISSION_SUBJECT)
    if MM.invitingState in {p for p, _ in f.graph.predicate_objects(topic)}:
        # mm:invitingState is a sub-property of mm:subjectState: one role says both.
        for state in f.objects(topic, MM.invitingState):
            roles[state] = [r for r in roles[state] if r != STATE_ROLES[1][1]]
    ours, others = _split_by_report(f, allegations)
    overview_refs = refs.sources_of(topic)
    mission_lines = [_mission(f, refs, m) for m in missions]
    report_lines = [_report_line(f, refs, r) for r in reports]
    return {
        "refs_top": overview_refs,
        "comment": f.text(topic, RDFS.comment),
        "topic": f.text(topic, MM.topic),
        "date": f.when(topic),
        "facts": _facts(f, topic, (
            (MM.mechanism, "Mechanism"), (MM.procedure, "Procedure"),
            (MM.forum, "Invoked at"), (MM.deliveredBy, "Statement delivered by"),
            (MM.addressedTo, "Letter addressed to"), (MM.confidence, "Confidence"))),
        "count": len(states),
        "states": _states_sentence(f, states),
        "bodies": f.values(bodies),
        "complete": complete is None or str(complete) in ("true", "1"),
        "roles": [Line(f.value(s), note="; ".join(r)) for s, r in
                  sorted(roles.items(), key=lambda kv: f.by_label(kv[0]))],
        "missions": mission_lines,
        "reports": report_lines,
        "findings": findings(f, refs, ours),
        "findings_count": len(ours),
        "others": findings(f, refs, others),
        "others_count": len(others),
        "claims": [_claim_line(f, refs, c, set(invokers)) for c in
                   sorted(claims, key=f.by_label)],
        "references": refs,
    }


def _facts(f: Facts, topic: Node, props: Iterable[tuple[URIRef, str]]) -> list[tuple[str,
                                                                                     list[Value]]]:
    """(words, values) for each property the resource has, in the given order."""
    out = []
    for prop, words in props:
        values = f.objects(topic, prop)
        if values:
            out.append((words, f.values(values)))
    return out


def _mission(f: Facts, refs: References, mission: Node) -> dict[str, Any]:
    return {"mission": f.value(mission),
            "kind": ", ".join(f.labels(t) for t in f.objects(mission, RDF.type)
                              if str(t).startswith(str(MM))),
            "experts": f.values(f.objects(mission, MM.expert)),
            "appointed": f.when(mission, MM.appointedOn),
            "refs": refs.sources_of(mission)}


def _report_line(f: Facts, refs: References, report: Node) -> dict[str, Any]:
    meetings = f.objects(report, MM.presentedAt)
    return {"report": f.value(report),
            "title": f.text(report, DCTERMS.title),
            "number": f.text(report, MM.reportNumber),
            "date": f.when(report, MM.date, MM.publishedOn, MM.deliveredOn, MM.submittedOn),
            "published": f.when(report, MM.publishedOn),
            "presented": [Line(f.value(m), f.when(m)) for m in meetings],
            "url": str(f.one(report, SCHEMA.url) or ""),
            "refs": refs.sources_of(report)}


def _claim_line(f: Facts, refs: References, claim: Node, accepted: set[Node]) -> dict[str, Any]:
    listed = set(f.objects(claim, MM.listsState))
    extra = sorted(listed - accepted, key=f.by_label)
    # Whom a source leaves out is worth saying only when its list claims to be complete.
    complete = str(f.one(claim, MM.invokingListComplete)) in ("true", "1")
    missing = sorted(accepted - listed, key=f.by_label) if listed and complete \
        else []
    count = f.one(claim, MM.statedCount)
    value = f.one(claim, MM.claimValue)
    return {"claim": f.value(claim),
            "property": f.labels(p) if (p := f.one(claim, MM.claimProperty)) is not None else "",
            "value": f.value(value) if value is not None else None,
            "count": str(count) if count is not None else "",
            "count_text": f.text(claim, MM.statedCountText),
            "listed": len(listed), "extra": f.values(extra),
            "missing": f.values(missing) if len(missing) < len(accepted) else [],
            "comment": f.text(claim, RDFS.comment),
            "confidence": _confidence(f, claim),
            "refs": refs.sources_of(claim)}


# --- report, mission ---------------------------------------------------------------------

def report(f: Facts, topic: URIRef) -> dict[str, Any]:
    allegations = f.subjects(MM.allegedIn, topic)
    missions = f.subjects(MM.report, topic)
    invocations = f.objects(topic, MM.answersInvocation)
    f.gather([*allegations, *missions, *invocations, *f.objects(topic, MM.presentedAt)])
    refs = References(f)
    line = _report_line(f, refs, topic)
    return {
        "comment": f.text(topic, RDFS.comment),
        "line": line,
        "invocations": [Line(f.value(i), f.when(i)) for i in invocations],
        "missions": [_mission(f, refs, m) for m in missions],
        "findings": findings(f, refs, allegations),
        "findings_count": len(allegations),
        "references": refs,
    }


def mission(f: Facts, topic: URIRef) -> dict[str, Any]:
    invocations = f.subjects(MM.mission, topic)
    reports = f.objects(topic, MM.report)
    f.gather([*invocations, *reports])
    refs = References(f)
    return {"comment": f.text(topic, RDFS.comment),
            "line": _mission(f, refs, topic),
            "invocations": [Line(f.value(i), f.when(i)) for i in invocations],
            "reports": [_report_line(f, refs, r) for r in reports],
            "references": refs}


# --- people --------------------------------------------------------------------------------

@dataclass
class Served:
    """A mission an expert served on, with the invocation that set it up."""

    mission: Value
    invocation: Value | None
    when: str
    sort: float
    reports: list[Value]


def person(f: Facts, topic: URIRef) -> dict[str, Any]:
    missions = f.subjects(MM.expert, topic)
    addressed = f.subjects(MM.addressedTo, topic)
    f.gather([*missions, *addressed])
    f.referrers(MM.mission, missions)
    invocations = {m: f.subjects(MM.mission, m) for m in missions}
    f.gather([i for found in invocations.values() for i in found])
    refs = References(f)
    lines = []
    for m in missions:
        reports = f.values(f.objects(m, MM.report))
        if not invocations[m]:
            lines.append(Served(f.value(m), None, "", 9999.0, reports))
        for i in invocations[m]:
            when = f.one(i, MM.date)
            lines.append(Served(f.value(m), f.value(i), f.when(i),
                                date_position(when) or 9999.0 if when is not None else 9999.0,
                                reports))
    lines.sort(key=lambda line: line.sort)
    alleged = f.subjects(MM.allegedBy, topic)
    return {"comment": f.text(topic, RDFS.comment),
            "facts": _facts(f, topic, ((MM.affiliation, "Affiliation"),
                                       (MM.confidence, "Confidence"))),
            "missions": lines,
            "addressed": [Line(f.value(i), f.when(i)) for i in
                          sorted(addressed, key=f.sort_key)],
            "alleged_count": len(alleged),
            "refs_top": refs.sources_of(topic),
            "references": refs}


# --- States --------------------------------------------------------------------------------

def state(f: Facts, topic: URIRef) -> dict[str, Any]:
    joined = f.subjects(MM.invokedBy, topic)
    concerned: dict[Node, list[str]] = defaultdict(list)
    uses = {i for prop, _ in STATE_ROLES for i in f.subjects(prop, topic)}
    f.gather(uses)  # to know which of them set up a mission
    for prop, role in STATE_ROLES:
        for invocation_ in f.subjects(prop, topic):
            concerned[invocation_].append(
                role if prop != MM.subjectState or f.objects(invocation_, MM.mission)
                else NO_MISSION_SUBJECT)
    for invocation_, found in concerned.items():
        if STATE_ROLES[0][1] in found:  # inviting implies the subject role: say it once
            concerned[invocation_] = [r for r in found if r != STATE_ROLES[1][1]]
    against = f.subjects(MM.allegedPerpetrator, topic)
    participations = f.subjects(MM.participant, topic)
    f.gather([*participations])
    names = _other_names(f, topic)
    refs = References(f)
    return {
        "comment": f.text(topic, RDFS.comment),
        "facts": _facts(f, topic, ((MM.iso3166Alpha2, "ISO 3166 code"),
                                   (MM.iso3166Alpha3, "ISO 3166 three-letter code"),
                                   (MM.confidence, "Confidence"))),
        "wikidata": [f.value(o) for p in (SKOS.exactMatch, SKOS.closeMatch)
                     for o in f.objects(topic, p) if str(o).startswith(str(WD))],
        "close": [f.value(o) for o in f.objects(topic, SKOS.closeMatch)
                  if str(o).startswith(str(WD))],
        "names": names,
        "participations": [Line(f.value(p), note=f.text(p, RDFS.comment),
                                refs=refs.sources_of(p)) for p in participations],
        "joined": [Line(f.value(i), f.when(i)) for i in sorted(joined, key=f.sort_key)],
        "concerned": [Line(f.value(i), f.when(i), "; ".join(r)) for i, r in
                      sorted(concerned.items(), key=lambda kv: f.sort_key(kv[0]))],
        "against_count": len(against),
        "references": refs,
    }


def _other_names(f: Facts, topic: Node) -> list[tuple[str, str]]:
    """(language, name) of every other name, the English label left out."""
    label = f.labels(topic)
    out = set()
    for prop in (SKOS.prefLabel, SKOS.altLabel, RDFS.label, SCHEMA.name):
        for name in f.graph.objects(topic, prop):
            text = str(name)
            if text != label:
                out.add((getattr(name, "language", None) or "", text))
    return sorted(out)


# --- concepts: categories, affected groups, frameworks -------------------------------------

def concept(f: Facts, topic: URIRef, prop: URIRef) -> dict[str, Any]:
    allegations = f.subjects(prop, topic)
    f.gather(allegations)
    refs = References(f)
    by_invocation: dict[Node | None, list[Node]] = defaultdict(list)
    for a in allegations:
        by_invocation[f.one(a, MM.relatedInvocation)].append(a)
    f.gather([i for i in by_invocation if i is not None])
    groups = []
    for inv, items in sorted(by_invocation.items(),
                             key=lambda kv: f.sort_key(kv[0]) if kv[0] is not None
                             else (9999.0, "", "")):
        heading = f.value(inv) if inv is not None else Value("No invocation recorded")
        group = Group(heading)
        for a in sorted(items, key=f.by_label):
            by = ", ".join(f.labels(x) for x in f.objects(a, MM.allegedBy)
                           if not f.is_a(x, MM.Expert))
            group.items.append(Finding(f.value(a), f.text(a, RDFS.comment),
                                       refs.sources_of(a), _confidence(f, a), by))
        groups.append(group)
    provisions = f.subjects(MM.supportsCategory, topic)
    return {"definition": f.text(topic, SKOS.definition, RDFS.comment),
            "comment": f.text(topic, RDFS.comment)
            if f.text(topic, SKOS.definition) else "",
            "related": [(words, f.values(f.objects(topic, p))) for p, words in (
                (SKOS.broader, "Broader"), (SKOS.narrower, "Narrower"),
                (SKOS.related, "Related"), (SKOS.inScheme, "In the vocabulary"))
                if f.objects(topic, p)],
            "matches": [(words, f.values(f.objects(topic, p))) for p, words in (
                (SKOS.exactMatch, "Same as"), (SKOS.closeMatch, "Close match"),
                (SKOS.narrowMatch, "Narrower match"), (SKOS.broadMatch, "Broader match"))
                if f.objects(topic, p)],
            "groups": groups,
            "count": len(allegations),
            "provisions": f.values(provisions),
            "references": refs}


def category(f: Facts, topic: URIRef) -> dict[str, Any]:
    return concept(f, topic, MM.category)


def group(f: Facts, topic: URIRef) -> dict[str, Any]:
    return concept(f, topic, MM.affectedGroup)


def framework(f: Facts, topic: URIRef) -> dict[str, Any]:
    return concept(f, topic, MM.legalFramework)


# --- sources, claims, allegations, corrections ---------------------------------------------

def source(f: Facts, topic: URIRef) -> dict[str, Any]:
    citing = f.subjects(PROV.wasDerivedFrom, topic)
    alleged_in = f.subjects(MM.allegedIn, topic)
    counts: dict[str, list[Value]] = defaultdict(list)
    for s in sorted({*citing, *alleged_in}, key=f.sort_key):
        kinds = [f.labels(t) for t in f.objects(s, RDF.type) if str(t).startswith(str(MM))]
        counts[kinds[0] if kinds else "Other"].append(f.value(s))
    url = f.one(topic, SCHEMA.url)
    return {"url": str(url) if url is not None else "",
            "facts": _facts(f, topic, (
                (DCTERMS.title, "Title"), (DCTERMS.publisher, "Publisher"),
                (MM.date, "Date"), (DCTERMS.date, "Date"), (DCTERMS.issued, "Issued"),
                (MM.sourceType, "Type of source"), (MM.mirrorOf, "Copy of"),
                (DCTERMS.language, "Language"), (DCTERMS.license, "Licence"),
                (DCTERMS.rights, "Rights"))),
            "comment": f.text(topic, RDFS.comment),
            "cited": sorted(counts.items()),
            "cited_count": sum(len(v) for v in counts.values()),
            "mirrors": f.values(f.subjects(MM.mirrorOf, topic))}


def claim(f: Facts, topic: URIRef) -> dict[str, Any]:
    about = f.one(topic, MM.claimAbout)
    if about is not None:
        f.gather([about])
    accepted = set(f.objects(about, MM.invokedBy)) if about is not None else set()
    refs = References(f)
    line = _claim_line(f, refs, topic, accepted)
    return {"about": f.value(about) if about is not None else None,
            "line": line,
            "listed_values": f.values(sorted(f.objects(topic, MM.listsState),
                                             key=lambda s: f.labels(s))),
            "references": refs}


def allegation(f: Facts, topic: URIRef) -> dict[str, Any]:
    refs = References(f)
    return {"sentence": f.text(topic, RDFS.comment),
            "refs_top": refs.sources_of(topic),
            "facts": _facts(f, topic, (
                (MM.category, "Category"), (MM.allegedIn, "Alleged in"),
                (MM.allegedBy, "Alleged by"), (MM.relatedInvocation, "Invocation"),
                (MM.allegedPerpetrator, "Alleged perpetrator"),
                (MM.affectedGroup, "Affected group"), (MM.territory, "Territory"),
                (MM.territoryNote, "Where"), (MM.periodStart, "From"),
                (MM.periodEnd, "Until"), (MM.legalFramework, "Legal framework"),
                (MM.confidence, "Confidence"))),
            "references": refs}


def correction(f: Facts, topic: URIRef) -> dict[str, Any]:
    refs = References(f)
    return {"comment": f.text(topic, RDFS.comment),
            "refs_top": refs.sources_of(topic),
            "facts": _facts(f, topic, ((DCTERMS.date, "Date"), (MM.inRelease, "Release"),
                                       (MM.correctionOf, "Corrected"))),
            "references": refs}


def generic(f: Facts, topic: URIRef) -> dict[str, Any]:
    """Any other kind: its description and its sources as references."""
    refs = References(f)
    return {"comment": f.text(topic, *DESCRIBING),
            "refs_top": refs.sources_of(topic),
            "references": refs}


SUMMARIES: dict[str, Callable[[Facts, URIRef], dict[str, Any]]] = {
    "invocation": invocation, "report": report, "mission": mission, "person": person,
    "state": state, "category": category, "group": group, "framework": framework,
    "source": source, "claim": claim, "allegation": allegation, "correction": correction,
}


# Kinds whose summaries share one template: the concepts of the three schemes.
TEMPLATES = {"category": "concept", "group": "concept", "framework": "concept"}


def summary(kind: str, f: Facts, topic: URIRef) -> tuple[str, dict[str, Any]]:
    """(template name, context) of the summary of one resource."""
    build = SUMMARIES.get(kind)
    if build is None:
        return "generic", generic(f, topic)
    return TEMPLATES.get(kind, kind), build(f, topic)
