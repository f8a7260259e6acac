"""The data extension service of the reconciliation API 0.2 (OpenRefine's "add columns from
reconciled values"): property proposals per type, and the values of chosen properties for a
batch of reconciled ids. Built once over the reconciliation index; no Flask here.

https://reconciliation-api.github.io/specs/0.2/#data-extension-service
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .reconcile import WD, Entity, Reconciler

# Most ids and properties one extension query may name (OpenRefine sends 10 ids at a time);
# past them the request is refused (413), never cut silently.
MAX_IDS = 1000
MAX_PROPERTIES = 50
DEFAULT_PROPOSALS = 20


class ExtensionError(ValueError):
    """A data extension query that cannot be answered, with its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Column:
    """A property a client may add as a column: its id, name, and how values are written."""

    id: str
    name: str
    kind: str  # "str": as written in the data; "qid": a Wikidata item; "entity": ours
    value_type: str = ""  # for "entity": the type of the values (our class)


# Values are given as the data states them: a date keeps its precision ("2021" stays a year;
# no day is made up), an item is its QID. The invocations of a State are found the other way
# round, from each invocation's mm:invokedBy / mm:subjectState / mm:conductState.
COLUMNS: tuple[Column, ...] = (
    Column("wikidata", "Wikidata item (QID, skos:exactMatch)", "qid"),
    Column("iso3166Alpha2", "ISO 3166-1 alpha-2 code", "str"),
    Column("iso3166Alpha3", "ISO 3166-1 alpha-3 code", "str"),
    Column("date", "date (as precise as the sources)", "str"),
    Column("invoked", "invocations it joined (as an invoking party)", "entity", "Invocation"),
    Column("concernedBy", "invocations concerning it (subject or conduct examined)", "entity",
           "Invocation"),
    Column("invokedBy", "invoked by", "entity", "State"),
    Column("subjectState", "subject State", "entity", "State"),
    Column("conductState", "State whose conduct is examined", "entity", "State"),
    Column("mechanism", "mechanism", "entity", "Mechanism"),
    Column("iri", "identifier (IRI)", "str"),
)
COLUMNS_BY_ID = {c.id: c for c in COLUMNS}
# The inverse columns and the properties of invocations they are read from.
_INVERSE = {"invoked": ("invokedBy",), "concernedBy": ("subjectState", "conductState")}


class Extender:
    """Property proposals and extension answers over one reconciliation index."""

    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler
        self.inverse: dict[str, dict[str, list[str]]] = {name: {} for name in _INVERSE}
        for entity in reconciler.entities.values():
            for name, properties in _INVERSE.items():
                for pid in properties:
                    for target in entity.values.get(pid, ()):
                        found = self.inverse[name].setdefault(target, [])
                        if entity.iri not in found:
                            found.append(entity.iri)
        # Which columns have a value for at least one entity of each type (super-types too).
        self.columns_of_type: dict[str, list[str]] = {}
        for entity in reconciler.entities.values():
            held = [c.id for c in COLUMNS if self._raw(entity, c)]
            for ref in reconciler.type_refs(entity):
                known = self.columns_of_type.setdefault(ref["id"], [])
                known.extend(c for c in held if c not in known)

    def _raw(self, entity: Entity, column: Column) -> list[str]:
        """The column's raw values for one entity: IRIs, QID IRIs or literals, sorted."""
        if column.id == "iri":
            return [entity.iri]
        if column.id in _INVERSE:
            return sorted(self.inverse[column.id].get(entity.iri, []))
        return sorted(entity.values.get(column.id, ()))

    def propose(self, type_id: str | None, limit: int | None) -> dict[str, Any]:
        """The properties worth fetching for entities of a type (all of them without one)."""
        if type_id:
            ids = [c for c in (x.id for x in COLUMNS) if c in self.columns_of_type.get(type_id, [])]
        else:
            ids = [c.id for c in COLUMNS]
        count = DEFAULT_PROPOSALS if limit is None else max(limit, 0)
        answer: dict[str, Any] = {
            "properties": [{"id": c, "name": COLUMNS_BY_ID[c].name} for c in ids[:count]]}
        if type_id:
            answer["type"] = type_id
        if limit is not None:
            answer["limit"] = limit
        return answer

    def extend(self, query: Any) -> dict[str, Any]:
        """The answer to one data extension query: `meta` (the columns asked for) and `rows`
        (for each id, for each column, its values; [] where there is none)."""
        ids, columns = self._read(query)
        meta = []
        for column in columns:
            entry: dict[str, Any] = {"id": column.id, "name": column.name}
            if column.value_type:
                entry["type"] = {"id": column.value_type,
                                 "name": self.reconciler.type_names.get(column.value_type,
                                                                        column.value_type)}
            meta.append(entry)
        rows: dict[str, dict[str, list[dict[str, str]]]] = {}
        for entity_id in ids:
            entity = self.reconciler.entity_by_id(entity_id)
            rows[entity_id] = {c.id: self._values(entity, c) if entity else [] for c in columns}
        return {"meta": meta, "rows": rows}

    def _values(self, entity: Entity, column: Column) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for raw in self._raw(entity, column):
            if column.kind == "qid":
                if raw.startswith(WD):
                    out.append({"str": raw[len(WD):]})
            elif column.kind == "entity":
                target = self.reconciler.entities.get(raw)
                if target is not None:
                    out.append({"id": target.id, "name": target.name})
                else:  # a resource the index leaves out (no label): its IRI as text
                    out.append({"str": raw})
            else:
                out.append({"str": raw})
        return out

    @staticmethod
    def _read(query: Any) -> tuple[list[str], list[Column]]:
        """The ids and columns of a query, or an ExtensionError saying what is wrong."""
        if not isinstance(query, Mapping):
            raise ExtensionError("extend must be a JSON object with \"ids\" and \"properties\"")
        ids, properties = query.get("ids"), query.get("properties")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ExtensionError("extend.ids must be a list of entity ids (strings)")
        if not isinstance(properties, list) or not all(
                isinstance(p, Mapping) and isinstance(p.get("id"), str) for p in properties):
            raise ExtensionError("extend.properties must be a list of objects with an \"id\"")
        if len(ids) > MAX_IDS or len(properties) > MAX_PROPERTIES:
            raise ExtensionError(f"at most {MAX_IDS} ids and {MAX_PROPERTIES} properties per "
                                 "query; send several queries", 413)
        unknown = [p["id"] for p in properties if p["id"] not in COLUMNS_BY_ID]
        if unknown:
            raise ExtensionError(f"unknown properties: {', '.join(unknown[:10])}; offered: "
                                 + ", ".join(COLUMNS_BY_ID))
        return list(dict.fromkeys(ids)), [COLUMNS_BY_ID[p["id"]] for p in properties]
