"""Entity reconciliation against the graph (OpenRefine reconciliation API 0.2). No Flask here.

An index is built once from the graph: every label (rdfs:label, skos:prefLabel, skos:altLabel,
any language), the ISO 3166-1 codes of States, the initials of the States' English names
("USA", "UK"), and the dates of invocations. Queries are scored 0-100 against it.
`views.py` turns HTTP requests into calls of `Reconciler.reconcile`, `.suggest_*`, `.preview_rows`.
"""

from __future__ import annotations

import calendar
import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from ..kg.store import Backend, subclass_closure
from ..uris import BASE, MM, split_resource_iri

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
WD = "http://www.wikidata.org/entity/"

# Types offered in the manifest; queries may use any of our classes (see `types`).
DEFAULT_TYPES = ("State", "Invocation", "Expert", "Organisation", "OSCEBody", "Mechanism",
                 "Report", "Mission", "Meeting", "FoundingDocument", "Instrument", "Provision")
# Resources that only carry provenance or memberships: not things a spreadsheet names.
EXCLUDED_TYPES = {"Claim", "InvokingStatesClaim", "Participation"}
# Words left out of the initials of a name ("United States of America" -> "USA").
MINOR_WORDS = {"of", "the", "and", "for", "in", "on", "at", "to", "a", "an", "de"}
# Score at or above which a unique top hit is declared a match.
MATCH_THRESHOLD = 95
MATCH_MARGIN = 5
# Candidates below this score are noise (unrelated names share some letters).
MIN_SCORE = 40
# Normalised queries whose near entities are remembered.
NEAR_CACHE_SIZE = 4096


@dataclass(frozen=True)
class PropertyInfo:
    """A property a query may filter on: its id, label and how its values compare."""

    id: str
    name: str
    kind: str  # "code" (case-insensitive equality), "date", "entity" (by label or id), "qid"


PROPERTIES: dict[str, PropertyInfo] = {p.id: p for p in (
    PropertyInfo("iso3166Alpha2", "ISO 3166-1 alpha-2 code", "code"),
    PropertyInfo("iso3166Alpha3", "ISO 3166-1 alpha-3 code", "code"),
    PropertyInfo("date", "date", "date"),
    PropertyInfo("mechanism", "mechanism", "entity"),
    PropertyInfo("invokedBy", "invoked by", "entity"),
    PropertyInfo("subjectState", "subject State", "entity"),
    PropertyInfo("conductState", "State whose conduct is examined", "entity"),
    PropertyInfo("wikidata", "Wikidata item (skos:exactMatch)", "qid"),
)}
_PROPERTY_IRIS = {
    "iso3166Alpha2": str(MM.iso3166Alpha2), "iso3166Alpha3": str(MM.iso3166Alpha3),
    "date": str(MM.date), "mechanism": str(MM.mechanism), "invokedBy": str(MM.invokedBy),
    "subjectState": str(MM.subjectState), "conductState": str(MM.conductState),
    "wikidata": SKOS + "exactMatch",
}


# What one request may ask (413 beyond the batch or the body, 400 for the rest); the manifest
# states them under "limits". OpenRefine sends batches of 10 queries.
MAX_QUERIES = 50
MAX_BODY_BYTES = 1 << 20
MAX_TEXT = 1000  # characters of a query string or a property value
MAX_PROPERTIES = 20
MAX_JSON_DEPTH = 20  # a reconciliation request is 4 levels deep; Python's parser recurses


class Refused(ValueError):
    """A reconciliation request refused before any work, with its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def limits() -> dict[str, int]:
    """The limits, as the manifest states them."""
    return {"maxQueriesPerBatch": MAX_QUERIES, "maxBodyBytes": MAX_BODY_BYTES,
            "maxTextCharacters": MAX_TEXT, "maxPropertiesPerQuery": MAX_PROPERTIES}


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]')


def parse_json(raw: str, what: str) -> Any:
    """JSON whose nesting is checked first, in one pass (json.loads recurses: deeply nested
    junk would be a RecursionError, a 500)."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(raw):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                raise Refused(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
        elif token in "]}":
            depth -= 1
    try:
        return json.loads(raw)
    except ValueError as err:
        raise Refused(f"{what} is not valid JSON: {err}") from None


