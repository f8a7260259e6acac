"""What the endpoint reads from a query's text itself, beside the parsers: the order of the
variables of `SELECT *` (Oxigraph sorts them; people expect the order they wrote), prefixes
used but not declared, and syntax errors told as a sentence with line and column instead of
a parser's list of character ranges. No Flask here."""

from __future__ import annotations

import re

from ..uris import PREFIXES
from .errors import QuerySyntaxError

# Characters an IRI between < and > may not hold (SPARQL 1.1, IRIREF): a "<" followed by any
# of them is the less-than operator, not an IRI.
_NOT_IN_IRI = frozenset('<"{}|^`\\') | frozenset(chr(c) for c in range(0x21))
_VARIABLE = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFD]+)")
_SELECT_STAR = re.compile(r"\bSELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?\*", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
_PREFIX_DECLARATION = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
_NEAR = 30
# The prologue (BASE and PREFIX declarations, their IRIs blanked out), then the first word:
# the query's form.
_FORM_START = re.compile(r"(?:\s++|BASE\b|PREFIX\s*+[^\s:]*+:)*+([^\s{(]*+)", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)$", re.IGNORECASE)


def blank_out(text: str) -> str:
    """The text with comments, strings and IRIs replaced by spaces (line breaks and offsets
    kept), in one pass: its cost is linear in the text, whatever the text holds."""
    out = list(text)
    n, i = len(text), 0

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c in "\"'":
            long = text.startswith(c * 3, i)
            quote = c * 3 if long else c
            k = i + len(quote)
            while k < n and not text.startswith(quote, k) and (long or text[k] != "\n"):
                k += 2 if text[k] == "\\" else 1
            end = min(n, k + len(quote)) if k < n and text.startswith(quote, k) else k
            blank(i, end)
            i = end
        elif c == "<":
            k = i + 1
            while k < n and text[k] not in _NOT_IN_IRI and text[k] != ">":
                k += 1
            if k < n and text[k] == ">":
                blank(i, k + 1)
                i = k + 1
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def select_star_order(text: str) -> tuple[str, ...] | None:
    """For a query whose outermost projection is `SELECT *`, its variables in the order they
    first appear after it; None for any other query."""
    clean = blank_out(text)
    first = _SELECT.search(clean)
    star = _SELECT_STAR.match(clean, first.start()) if first else None
    if star is None:
        return None
    seen: dict[str, None] = {}
    for match in _VARIABLE.finditer(clean, star.end()):
        seen.setdefault(match.group(1), None)
    return tuple(seen)


def written_order(text: str, variables: list[str]) -> list[str]:
    """An engine's result variables in the order the query wrote them (for SELECT *)."""
    return in_written_order(variables, select_star_order(text))


def in_written_order(variables: list[str], order: tuple[str, ...] | None) -> list[str]:
    """`variables` (as an engine lists them) in `order`; any not in it keep their place at
    the end."""
    if not order:
        return variables
    rank = {name: n for n, name in enumerate(order)}
    return sorted(variables, key=lambda v: (rank.get(v, len(rank)), variables.index(v)))


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def undeclared_prefix(text: str) -> tuple[str, int, int] | None:
    """The first prefix used but not declared (prefix, line, column), or None. Each colon is
    read once, with the name before it: linear in the text."""
    clean = blank_out(text)
    declared = {m.group(1) or "" for m in _PREFIX_DECLARATION.finditer(clean)}
    colon = clean.find(":")
    while colon >= 0:
        start = colon
        while start > 0 and (clean[start - 1].isalnum() or clean[start - 1] in "_.-"):
            start -= 1
        prefix = clean[start:colon]
        before = clean[start - 1] if start > 0 else " "
        follows = clean[colon + 1:colon + 2]
        is_name = (not prefix or prefix[0].isalpha()) and before not in "?$:_" and \
            (follows == "" or follows.isalnum() or follows in "_%\\ \t\n.;,)}]")
        if is_name and prefix not in declared and \
                not clean[max(0, start - 8):start].upper().rstrip().endswith("PREFIX"):
            return (prefix, *position(text, start))
        colon = clean.find(":", colon + 1)
    return None


def _near(text: str, line: int | None, column: int | None) -> str:
    if line is None or column is None:
        return ""
    lines = text.split("\n")
    if line > len(lines):
        return "the end of the query"
    rest = lines[line - 1][max(column - 1, 0):].strip()
    if not rest:
        return "the end of the line" if line < len(lines) else "the end of the query"
    return repr(rest[:_NEAR] + ("…" if len(rest) > _NEAR else ""))


def _expected(message: str) -> list[str]:
    """What a parser expected, its character ranges told as "a name" or "a number"."""
    listed = message.split("expected", 1)[-1]
    ranges = re.findall(r"\[[^\]]*\]", listed)
    listed = re.sub(r"\[[^\]]*\]", " ", listed)
    tokens = [f'"{t}"' for t in re.findall(r'"((?:[^"\\]|\\.)+)"', listed)]
    tokens += re.findall(r"(?<![\w'\"])([A-Z]{2,})(?![\w'\"])", listed)
    if any("'A'" in r for r in ranges):
        tokens.append("a name")
    if any("'0'" in r for r in ranges):
        tokens.append("a number")
    return list(dict.fromkeys(t.replace('\\"', '"').replace("\\\\", "\\") for t in tokens))


def _sentences(message: str) -> list[str]:
    """Plain-words reasons a parser gives among its expectations ("The SELECT contains ...")."""
    return [s.strip() for s in re.findall(r"(?:^|, )([A-Z][a-z]+(?: [A-Za-z]+){2,})", message)
            if s.strip() != "Prefix not found"]


def explain(text: str, message: str, line: int | None = None,
            column: int | None = None) -> QuerySyntaxError:
    """A syntax error as a sentence, with line and column: an undeclared prefix is named
    (with its declaration when it is one of ours), a reason the parser gives is kept, and
    otherwise what the parser expected at which text."""
    missing = undeclared_prefix(text)
    if missing is not None and ("prefix" in message.lower() or line is None
                                or (line, column) >= missing[1:]):
        prefix, at_line, at_column = missing
        known = PREFIXES.get(prefix)
        fix = f"PREFIX {prefix}: <{known}>" if known else f"PREFIX {prefix}: <…>"
        return QuerySyntaxError(f"the prefix {prefix}: is not declared; add {fix} at the top "
                                "of the query", at_line, at_column)
    start = _FORM_START.match(blank_out(text))
    if start is None or not _FORM.match(start.group(1)):
        at = position(text, start.start(1)) if start else (line, column)
        word = start.group(1) if start else ""
        return QuerySyntaxError(
            f"a query starts with SELECT, ASK, CONSTRUCT or DESCRIBE (after any BASE and "
            f"PREFIX lines){f', not {word!r}' if word else ''}", *at)
    reasons = _sentences(message)
    if reasons:
        reason = reasons[0]
        if "unbound" in reason:
            reason += " (with GROUP BY, select only the grouped variables or aggregates " \
                      "such as SAMPLE(?x) or COUNT(?x))"
        return QuerySyntaxError(reason[0].lower() + reason[1:], line, column)
    near = _near(text, line, column)
    what = "the query ends too early" if near == "the end of the query" else \
        f"unexpected {near}" if near.startswith("'") else f"unexpected {near or 'text'}"
    expected = _expected(message) if "expected" in message else []
    if {'"""', '"\\"'} <= set(expected) or {'"\'"', '"\\"'} <= set(expected):
        return QuerySyntaxError("a string is not closed: a quote is missing", line, column)
    if expected:
        shown = ", ".join(expected[:8]) + (", …" if len(expected) > 8 else "")
        return QuerySyntaxError(f"{what} (the parser expected {shown})", line, column)
    if near:
        return QuerySyntaxError(what if near == "the end of the query"
                                else f"the query cannot be read from {near} on", line, column)
    return QuerySyntaxError(message.split("\n", 1)[0][:200], line, column)
