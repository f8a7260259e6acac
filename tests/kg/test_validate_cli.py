"""`mmkg validate` as a user runs it: a real subprocess of the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmkg.kg import files as package_data

SEED_CLAIM = "https://w3id.org/mmkg/id/claim/mm-2025-07-ua-pow-invokers-gov-pl"


def mmkg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command the way a user does (the console script when installed)."""
    script = Path(sys.executable).parent / "mmkg"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mmkg.cli"]
    return subprocess.run([*command, "validate", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of the shipped ontology and data in a folder of its own."""
    folder = tmp_path / "data"
    folder.mkdir()
    for path in package_data.default_data_files():
        shutil.copy(path, folder / path.name)
    return folder


def test_green_on_the_shipped_data(tmp_path: Path) -> None:
    result = mmkg(cwd=tmp_path)  # any working directory: the data ships with the package
    # One warning: SHACL says it does not conform, and the command passes (exit 0), because
    # only violations fail.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == (
        "conforms: false (0 violation(s), 1 warning(s), 0 info(s)); passes: only violations fail")
    assert "claim:mm-2025-07-ua-pow-invokers-gov-pl" in result.stdout  # the warning is shown


def test_json_format_parses() -> None:
    result = mmkg("--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["conforms"] is False  # sh:conforms: a warning is a result
    assert report["passes"] is True  # no violation
    assert (report["results"], report["violations"], report["warnings"], report["infos"]) == (
        1, 0, 1, 0)
    assert len(report["findings"]) == report["results"]
    warned = {f["focus_node"] for f in report["findings"] if f["severity"] == "Warning"}
    assert SEED_CLAIM in warned


def test_a_malformed_file_exits_2_naming_file_and_line(data_copy: Path) -> None:
    broken = data_copy / "gov-pl-2025-07-24.ttl"
    lines = broken.read_text(encoding="utf-8").splitlines()
    # A line that cannot be Turtle, at a known line number.
    lines.append("this is not turtle")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mmkg(str(data_copy))
    assert result.returncode == 2
    assert result.stdout == ""  # nothing was validated: nothing half-loaded
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith(f"{broken}:{len(lines)}:"), result.stderr


def test_a_shape_violation_exits_1_naming_node_path_and_rule(data_copy: Path) -> None:
    target = data_copy / "invocation-mm-2025-07-ua-pow.ttl"
    text = target.read_text(encoding="utf-8")
    assert '    mm:date "2025-07-24"^^xsd:date ;\n' in text
    # The invocation loses its date.
    target.write_text(text.replace('    mm:date "2025-07-24"^^xsd:date ;\n', "", 1),
                      encoding="utf-8")
    result = mmkg(str(data_copy))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Violation")]
    assert any("invocation-mm-2025-07-ua-pow.ttl" in line
               and "invocation:mm-2025-07-ua-pow mm:date" in line
               and "sh:MinCountConstraintComponent" in line for line in lines), result.stdout

    assert result.stdout.splitlines()[-1].endswith("; fails: there are violations")
    as_json = json.loads(mmkg(str(data_copy), "--format", "json").stdout)
    assert as_json["conforms"] is False and as_json["passes"] is False
    assert {(f["focus_node"], f["path"], f["constraint"]) for f in as_json["findings"]} >= {
        ("https://w3id.org/mmkg/id/invocation/mm-2025-07-ua-pow",
         "https://w3id.org/mmkg/ontology#date", "sh:MinCountConstraintComponent")}


def test_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = mmkg(str(tmp_path / "nowhere.ttl"))
    assert result.returncode == 2
    assert "nowhere.ttl" in result.stderr


def test_data_without_the_ontology_is_checked_against_the_shipped_one(tmp_path: Path) -> None:
    """A copy of graph/ alone (the concepts and classes live in ontology/) still conforms."""
    folder = tmp_path / "graph-only"
    shutil.copytree(package_data.graph_dir(), folder)
    result = mmkg(str(folder))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "(0 violation(s), 1 warning(s), 0 info(s)); passes" in result.stdout


def test_a_malformed_file_is_reported_as_json_for_machines(data_copy: Path) -> None:
    broken = data_copy / "gov-pl-2025-07-24.ttl"
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines.append("this is not turtle")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mmkg("--format", "json", str(data_copy))
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert Path(error["file"]).name == "gov-pl-2025-07-24.ttl"
    assert error["line"] == len(lines)
    assert error["message"]


def test_help_states_the_exit_code_rule() -> None:
    """conforms is SHACL's; the exit code fails on violations only, and --help says so."""
    result = mmkg("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "sh:conforms" in text and "warning included" in text
    assert "Exit code: 0 when no result is a violation" in text
    assert "1 on any violation, 2 when a file cannot be read or parsed" in text