def checked_batch(queries: Any) -> dict[str, Mapping[str, Any]]:
    """A batch of reconciliation queries within the limits, or Refused naming the first
    problem (413 for too many queries, 400 for malformed ones)."""
    if not isinstance(queries, dict) or not all(isinstance(q, dict) for q in queries.values()):
        raise Refused("queries must be a JSON object of query objects")
    if len(queries) > MAX_QUERIES:
        raise Refused(f"{len(queries)} queries in one batch; this service answers at most "
                      f"{MAX_QUERIES} (see the manifest's limits)", 413)
    for key, query in queries.items():
        text = query.get("query", "")
        if not isinstance(text, str | int | float) or len(str(text)) > MAX_TEXT:
            raise Refused(f"query {key!r}: the query must be a string of at most {MAX_TEXT} "
                          "characters")
        properties = query.get("properties") or []
        if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
            raise Refused(f"query {key!r}: properties must be a list of at most "
                          f"{MAX_PROPERTIES}")
        for prop in properties:
            values = prop.get("v") if isinstance(prop, dict) else None
            for value in values if isinstance(values, list) else [values]:
                if len(json.dumps(value)) > MAX_TEXT:
                    raise Refused(f"query {key!r}: a property value is longer than "
                                  f"{MAX_TEXT} characters")
    return queries


# ---------------------------------------------------------------------------------------------
# Normalisation

_REORDER = re.compile(r"^(?P<head>[^,]+),\s*(?P<tail>[^,]+)$")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, drop "the", and put "Moldova, Republic of"
    in reading order ("republic of moldova"), so variants of a name compare equal."""
    text = unicodedata.normalize("NFKC", text).strip()
    match = _REORDER.match(text)
    if match:  # "Moldova, Republic of" -> "Republic of Moldova"
        text = f"{match['tail']} {match['head']}"
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = text.replace("ß", "ss").replace("ı", "i")
    words = re.findall(r"\w+", text)
    return " ".join(w for w in words if w != "the")


def initials(name: str) -> str | None:
    """The initials of the significant words of an English name, or None for one word."""
    words = [w for w in re.findall(r"[A-Za-z]+", name) if w.lower() not in MINOR_WORDS]
    if len(words) < 2:
        return None
    return "".join(w[0] for w in words).casefold()


def _grams(key: str) -> set[str]:
    """The trigrams of a key padded with a space at each end ("pol" -> " po", "pol", "ol ")."""
    padded = f" {key} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name})


@dataclass(frozen=True)
class PartialDate:
    """A date as precise as it was written: year, year-month or full date."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> int:
        return 1 + (self.month is not None) + (self.day is not None)

    def compatible(self, other: PartialDate) -> bool:
        """True where one date lies within the other (2025-07-24 lies within July 2025)."""
        return all(a is None or b is None or a == b for a, b in (
            (self.year, other.year), (self.month, other.month), (self.day, other.day)))


def parse_date(text: str) -> PartialDate | None:
    """A date in the forms a spreadsheet holds: 2025-07-24, 2025-07, 2025, 24 July 2025,
    July 24, 2025, July 2025, 24/07/2025, 24.07.2025. None when it is not a date."""
    t = text.strip().casefold().replace(",", " ")
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)
    t = re.sub(r"\s+", " ", t)
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", t):
        _, month, day = (int(p) if p else None for p in m.groups())
        return _checked(int(m[1]), month, day)
    if m := re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", t):
        return _checked(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2}) ([a-z]+)\.? (\d{4})", t):
        month = _MONTHS.get(m[2])
        return _checked(int(m[3]), month, int(m[1])) if month else None
    if m := re.fullmatch(r"([a-z]+)\.? (\d{1,2}) (\d{4})", t):
        month = _MONTHS.get(m[1])
        return _checked(int(m[3]), month, int(m[2])) if month else None
    if m := re.fullmatch(r"([a-z]+)\.? (\d{4})", t):
        month = _MONTHS.get(m[1])
        return _checked(int(m[2]), month) if month else None
    return None


