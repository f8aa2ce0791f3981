"""Where a CI regression job keeps its runs, and which of them a history may use.

Layout under the results directory (one directory per CI history; keep it as a
CI artifact or in a branch of its own):
  runs/DATE-COMMIT.json       one ipcatlas result file per CI run (with .topology.xml)
  reports/DATE-COMMIT/        that run's `ipcatlas report` (report.html and figures)
  history/                    history.html, history.json and the figures, rewritten each run
DATE is UTC (20261201T101500Z), so names sort by time; COMMIT is the short hash.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

RUNS = "runs"
REPORTS = "reports"
HISTORY = "history"
SHORT = 12


class StoreError(RuntimeError):
    """A results directory or repository that cannot be used; the message names it."""


@dataclass(frozen=True)
class StoredRun:
    path: Path
    commit: str  # "" when the file records none


def run_name(commit: str, when: datetime | None = None) -> str:
    """The stem of a new run's files: UTC date and time, then the short commit."""
    stamp = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{commit[:SHORT]}"


def git(repo: Path, *args: str) -> str:
    """Output of a git command in repo, stripped; StoreError naming the command when it fails."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except OSError as error:
        raise StoreError(f"git: cannot run: {error.strerror}") from None
    if done.returncode != 0:
        raise StoreError(f"git -C {repo} {' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout.strip()


def head_commit(repo: Path) -> str:
    return git(repo, "rev-parse", "--verify", "HEAD^{commit}")


def ancestry(repo: Path, commit: str) -> set[str]:
    """Every commit reachable from commit (itself included), full hashes."""
    return set(git(repo, "rev-list", commit).split())


def stored_runs(results: Path) -> list[StoredRun]:
    """The result files under results/runs, sorted by name (= by date), with their commits."""
    folder = results / RUNS
    if not folder.is_dir():
        return []
    return [StoredRun(path, recorded_commit(path)) for path in sorted(folder.glob("*.json")) if path.is_file()]


def recorded_commit(path: Path) -> str:
    """The context's commit of a result file; "" when it has none or is not a result file."""
    try:
        with path.open(encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ""
    context = document.get("context") if isinstance(document, dict) else None
    commit = context.get("commit") if isinstance(context, dict) else None
    return commit if isinstance(commit, str) else ""


def on_this_line(runs: list[StoredRun], reachable: set[str]) -> tuple[list[StoredRun], list[StoredRun]]:
    """Split runs into those of commits in this history and the others (other branches, rewritten
    history, files without a commit): a history is drawn along one line of commits."""
    kept = [run for run in runs if run.commit in reachable]
    return kept, [run for run in runs if run.commit not in reachable]
