"""The example pipelines parse, run on schedule and per change, and call ci/regression with
options it accepts, so they cannot rot away from the script."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from regression import parse_arguments

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def regression_commands(scripts: list[str]) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in scripts if line.startswith("ci/regression ")]


def test_the_github_workflow_runs_nightly_and_per_pull_request() -> None:
    workflow = load("github-actions-regression.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers and "pull_request" in triggers
    steps = workflow["jobs"]["regression"]["steps"]
    commands = regression_commands([line for step in steps for line in str(step.get("run", "")).splitlines()])
    assert len(commands) == 1
    args = parse_arguments(commands[0])
    assert args.run_options[:1] == ["--cpus"], "the benchmark PUs are pinned"
    assert "self-hosted" in workflow["jobs"]["regression"]["runs-on"]


def test_the_gitlab_jobs_write_the_history_only_nightly() -> None:
    jobs = load("gitlab-ci-regression.yml")
    template = jobs[".ipcatlas-regression"]
    commands = regression_commands(template["script"])
    assert len(commands) == 1
    assert parse_arguments(commands[0]).run_options[:1] == ["--cpus"]
    assert jobs["ipcatlas-nightly"]["cache"]["policy"] == "pull-push"
    assert jobs["ipcatlas-merge-request"]["cache"]["policy"] == "pull"
    assert "schedule" in jobs["ipcatlas-nightly"]["rules"][0]["if"]
    assert "merge_request_event" in jobs["ipcatlas-merge-request"]["rules"][0]["if"]