def _checked(year: int, month: int | None = None, day: int | None = None) -> PartialDate | None:
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return PartialDate(year, month, day)


def date_score(query: PartialDate, value: PartialDate) -> int:
    """100 for the same date at the same precision; less where one lies within the other."""
    if not query.compatible(value):
        return 0
    if query.precision == value.precision:
        return 100
    if query.precision < value.precision:
        # "July 2025" for an invocation of 24 July 2025: true, only coarser. A month names an
        # event well enough to match when it is the only one; a year does not.
        return 95 if query.precision == 2 else 85
    # The query is more precise than what we hold (a day in a month we hold): plausible only.
    return 80 if value.precision == 2 else 70


# ---------------------------------------------------------------------------------------------
# The index


@dataclass
class Entity:
    """One reconcilable resource."""

    iri: str
    id: str  # the path after <base>id/, e.g. "state/pl"
    name: str
    types: list[str]  # most specific first
    description: str = ""
    keys: dict[str, int] = field(default_factory=dict)  # normalised key -> score on exact hit
    labels: set[str] = field(default_factory=set)  # every label as written
    values: dict[str, set[str]] = field(default_factory=dict)  # property id -> raw values
    dates: list[PartialDate] = field(default_factory=list)


@dataclass
class Candidate:
    entity: Entity
    score: float


