"""Result writers: SELECT/ASK in the four SPARQL results formats and CONSTRUCT/DESCRIBE
triples, each cut at the row cap with the cut signalled. Shared by the embedded workers and
the remote backend, so both answer byte for byte alike. No Flask here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ..formats import RESULTS_BY_KEY
from .errors import EngineFault

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

_OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
}


@dataclass
class Answer:
    """A serialized answer: the bytes, their media type and whether rows were cut."""

    body: bytes
    media_type: str
    truncated: bool = False
    count: int = 0


def term_json(term: Any) -> dict[str, str]:
    # https://www.w3.org/TR/sparql11-results-json/#select-encode-terms
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise EngineFault(f"cannot serialize term {term!r}")


def _term_xml(term: Any) -> str:
    # https://www.w3.org/TR/rdf-sparql-XMLres/#results
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{escape(term.value)}</literal>"
    raise EngineFault(f"cannot serialize term {term!r}")


def _term_csv(term: Any) -> str:
    # https://www.w3.org/TR/sparql11-results-csv-tsv/#csv-terms: plain values, bnodes as _:x
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term.value)


def write_solutions(variables: list[str], rows: Iterable[Any], fmt: str,
                    max_results: int) -> Answer:
    """SELECT results in one of formats.RESULTS_FORMATS (by key), cut after `max_results` rows.

    pyoxigraph serializes only a whole QuerySolutions, so capped output is written here,
    following each format's W3C recommendation.
    """
    kept: list[list[Any]] = []
    truncated = False
    for row in rows:
        if len(kept) >= max_results:
            truncated = True
            break
        kept.append([row[v] for v in variables])
    media_type = RESULTS_BY_KEY[fmt].media_type
    if fmt == "json":
        bindings = [{v: term_json(t) for v, t in zip(variables, r, strict=True) if t is not None}
                    for r in kept]
        body = json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode()
    elif fmt == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
               "<head>"]
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for r in kept:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>"
                    for v, t in zip(variables, r, strict=True) if t is not None]
            out.append("</result>")
        out.append("</results></sparql>\n")
        body = "".join(out).encode()
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_term_csv(t) for t in r] for r in kept)
        body = buffer.getvalue().encode()
        media_type += "; charset=utf-8"
    elif fmt == "tsv":
        # https://www.w3.org/TR/sparql11-results-csv-tsv/#tsv: terms in their Turtle form
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in r) for r in kept]
        body = ("\n".join(lines) + "\n").encode()
        media_type += "; charset=utf-8"
    else:
        raise ValueError(f"unknown results format {fmt!r}")
    return Answer(body, media_type, truncated, len(kept))


# The W3C CSV/TSV results formats define no boolean form; Apache Jena writes and reads an
# ASK answer as a one-column table named _askResult, and rejects a bare "true".
ASK_COLUMN = "_askResult"


def write_boolean(value: bool, fmt: str) -> Answer:
    """ASK result: JSON and XML as the W3C formats say (serialized by pyoxigraph), CSV and TSV
    in Jena's `_askResult` form."""
    media_type = RESULTS_BY_KEY[fmt].media_type
    word = "true" if value else "false"
    if fmt == "csv":
        return Answer(f"{ASK_COLUMN}\r\n{word}\r\n".encode(), media_type + "; charset=utf-8",
                      False, 1)
    if fmt == "tsv":
        return Answer(f"?{ASK_COLUMN}\n{word}\n".encode(), media_type + "; charset=utf-8",
                      False, 1)
    result = ox.Store().query("ASK { FILTER(true) }" if value else "ASK { FILTER(false) }")
    if not isinstance(result, ox.QueryBoolean):
        raise EngineFault(f"ASK gave {type(result).__name__}")
    return Answer(result.serialize(format=_OX_RESULTS[fmt]) or b"", media_type, False, 1)


def write_triples(triples: Iterable[Any], media_type: str, max_results: int,
                  prefixes: dict[str, str] | None = None) -> Answer:
    """CONSTRUCT/DESCRIBE triples cut after `max_results`, serialized by pyoxigraph.

    `media_type` must be one pyoxigraph writes (RdfFormat.from_media_type); the endpoint asks
    for N-Triples and converts with rdflib for any other format of the registry.
    """
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph does not write {media_type}")
    kept: list[Any] = []
    truncated = False
    for triple in triples:
        if len(kept) >= max_results:
            truncated = True
            break
        kept.append(triple)
    use_prefixes = prefixes if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    body = ox.serialize(kept, format=fmt, prefixes=use_prefixes)
    return Answer(body or b"", fmt.media_type, truncated, len(kept))


class _OverBudget(Exception):
    pass


class _BoundedBuffer:
    """A binary sink for pyoxigraph's serializers that gives up past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _OverBudget
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def serialize_capped(result: Any, fmt: str, max_results: int) -> Answer | None:
    """SELECT results written by pyoxigraph (fast), then cut to `max_results` rows on the
    bytes; None when the answer is too large to buffer (the caller streams it instead)."""
    buffer = _BoundedBuffer(1_000_000 + 1_000 * max_results)
    try:
        result.serialize(buffer, _OX_RESULTS[fmt])
    except _OverBudget:
        return None
    body = b"".join(buffer.parts)
    media_type = RESULTS_BY_KEY[fmt].media_type
    if fmt == "json":
        doc = json.loads(body)
        rows = doc["results"]["bindings"]
        count = len(rows)
        if count > max_results:
            doc["results"]["bindings"] = rows[:max_results]
            body = json.dumps(doc, ensure_ascii=False).encode()
    elif fmt == "xml":
        # Values are escaped, so "<result>" only ever opens a row.
        count = body.count(b"<result>")
        if count > max_results:
            end = 0
            for _ in range(max_results):
                end = body.index(b"</result>", end) + len(b"</result>")
            body = body[:end] + b"</results></sparql>"
    elif fmt == "tsv":
        # TSV escapes line breaks inside terms: one line per row after the header.
        lines = body.split(b"\n")
        count = len(lines) - 2
        if count > max_results:
            body = b"\n".join(lines[:max_results + 1]) + b"\n"
        media_type += "; charset=utf-8"
    else:
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        count = len(rows) - 1
        if count > max_results:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(rows[:max_results + 1])
            body = out.getvalue().encode()
        media_type += "; charset=utf-8"
    return Answer(body, media_type, count > max_results, min(count, max_results))
