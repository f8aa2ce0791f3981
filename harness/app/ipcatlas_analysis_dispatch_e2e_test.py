"""End-to-end tests of `ipcatlas plot|thresholds|compare|history|nodes|report`: the
binary hands these to `python -m ipcatlas_analysis` (harness/app/analysis_command.cpp)
with the arguments untouched, and says in one line what is missing when it cannot.

The binary comes from $IPCATLAS_BIN (set by ctest), else build/release."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from e2e_support import BINARY, REPO

ANALYSIS_COMMANDS = ["plot", "thresholds", "compare", "history", "nodes", "report"]

# A stand-in package: prints what it was given, and exits with a status taken from its arguments.
FAKE_MAIN = """
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "prog": os.environ.get("IPCATLAS_PROG"), "path": sys.path,
                  "isolated": sys.flags.isolated}))
sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
"""
# Modules a user's current directory (or PYTHONPATH) might hold: each leaves a marker when imported.
PLANTED = ["scipy", "pandas", "numpy", "matplotlib", "ipcatlas_analysis", "argparse", "json", "runpy", "site"]


def ipcatlas(*args: str, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("IPCATLAS_PYTHON", "IPCATLAS_ANALYSIS_DIR")}
    environment.update(env or {})
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=120, env=environment,
                          cwd=cwd)


@pytest.fixture
def fake_package(tmp_path: Path) -> Path:
    package = tmp_path / "ipcatlas_analysis"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FAKE_MAIN)
    return tmp_path


def test_top_level_help_lists_the_analysis_commands() -> None:
    proc = ipcatlas("--help")
    assert proc.returncode == 0
    for name in ANALYSIS_COMMANDS:
        assert any(line.split()[:1] == [name] for line in proc.stdout.splitlines()), (name, proc.stdout)


def test_one_list_of_commands_serves_the_binary_and_python() -> None:
    """analysis/ipcatlas_analysis/commands.json is the one list of analysis commands: the binary's
    table is generated from it (cmake/analysis_commands.cmake), so its --help shows the same summaries
    that Python's does (analysis/tests/test_commands.py checks the Python side)."""
    package = REPO / "analysis" / "ipcatlas_analysis"
    commands = json.loads((package / "commands.json").read_text())
    assert [c["name"] for c in commands] == ANALYSIS_COMMANDS
    help_text = ipcatlas("--help").stdout
    for command in commands:
        assert command["summary"] in help_text, (command["name"], help_text)


@pytest.mark.parametrize("name", ANALYSIS_COMMANDS)
def test_arguments_reach_python_verbatim(fake_package: Path, name: str, tmp_path: Path) -> None:
    args = ["--help", "--out", "d", "--cpus", "0,1", "--benchmark_filter=x", "-h", "", "-I", "-c", "7"]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = ipcatlas(name, *args, env={"IPCATLAS_ANALYSIS_DIR": str(fake_package), "PYTHONPATH": "/elsewhere"},
                    cwd=cwd)
    assert proc.returncode == 7, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == [name, *args]
    assert seen["prog"] == "ipcatlas"
    assert seen["isolated"] == 1
    assert seen["path"][0] == str(fake_package)
    assert "/elsewhere" not in seen["path"] and "" not in seen["path"] and str(cwd) not in seen["path"]


def plant_modules(directory: Path, marker: Path) -> None:
    """Modules and a package that, when imported, append their name to `marker`."""
    for module in PLANTED:
        code = f"open({str(marker)!r}, 'a').write({module!r} + '\\n')\n"
        (directory / f"{module}.py").write_text(code)
    package = directory / "ipcatlas_analysis"
    package.mkdir()
    (package / "__init__.py").write_text((directory / "ipcatlas_analysis.py").read_text())
    (package / "__main__.py").write_text((directory / "ipcatlas_analysis.py").read_text())


@pytest.mark.parametrize("where", ["cwd", "PYTHONPATH"])
def test_modules_planted_in_the_current_directory_or_pythonpath_are_never_imported(tmp_path: Path,
                                                                                 where: str) -> None:
    planted, marker = tmp_path / "planted", tmp_path / "marker"
    planted.mkdir()
    plant_modules(planted, marker)
    run = REPO / "analysis" / "tests" / "inputs" / "pingpong_4mech.json"
    env = {"PYTHONPATH": str(planted)} if where == "PYTHONPATH" else {}
    proc = ipcatlas("thresholds", str(run), env=env, cwd=planted)
    assert proc.returncode == 0, proc.stderr
    assert "## Crossovers against shm" in proc.stdout
    assert not marker.exists(), marker.read_text()
    # The probe for pandas, matplotlib and scipy runs isolated too: a failure there would have said so.
    assert proc.stderr == ""


def test_compare_help_is_pythons() -> None:
    proc = ipcatlas("compare", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ipcatlas compare"), proc.stdout
    assert "Mann-Whitney" in proc.stdout or "baseline" in proc.stdout.lower()


def test_a_missing_result_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = ipcatlas("compare", str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "nope.json" in lines[0]


def test_a_missing_interpreter_is_one_line_naming_it_and_exit_2() -> None:
    proc = ipcatlas("compare", "--help", env={"IPCATLAS_PYTHON": "/nonexistent"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "IPCATLAS_PYTHON=/nonexistent" in lines[0]
    assert proc.stdout == ""


def test_an_interpreter_without_pandas_is_one_line_with_the_fix(tmp_path: Path) -> None:
    # -S: no site-packages, so pandas, matplotlib and scipy cannot be found.
    bare = tmp_path / "bare-python"
    bare.write_text("#!/bin/sh\nexec /usr/bin/python3 -S -I \"$@\"\n")
    bare.chmod(0o755)
    proc = ipcatlas("compare", "--help", env={"IPCATLAS_PYTHON": str(bare)})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pandas" in lines[0] and "apt-get install python3-pandas" in lines[0] and str(bare) in lines[0]


def test_a_missing_package_is_one_line_naming_the_directory(tmp_path: Path) -> None:
    proc = ipcatlas("report", "--help", env={"IPCATLAS_ANALYSIS_DIR": str(tmp_path)})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"IPCATLAS_ANALYSIS_DIR={tmp_path}" in lines[0]