class Reconciler:
    """The reconciliation index of one graph, built once."""

    def __init__(self, graph: Backend, base: str = BASE) -> None:
        self.base = base
        self.type_names: dict[str, str] = {}
        self.super_types: dict[str, set[str]] = {}
        self.entities: dict[str, Entity] = {}
        self._names_by_iri: dict[str, str] = {}
        self._build(graph)
        self._index_names()

    # -- building --------------------------------------------------------------------------

    def _build(self, graph: Backend) -> None:
        mm = str(MM)
        # The class hierarchy is followed here, not with rdfs:subClassOf* in the query: a
        # path with both ends open is refused by Virtuoso 7 ("transitive derived table but
        # neither end of it is bound").
        for cls, supers in subclass_closure(graph).items():
            if cls.startswith(mm):
                self.super_types[cls[len(mm):]] = {cls[len(mm):]} | {
                    sup[len(mm):] for sup in supers if sup.startswith(mm)}
        for row in graph.select(f"""
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            SELECT ?c ?label WHERE {{
              ?c rdfs:label ?label .
              FILTER(STRSTARTS(STR(?c), "{mm}") && LANGMATCHES(LANG(?label), "en"))
            }} ORDER BY ?c ?label"""):
            self.type_names.setdefault(str(row["c"])[len(mm):], str(row["label"]))
        rows = graph.select(f"""
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            PREFIX skos: <{SKOS}>
            SELECT ?s ?c ?p ?label WHERE {{
              ?s a ?c . FILTER(STRSTARTS(STR(?c), "{mm}"))
              VALUES ?p {{ rdfs:label skos:prefLabel skos:altLabel }}
              ?s ?p ?label . FILTER(ISLITERAL(?label))
            }}""")
        for row in rows:
            iri = str(row["s"])
            split = split_resource_iri(iri, self.base)
            cls = str(row["c"])[len(mm):]
            if split is None or cls in EXCLUDED_TYPES:
                continue
            entity = self.entities.get(iri)
            if entity is None:
                entity = self.entities[iri] = Entity(iri, f"{split[0]}/{split[1]}", "", [])
            if cls not in entity.types:
                entity.types.append(cls)
            label = row["label"]
            text = str(label)
            entity.labels.add(text)
            preferred = str(row["p"]) in (RDFS_LABEL, SKOS + "prefLabel")
            if preferred and getattr(label, "language", None) in ("en", None) and (
                    not entity.name or str(row["p"]) == SKOS + "prefLabel"):
                entity.name = text
            entity.keys[normalise(text)] = 100
        # Entities typed only with excluded classes elsewhere may still be ours: drop them.
        for iri in [i for i, e in self.entities.items() if set(e.types) & EXCLUDED_TYPES]:
            del self.entities[iri]
        for entity in self.entities.values():
            entity.types.sort(key=lambda t: -len(self.super_types.get(t, {t})))
            entity.name = entity.name or min(entity.labels)
            self._names_by_iri[entity.iri] = entity.name
        self._add_values(graph)
        self._add_codes_and_initials()
        self._add_descriptions()

    def _add_values(self, graph: Backend) -> None:
        """Property values used by filters: ISO codes, dates, mechanism, States, QIDs."""
        values = " ".join(f"<{iri}>" for iri in _PROPERTY_IRIS.values())
        by_iri = {iri: pid for pid, iri in _PROPERTY_IRIS.items()}
        for row in graph.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?o }}"):
            entity = self.entities.get(str(row["s"]))
            if entity is None:
                continue
            pid = by_iri[str(row["p"])]
            entity.values.setdefault(pid, set()).add(str(row["o"]))
            if pid == "date":
                parsed = parse_date(str(row["o"]))
                if parsed:
                    entity.dates.append(parsed)

    def _add_codes_and_initials(self) -> None:
        for entity in self.entities.values():
            if not self.is_a(entity, "State"):
                continue
            for pid in ("iso3166Alpha2", "iso3166Alpha3"):
                for code in entity.values.get(pid, ()):
                    entity.keys[normalise(code)] = 100
            english = [lab for lab in entity.labels if lab.isascii()] + [entity.name]
            for label in english:
                acronym = initials(label)
                # An acronym is weaker than a name: it must not outrank an ISO code or label.
                if acronym and entity.keys.get(acronym, 0) < 98:
                    entity.keys[acronym] = 98

    def _add_descriptions(self) -> None:
        for entity in self.entities.values():
            parts = [self.type_names.get(entity.types[0], entity.types[0])]
            if entity.values.get("date"):
                parts.append(min(entity.values["date"]))
            items = entity.values.get("wikidata", ())
            qids = sorted(v[len(WD):] for v in items if v.startswith(WD))
            if qids:
                parts.append("Wikidata " + ", ".join(qids))
            entity.description = "; ".join(parts)

    # -- helpers ---------------------------------------------------------------------------

    def is_a(self, entity: Entity, type_id: str) -> bool:
        return any(type_id in self.super_types.get(t, {t}) for t in entity.types)

    def type_refs(self, entity: Entity) -> list[dict[str, str]]:
        """The entity's classes and their super-classes of ours, most specific first."""
        ordered: list[str] = []
        for t in entity.types:
            supers = sorted(self.super_types.get(t, {t}),
                            key=lambda s: -len(self.super_types.get(s, {s})))
            ordered.extend(s for s in supers if s not in ordered)
        return [{"id": t, "name": self.type_names.get(t, t)} for t in ordered]

    def entity_by_id(self, entity_id: str) -> Entity | None:
        """An entity by its reconciliation id ("state/pl") or its full IRI."""
        iri = entity_id if entity_id.startswith(self.base) else f"{self.base}id/{entity_id}"
        return self.entities.get(iri)

    # -- reconciliation --------------------------------------------------------------------

    # -- the name index ----------------------------------------------------------------------

    def _index_names(self) -> None:
        """Which entities a fuzzy name could be near, built once: each fuzzy key's padded
        trigrams, and its first one and two letters (a short query names a prefix)."""
        self._by_gram: dict[str, set[str]] = {}
        for entity in self.entities.values():
            for key in entity.keys:
                if len(key) <= 3:  # codes and initials: exact only
                    continue
                for gram in _grams(key) | {key[:1], key[:2]}:
                    self._by_gram.setdefault(gram, set()).add(entity.iri)
        self._near_cache: dict[str, frozenset[str]] = {}

    def _near(self, key: str) -> frozenset[str]:
        """The entities sharing a third of a normalised query's trigrams (or its prefix): the
        only ones worth a fuzzy comparison (names sharing fewer score below MIN_SCORE but for
        rare coincidences). Remembered for the last few thousand queries."""
        found = self._near_cache.get(key)
        if found is None:
            grams = _grams(key) if len(key) > 2 else {key}
            shared = Counter(iri for g in grams for iri in self._by_gram.get(g, ()))
            enough = max(1, (len(grams) + 2) // 3)
            found = frozenset(iri for iri, n in shared.items() if n >= enough)
            if len(self._near_cache) >= NEAR_CACHE_SIZE:
                self._near_cache.pop(next(iter(self._near_cache)))
            self._near_cache[key] = found
        return found

    def name_score(self, entity: Entity, query: str) -> float:
        """0-100: exact normalised key, else a fuzzy similarity kept below the match threshold
        (0 for an entity whose names share no trigram with the query: not a near name)."""
        key = normalise(query)
        if not key:
            return 0.0
        if key in entity.keys:
            return float(entity.keys[key])
        if entity.iri not in self._near(key):
            return 0.0
        best = 0.0
        for candidate in entity.keys:
            if len(candidate) <= 3:  # codes and initials: exact only
                continue
            floor = 0.75 if candidate.startswith(key) or key in candidate.split() else 0.0
            matcher = SequenceMatcher(None, key, candidate)
            # quick_ratio() bounds ratio() from above: skip what cannot beat the best so far.
            if max(matcher.quick_ratio(), floor) <= best:
                continue
            best = max(best, matcher.ratio(), floor)
        return round(best * 90, 1)

    def property_score(self, entity: Entity, pid: str, value: Any) -> float:
        """0-100: how well one property value of the query agrees with the entity."""
        info = PROPERTIES.get(pid)
        raw = entity.values.get(pid, set())
        if isinstance(value, Mapping):  # {"id": ..., "name": ...} from a reconciled column
            value = value.get("id") or value.get("name") or ""
        text = str(value).strip()
        if info is None or not raw or not text:
            return 0.0
        if info.kind == "code":
            return 100.0 if text.casefold() in {r.casefold() for r in raw} else 0.0
        if info.kind == "qid":
            qid = text.rsplit("/", 1)[-1].upper()
            return 100.0 if WD + qid in raw else 0.0
        if info.kind == "date":
            wanted = parse_date(text)
            return max((date_score(wanted, d) for d in entity.dates), default=0) if wanted else 0
        # An entity-valued property: the value names the object by id or by any label.
        best = 0.0
        for iri in raw:
            target = self.entities.get(iri)
            if target is None:
                continue
            if text in (target.id, target.iri, target.id.split("/")[-1]):
                return 100.0
            best = max(best, self.name_score(target, text))
        return best

    def candidates(self, query: Mapping[str, Any]) -> list[Candidate]:
        """Every entity with a positive score for one reconciliation query, best first."""
        text = str(query.get("query") or "").strip()
        types = query.get("type")
        wanted = [types] if isinstance(types, str) else list(types or [])
        props = [p for p in query.get("properties") or [] if isinstance(p, Mapping)]
        date = parse_date(text) if text else None
        if date and not wanted:
            # A bare date in a column is, in this graph, the date of an invocation.
            wanted = ["Invocation"]
        results = []
        for entity in self.entities.values():
            if wanted and not any(self.is_a(entity, t) for t in wanted):
                continue
            scores = []
            if text:
                score = self.name_score(entity, text)
                if date and entity.dates:
                    score = max(score, max(date_score(date, d) for d in entity.dates))
                scores.append(score)
            for prop in props:
                pid = str(prop.get("pid", ""))
                values = prop.get("v")
                values = values if isinstance(values, list) else [values]
                scores.append(max((self.property_score(entity, pid, v) for v in values),
                                  default=0.0))
            if not scores:
                continue
            total = sum(scores) / len(scores)
            if total >= MIN_SCORE:
                results.append(Candidate(entity, round(total, 1)))
        results.sort(key=lambda c: (-c.score, c.entity.name))
        return results

    def reconcile(self, query: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """The answer to one query: {"result": [...]} with `match` only on a clear, unique hit."""
        try:
            limit = int(query.get("limit") or 10)
        except (TypeError, ValueError):
            limit = 10
        found = self.candidates(query)
        clear = bool(found) and found[0].score >= MATCH_THRESHOLD and (
            len(found) == 1 or found[1].score <= found[0].score - MATCH_MARGIN)
        return {"result": [
            {"id": c.entity.id, "name": c.entity.name, "description": c.entity.description,
             "type": self.type_refs(c.entity), "score": c.score, "match": clear and i == 0}
            for i, c in enumerate(found[:max(limit, 1)])
        ]}

    def reconcile_batch(self, queries: Mapping[str, Any]) -> dict[str, Any]:
        return {key: self.reconcile(q if isinstance(q, Mapping) else {"query": str(q)})
                for key, q in queries.items()}

    # -- suggest and preview ---------------------------------------------------------------

    def suggest_entities(self, prefix: str, type_id: str | None = None,
                         limit: int = 10) -> list[dict[str, Any]]:
        """Entities whose label starts with (or has a word starting with) the prefix."""
        key = normalise(prefix)
        if not key:
            return []
        hits: list[tuple[int, int, str, Entity]] = []
        for entity in self.entities.values():
            if type_id and not self.is_a(entity, type_id):
                continue
            rank = min((0 if k.startswith(key) else 1 if f" {key}" in f" {k}" else 9)
                       for k in entity.keys)
            if rank < 9:
                hits.append((rank, len(entity.name), entity.name, entity))
        hits.sort(key=lambda h: h[:3])  # whole-name prefixes first, then shorter names
        return [{"id": e.id, "name": e.name, "description": e.description,
                 "notable": self.type_refs(e)} for *_, e in hits[:limit]]

    def types(self) -> list[dict[str, str]]:
        """Every class that has reconcilable instances, with its English label."""
        used = {t for e in self.entities.values() for t in e.types}
        used |= {s for t in used for s in self.super_types.get(t, ())}
        return sorted(({"id": t, "name": self.type_names.get(t, t)} for t in used),
                      key=lambda r: r["id"])

    def suggest_types(self, prefix: str) -> list[dict[str, str]]:
        key = normalise(prefix)
        return [t for t in self.types()
                if not key or normalise(t["id"]).startswith(key)
                or any(w.startswith(key) for w in normalise(t["name"]).split())]

    def suggest_properties(self, prefix: str) -> list[dict[str, str]]:
        key = normalise(prefix)
        return [{"id": p.id, "name": p.name} for p in PROPERTIES.values()
                if not key or normalise(p.id).startswith(key)
                or any(w.startswith(key) for w in normalise(p.name).split())]

    def preview_rows(self, entity: Entity) -> list[tuple[str, str]]:
        """(property name, value) for the preview card: codes, dates and Wikidata items."""
        rows = []
        for pid in ("iso3166Alpha2", "iso3166Alpha3", "date", "wikidata"):
            for value in sorted(entity.values.get(pid, ())):
                shown = value[len(WD):] if value.startswith(WD) else value
                rows.append((PROPERTIES[pid].name, shown))
        return rows
