"""Hostile input to the parsers (issue 13, item 6): an entity-expansion ("billion laughs")
RDF/XML file is refused before it is expanded; unreadable files, symbolic link loops and FIFOs
each give one line naming the file and exit code 2, in `mmkg validate` and at `mmkg serve`
start, never a traceback or a hang. Run as a user runs them: real subprocesses, bounded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmkg.kg.loader import EXPANSION_ALLOWANCE, LoadError, load_store
from realservers import free_port

RDF_HEAD = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:ex="http://example.org/">')
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                    for i in range(1, 10))
          + "]>\n" + RDF_HEAD + '<rdf:Description rdf:about="http://example.org/s">'
          "<ex:p>&lol9;</ex:p></rdf:Description></rdf:RDF>\n")
ABBREVIATED = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
               ' <!ENTITY ex "http://example.org/" >\n]>\n' + RDF_HEAD
               + '<rdf:Description rdf:about="&ex;s"><ex:p rdf:resource="&ex;o"/>'
               "</rdf:Description></rdf:RDF>\n")
VALID_TURTLE = "<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"


def mmkg(*args: str, without_root_reads: bool = False) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it. `without_root_reads`: root without the capabilities that
    let it read any file (this suite runs as root in CI), so file permissions apply."""
    command = [sys.executable, "-m", "mmkg.cli", *args]
    if without_root_reads and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def make_case(kind: str, folder: Path) -> Path:
    """A hostile path of each kind, inside `folder`."""
    if kind == "unreadable":
        path = folder / "secret.ttl"
        path.write_text(VALID_TURTLE)
        path.chmod(0)
    elif kind == "symlink-loop":
        path = folder / "loop.ttl"
        os.symlink(folder / "loop-back", path)  # no RDF suffix: a folder lists loop.ttl only
        os.symlink(path, folder / "loop-back")
    elif kind == "fifo":
        path = folder / "pipe.ttl"
        os.mkfifo(path)
    elif kind == "billion-laughs":
        path = folder / "laughs.rdf"
        path.write_text(LAUGHS)
    elif kind == "external-entity":
        path = folder / "external.rdf"
        path.write_text(LAUGHS.replace('<!ENTITY lol "lol">',
                                       '<!ENTITY lol SYSTEM "file:///etc/passwd">'))
    elif kind == "quadratic":
        path = folder / "quadratic.rdf"
        big = "x" * 100_000
        path.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
                        f' <!ENTITY big "{big}">\n]>\n' + RDF_HEAD
                        + '<rdf:Description rdf:about="http://example.org/s"><ex:p>'
                        + "&big;" * 200 + "</ex:p></rdf:Description></rdf:RDF>\n")
    else:
        raise AssertionError(kind)
    return path


CASES = {
    "unreadable": "permission denied",
    "symlink-loop": "symbolic link loop",
    "fifo": "not a regular file (a FIFO)",
    "billion-laughs": "refers to other entities",
    "external-entity": "external entity",
    "quadratic": "would expand to",
}


def assert_one_line_naming(result: subprocess.CompletedProcess[str], path: Path,
                           words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and words in lines[0], lines[0]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_mmkg_validate_names_the_file_and_exits_2(tmp_path, kind):
    path = make_case(kind, tmp_path)
    result = mmkg("validate", str(path), without_root_reads=kind == "unreadable")
    assert_one_line_naming(result, path, CASES[kind])


@pytest.mark.parametrize("kind", ["symlink-loop", "fifo", "unreadable"])
def test_a_hostile_file_inside_a_folder_is_named_too(tmp_path, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "fine.ttl").write_text(VALID_TURTLE)
    path = make_case(kind, folder)
    result = mmkg("validate", str(folder), without_root_reads=kind == "unreadable")
    assert_one_line_naming(result, path, CASES[kind])


def test_an_unreadable_folder_is_named(tmp_path):
    folder = tmp_path / "data"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "fine.ttl").write_text(VALID_TURTLE)
    (folder / "inner").chmod(0)
    try:
        result = mmkg("validate", str(folder), without_root_reads=True)
    finally:
        (folder / "inner").chmod(0o755)
    assert_one_line_naming(result, folder / "inner", "permission denied")


@pytest.mark.parametrize("kind", ["fifo", "billion-laughs", "symlink-loop"])
def test_mmkg_serve_refuses_to_start_naming_the_file(tmp_path, kind):
    path = make_case(kind, tmp_path)
    result = mmkg("serve", "--dev", "--port", str(free_port()), "--data", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"mmkg serve: cannot load the data: {path}" in result.stderr
    assert CASES[kind] in result.stderr


def test_entities_that_only_abbreviate_still_load(tmp_path):
    """Protege writes entities for namespaces; those are not an attack."""
    path = tmp_path / "abbreviated.rdf"
    path.write_text(ABBREVIATED)
    store = load_store([path])
    assert len(store) == 2  # the triple in its file's graph and in the default graph


def test_the_expansion_bound_is_the_file_size_plus_the_allowance(tmp_path):
    path = make_case("quadratic", tmp_path)
    with pytest.raises(LoadError, match=str(100_000 * 200)):
        load_store([path])
    assert 100_000 * 200 > path.stat().st_size + EXPANSION_ALLOWANCE
