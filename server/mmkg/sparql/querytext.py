"""What the endpoint reads from a query's text itself, beside the parsers: the order of the
variables of `SELECT *` (Oxigraph sorts them; people expect the order they wrote), prefixes
used but not declared, and syntax errors told as a sentence with line and column instead of
a parser's list of character ranges. No Flask here."""

from __future__ import annotations

import re

from ..uris import PREFIXES
from .errors import QuerySyntaxError

# Comments, string literals (long and short, both quotes) and IRIs: their contents are not
# SPARQL syntax, so they are blanked out (offsets kept) before looking for names.
_NOT_SYNTAX = re.compile(
    r'#[^\n]*'
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>', re.DOTALL)
_VARIABLE = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFD]+)")
_SELECT_STAR = re.compile(r"\bSELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?\*", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
_PREFIX_DECLARATION = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
# A prefixed name: a prefix (or none) and a colon, not inside a word or a variable name.
_PREFIXED = re.compile(r"(?<![\w?$:.\-])([A-Za-z][\w.-]*)?:(?=[\w%\\]|\s|[.;,)}\]]|$)")
_NEAR = 30
# The prologue (BASE and PREFIX declarations, their IRIs blanked out), then the first word:
# the query's form.
_FORM_START = re.compile(r"(?:\s+|BASE\b|PREFIX\s*[^\s:]*:)*([^\s{(]*)", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)$", re.IGNORECASE)


def blank_out(text: str) -> str:
    """The text with comments, strings and IRIs replaced by spaces (line breaks kept)."""
    return _NOT_SYNTAX.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


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
    """The first prefix used but not declared (prefix, line, column), or None."""
    clean = blank_out(text)
    declared = {m.group(1) or "" for m in _PREFIX_DECLARATION.finditer(clean)}
    for match in _PREFIXED.finditer(clean):
        prefix = match.group(1) or ""
        before = clean[max(0, match.start() - 8):match.start()].upper()
        if prefix not in declared and not before.rstrip().endswith("PREFIX"):
            return (prefix, *position(text, match.start()))
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
