"""The kinds of resource as people meet them: a name for one and for many, and the index page
that lists them (the site header links the main ones)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str  # the {kind} of <base>id/{kind}/{local}
    one: str
    many: str
    index: str = ""  # path of the index page listing them ("" when none)


KINDS: tuple[Kind, ...] = (
    Kind("invocation", "Invocation", "Invocations", "/invocations"),
    Kind("report", "Report", "Reports", "/reports"),
    Kind("state", "State", "States", "/states"),
    Kind("person", "Person", "Experts and people", "/experts"),
    Kind("category", "Violation category", "Violation categories", "/categories"),
    Kind("allegation", "Alleged violation", "Alleged violations"),
    Kind("source", "Source", "Sources", "/sources"),
    Kind("mission", "Mission", "Missions"),
    Kind("group", "Affected group", "Affected groups", "/categories#groups"),
    Kind("org", "Organisation", "Organisations"),
    Kind("mechanism", "Mechanism", "Mechanisms"),
    Kind("document", "Founding document", "Founding documents"),
    Kind("meeting", "Meeting", "Meetings"),
    Kind("claim", "What a source claims", "What the sources claim"),
    Kind("correction", "Correction", "Corrections", "/corrections"),
    Kind("framework", "Legal framework", "Legal frameworks", "/categories#frameworks"),
    Kind("instrument", "Legal instrument", "Legal instruments"),
    Kind("provision", "Legal provision", "Legal provisions"),
    Kind("procedure", "Procedure", "Procedures"),
    Kind("confidence", "Confidence", "Confidence levels"),
    Kind("source-type", "Type of source", "Types of source"),
    Kind("scheme", "Vocabulary", "Vocabularies"),
    Kind("participation", "Participation in the OSCE", "Participations in the OSCE"),
)
BY_KEY = {k.key: k for k in KINDS}
ORDER = {k.key: n for n, k in enumerate(KINDS)}


def kind_of(key: str) -> Kind:
    return BY_KEY.get(key) or Kind(key, key.capitalize(), key.capitalize() + "s")


# The index pages in the site header, in order (path, words).
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("/invocations", "Invocations"),
    ("/states", "States"),
    ("/reports", "Reports"),
    ("/experts", "Experts"),
    ("/categories", "Violations"),
    ("/sources", "Sources"),
    ("/sparql", "Query"),
    ("/wikidata", "Wikidata tools"),
)
# The index pages (linkeddata/site_views.py serves them; a publication writes them).
INDEX_PAGES: tuple[str, ...] = ("invocations", "reports", "experts", "states", "categories",
                                "sources")
# What only the app answers: a page written for a static host links to these only when
# --public-url names an app (RULINGS, static hosts).
APP_ONLY: frozenset[str] = frozenset({"/sparql", "/wikidata", "/search", "/reconcile"})
