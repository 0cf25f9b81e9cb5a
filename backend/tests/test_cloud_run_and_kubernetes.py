"""Scale-out: the container image and the Cloud Run / Kubernetes manifests agree with each
other and with the project, and a local rehearsal of N parallel tasks loads every session
exactly once.

What cannot be tried here (no Docker daemon, no GCP, no cluster) is checked from the files
themselves: the Dockerfile's order and user, the build context Docker would send (the
.dockerignore rules, read as Docker reads them), and the manifests' numbers, flags and
variables. The rehearsal then runs the image's entrypoint from a copy of exactly that build
context, configured the way the manifests configure it (environment variables, one FastF1
cache per task), as real concurrent processes against one local PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, metadata as package_metadata, requires
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from support.database import stored_sessions
from support.entry_scripts import REPO, run_script, script_env

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY = REPO / "deploy"
CLOUD_RUN_JOB = DEPLOY / "cloud-run-job.yaml"
CLOUD_RUN_MIGRATE = DEPLOY / "cloud-run-migrate-job.yaml"
K8S_JOB = DEPLOY / "k8s-indexed-job.yaml"
K8S_MIGRATE = DEPLOY / "k8s-migrate-job.yaml"
MANIFESTS = (CLOUD_RUN_JOB, CLOUD_RUN_MIGRATE, K8S_JOB, K8S_MIGRATE)

# FastF1's live timing limit per hour (docs/ARCHITECTURE.md): the tasks that run at once
# share it through the database's request budget.
LIVE_TIMING_PER_HOUR = 500
# Variables the platforms set in each task: a manifest must never set them itself (every
# task would load the same shard), nor pass --shard.
PLATFORM_SHARD_VARIABLES = {"CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT",
                            "CLOUD_RUN_TASK_ATTEMPT", "CLOUD_RUN_EXECUTION", "CLOUD_RUN_JOB",
                            "JOB_COMPLETION_INDEX"}
SHARD_VARIABLES = PLATFORM_SHARD_VARIABLES | {"SHARD_COUNT"}
SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "KEY", "DATABASE_URL")


# --- reading the files ----------------------------------------------------------------------

def manifest(path: Path) -> dict:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert len(documents) == 1, f"{path.name}: one object per file ({len(documents)} found)"
    return documents[0]


def cloud_run_parts(job: dict) -> tuple[dict, dict, dict]:
    """(execution spec, task spec, the container) of a Cloud Run Job (API v1)."""
    assert (job["apiVersion"], job["kind"]) == ("run.googleapis.com/v1", "Job")
    execution = job["spec"]["template"]["spec"]
    task = execution["template"]["spec"]
    (container,) = task["containers"]
    return execution, task, container


def k8s_parts(job: dict) -> tuple[dict, dict, dict]:
    """(job spec, pod spec, the container) of a Kubernetes Job."""
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return job["spec"], pod, container


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def flag_values(args: list[str]) -> dict[str, str | None]:
    """``--flag value`` / ``--flag=value`` pairs of an argument list (None: a switch)."""
    values, index = {}, 0
    while index < len(args):
        arg = str(args[index])
        assert arg.startswith("--"), f"argument {arg!r} is not a flag or a flag's value"
        if "=" in arg:
            name, value = arg.split("=", 1)
            index += 1
        elif index + 1 < len(args) and not str(args[index + 1]).startswith("--"):
            name, value = arg, str(args[index + 1])
            index += 2
        else:
            name, value = arg, None
            index += 1
        values[name] = value
    return values


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def entrypoint() -> list[str]:
    (value,) = [rest for keyword, rest in dockerfile_instructions() if keyword == "ENTRYPOINT"]
    command = json.loads(value)   # exec form: the process is PID 1 and receives SIGTERM
    assert isinstance(command, list) and command[0] == "python", value
    return command


def image_path_in_repo(image_path: str) -> Path:
    """Where a file of the image comes from in the repository (through its COPY)."""
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and not rest.startswith("--"):
            source, destination = rest.split()
            destination = destination.rstrip("/") + "/"
            if image_path.startswith(destination):
                return REPO / source / image_path[len(destination):]
    raise AssertionError(f"no COPY in the Dockerfile puts anything at {image_path}")


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            env.update(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", rest))
    return env


def documented_variables() -> set[str]:
    """Variables the project documents: backquoted in README.md or the docs, or listed in
    .env.example."""
    docs = "\n".join(path.read_text() for path in [REPO / "README.md",
                                                   *(REPO / "docs").glob("*.md")])
    example = (REPO / ".env.example").read_text()
    return (set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", docs))
            | set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]{2,})=", example, re.MULTILINE)))


def script_flags(script: str) -> set[str]:
    """The flags an entry script accepts, read from its --help."""
    result = run_script(REPO / "backend" / script, "--help", cwd=REPO)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", result.stdout))


# --- .dockerignore, as Docker reads it ------------------------------------------------------

def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """(exclude?, pattern) per rule. Docker's syntax: Go's filepath.Match plus ``**``
    (any number of folders), ``!`` re-includes, the last rule matching a path or one of
    its parent folders decides."""
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*",
                      "?": "[^/]"}.get(part, re.escape(part))
        rules.append((exclude, re.compile(regex + r"\Z")))
    return rules


def in_build_context(path: str, rules) -> bool:
    """Would Docker send ``path`` (relative to the repository root, with /) to the build?"""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    included = True
    for exclude, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            included = not exclude
    return included


def may_reinclude(folder: str) -> bool:
    """Could a ``!`` rule bring back something inside this excluded folder?"""
    for line in DOCKERIGNORE.read_text().splitlines():
        pattern = line.strip()[1:].strip().strip("/") if line.strip().startswith("!") else None
        if pattern is not None and (pattern.startswith(("*", "?", "["))
                                    or pattern.startswith(folder + "/")):
            return True
    return False


def copy_build_context(destination: Path) -> Path:
    """Copy the files Docker would send into ``destination``; return it."""
    rules = dockerignore_rules()
    for folder, subfolders, files in os.walk(REPO):
        relative = Path(folder).relative_to(REPO).as_posix()
        prefix = "" if relative == "." else relative + "/"
        subfolders[:] = [name for name in subfolders
                         if in_build_context(prefix + name, rules) or
                         may_reinclude(prefix + name)]
        for name in files:
            if in_build_context(prefix + name, rules):
                target = destination / (prefix + name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target)
    return destination


# --- static checks --------------------------------------------------------------------------

def test_every_manifest_parses_and_runs_a_script_of_the_image():
    """Loaders use the image's entrypoint (populate_db.py); migrations override the command
    with another script of the image, which exists where WORKDIR puts it."""
    workdir = [rest for keyword, rest in dockerfile_instructions() if keyword == "WORKDIR"][-1]
    script = entrypoint()[1]
    assert image_path_in_repo(f"{workdir}/{script}").is_file()
    assert script == "populate_db.py"
    for path in (CLOUD_RUN_JOB, K8S_JOB):
        parts = cloud_run_parts if path == CLOUD_RUN_JOB else k8s_parts
        _, _, container = parts(manifest(path))
        assert "command" not in container, f"{path.name}: the loader runs the entrypoint"
    for path in (CLOUD_RUN_MIGRATE, K8S_MIGRATE):
        parts = cloud_run_parts if path == CLOUD_RUN_MIGRATE else k8s_parts
        _, _, container = parts(manifest(path))
        command = [str(item) for item in container["command"]]
        assert command == ["python", "migrate_db.py"], f"{path.name}: {command}"
        assert image_path_in_repo(f"{workdir}/{command[1]}").is_file()
        assert not container.get("args"), f"{path.name}: migrate_db.py needs no flags"


def test_manifests_set_only_documented_variables_and_secrets_only_by_reference():
    documented = documented_variables()
    for path in MANIFESTS:
        parts = cloud_run_parts if path.name.startswith("cloud-run") else k8s_parts
        _, _, container = parts(manifest(path))
        env = env_of(container)
        undocumented = sorted(set(env) - documented)
        assert not undocumented, (f"{path.name} sets {undocumented}, which neither the docs "
                                  f"nor .env.example documents")
        assert not set(env) & PLATFORM_SHARD_VARIABLES, (
            f"{path.name}: the platform sets the task index and count itself")
        for name, item in env.items():
            if any(word in name for word in SECRET_WORDS):
                assert "value" not in item and "secretKeyRef" in item.get("valueFrom", {}), (
                    f"{path.name}: {name} must come from a secret, not a literal value")
    for name in dockerfile_env():
        assert name.startswith(("PYTHON", "PIP_")) or name in documented, (
            f"the Dockerfile sets {name}, which the project does not document")
        assert not any(word in name for word in SECRET_WORDS), (
            f"a secret baked into the image: {name}")


def test_loader_flags_exist_and_both_platforms_run_the_same_load():
    """Same image, same flags on Cloud Run and Kubernetes; every flag is one populate_db.py
    accepts; no --shard (the platform picks the shard); no divided request budget: the
    tasks share the database's (sources/budget_db.py), FastF1's whole hourly limit."""
    execution, _, cloud_run = cloud_run_parts(manifest(CLOUD_RUN_JOB))
    job, _, k8s = k8s_parts(manifest(K8S_JOB))
    assert cloud_run["image"] == k8s["image"]
    assert [str(arg) for arg in cloud_run["args"]] == [str(arg) for arg in k8s["args"]]
    flags = flag_values([str(arg) for arg in cloud_run["args"]])
    entry_flags = flag_values(entrypoint()[2:])
    accepted = script_flags("populate_db.py")
    unknown = sorted((set(flags) | set(entry_flags)) - accepted)
    assert not unknown, f"populate_db.py --help does not list {unknown}"
    assert "--shard" not in flags and "--no-wait" not in flags
    assert flags.get("--max-events") == "0", "without --max-events 0 only the first event loads"
    assert int(flags.get("--requests-per-hour", LIVE_TIMING_PER_HOUR)) == LIVE_TIMING_PER_HOUR


def test_cloud_run_job_numbers():
    execution, task, container = cloud_run_parts(manifest(CLOUD_RUN_JOB))
    assert 1 <= int(execution["parallelism"]) <= int(execution["taskCount"])
    assert int(task["maxRetries"]) >= 1
    assert int(task["timeoutSeconds"]) > 600, "the default 10 minutes cannot load a shard"
    assert task["serviceAccountName"].endswith(".iam.gserviceaccount.com")
    env = env_of(container)
    assert not set(env) & SHARD_VARIABLES
    assert env["DB_PASS"]["valueFrom"]["secretKeyRef"]["key"] == "latest"
    assert env["PRIVATE_IP"]["value"] == "true"
    annotations = manifest(CLOUD_RUN_JOB)["spec"]["template"]["metadata"]["annotations"]
    assert "run.googleapis.com/network-interfaces" in annotations, "private IP needs a VPC"
    assert_cache_on_a_volume(container, task["volumes"])


def test_kubernetes_indexed_job_numbers():
    job, pod, container = k8s_parts(manifest(K8S_JOB))
    assert job["completionMode"] == "Indexed"
    assert 1 <= int(job["parallelism"]) <= int(job["completions"])
    env = env_of(container)
    assert int(env["SHARD_COUNT"]["value"]) == int(job["completions"])
    assert not set(env) & PLATFORM_SHARD_VARIABLES
    assert int(job["backoffLimitPerIndex"]) >= 1
    assert pod["restartPolicy"] == "Never"   # backoffLimitPerIndex and podFailurePolicy need it
    assert int(job["activeDeadlineSeconds"]) >= int(pod["activeDeadlineSeconds"])
    # Time to roll back the session in flight and write the summary after SIGTERM.
    assert int(pod["terminationGracePeriodSeconds"]) >= 30
    fail_fast = [rule for rule in job["podFailurePolicy"]["rules"]
                 if rule["action"] == "FailIndex"]
    assert [rule["onExitCodes"]["values"] for rule in fail_fast] == [[2]]
    assert pod["securityContext"]["runAsUser"] == dockerfile_user()
    assert_cache_on_a_volume(container, pod["volumes"])


@pytest.mark.parametrize("version", ["1.29", "latest"])
def test_kubernetes_manifests_follow_the_api_schema(version):
    """Strict schema check (unknown fields refused) against 1.29, the oldest Kubernetes with
    backoffLimitPerIndex, and the newest schema kubernetes-validate has."""
    validator = pytest.importorskip("kubernetes_validate",
                                    reason="kubernetes-validate is not installed")
    version = validator.latest_version() if version == "latest" else version
    for path in (K8S_JOB, K8S_MIGRATE):
        validator.validate(manifest(path), version, strict=True)


def assert_cache_on_a_volume(container: dict, volumes: list[dict]) -> None:
    """FASTF1_CACHE_DIR (the manifest's, else the image's) lies on a mounted scratch volume."""
    cache = env_of(container).get("FASTF1_CACHE_DIR", {}).get("value") or \
        dockerfile_env()["FASTF1_CACHE_DIR"]
    assert cache == dockerfile_env()["FASTF1_CACHE_DIR"]
    scratch = {volume["name"] for volume in volumes if "emptyDir" in volume}
    mounts = [mount["mountPath"].rstrip("/") for mount in container["volumeMounts"]
              if mount["name"] in scratch]
    assert any(cache == mount or cache.startswith(mount + "/") for mount in mounts), (cache, mounts)


def dockerfile_user() -> int:
    (user,) = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit(), "a numeric user: Kubernetes' runAsNonRoot cannot check a name"
    return int(uid)


def test_dockerfile_installs_requirements_before_the_code_and_runs_as_a_user():
    steps = dockerfile_instructions()
    keywords = [keyword for keyword, _ in steps]
    index = {rest: position for position, (keyword, rest) in enumerate(steps)
             if keyword in ("COPY", "RUN")}
    copy_requirements = index["requirements.txt ."]
    install = next(position for rest, position in index.items() if "pip install" in rest)
    copy_code = next(position for rest, position in index.items() if rest.startswith("backend"))
    assert copy_requirements < install < copy_code, "a code change must not reinstall packages"
    assert "--no-cache-dir" in steps[install][1]
    assert dockerfile_user() != 0
    user = keywords.index("USER")
    assert user > max(position for position, keyword in enumerate(keywords) if keyword == "RUN")
    assert user < keywords.index("ENTRYPOINT")


def test_base_image_python_satisfies_every_pinned_requirement():
    """The base image's Python is one every pinned package (and its dependencies) supports."""
    (base,) = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    match = re.fullmatch(r"python:(\d+\.\d+)-slim(?:-\w+)?", base)
    assert match, f"base image {base}: expected python:X.Y-slim"
    version = match.group(1) + ".0"
    pinned = [Requirement(line.split("#")[0]).name for line in
              (REPO / "requirements.txt").read_text().splitlines()
              if line.split("#")[0].strip() and not line.startswith("-")]   # not `-e .`
    seen, todo = set(), list(pinned)
    while todo:
        name = todo.pop()
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        try:
            needed = package_metadata(name).get("Requires-Python")
            dependencies = requires(name) or []
        except PackageNotFoundError:
            pytest.fail(f"{name} is pinned in requirements.txt but not installed here")
        assert not needed or SpecifierSet(needed).contains(version), (
            f"{name} needs Python {needed}; the image has {match.group(1)}")
        todo += [Requirement(spec).name for spec in dependencies
                 if "extra ==" not in spec and Requirement(spec).marker is None]


def test_build_context_leaves_out_secrets_data_caches_and_tests():
    rules = dockerignore_rules()
    kept_out = [".env", "backend/.env", ".env.production", "backend/f1_data.db",
                "backend/f1_data.db-wal", "f1.db", "backend/fastf1_cache/fastf1_http_cache.sqlite",
                "fastf1_cache/2023/x.ff1pkl", "backend/populate_db.log", "last_run.json",
                "backend/tests/conftest.py", "backend/benchmarks/bench_populate.py",
                "backend/f1db/__pycache__/db.cpython-311.pyc", ".git/config",
                "docs/ARCHITECTURE.md", "shared/fastf1-recorded/INDEX.tsv"]
    needed = ["requirements.txt", "backend/populate_db.py", "backend/migrate_db.py",
              "backend/test_backend.py", "backend/models.py", "backend/alembic.ini",
              "backend/f1db/config.py", "backend/migrations/env.py"]
    needed += [path.relative_to(REPO).as_posix()
               for path in (REPO / "backend" / "migrations" / "versions").glob("*.py")]
    assert [path for path in kept_out if in_build_context(path, rules)] == []
    assert [path for path in needed if not in_build_context(path, rules)] == []


# --- the local rehearsal --------------------------------------------------------------------

# Sessions added to the recorded cache for the rehearsal, and their seasons' schedules.
EXTRA_SESSIONS = [(2021, "Bahrain Grand Prix", "R"), (2023, "Bahrain Grand Prix", "R"),
                  (2025, "Bahrain Grand Prix", "R"), (2023, "Azerbaijan Grand Prix", "Q")]
EXTRA_SCHEDULES = [2025]

# Cloud Run: several seasons, one event in each, over 3 tasks.
CLOUD_RUN_SELECTION = ("--year", "2021-2023,2025", "--event", "Bahrain Grand Prix",
                       "--session", "R")
CLOUD_RUN_PLAN = {(2021, "Bahrain Grand Prix", "Race"), (2022, "Bahrain Grand Prix", "Race"),
                  (2023, "Bahrain Grand Prix", "Race"), (2025, "Bahrain Grand Prix", "Race")}
# Kubernetes: one sprint weekend, three sessions, over 2 pods.
K8S_SELECTION = ("--year", "2023", "--event", "Azerbaijan Grand Prix", "--session", "Q",
                 "--session", "Sprint Shootout", "--session", "S")
K8S_PLAN = {(2023, "Azerbaijan Grand Prix", "Qualifying"),
            (2023, "Azerbaijan Grand Prix", "Sprint Shootout"),
            (2023, "Azerbaijan Grand Prix", "Sprint")}


@pytest.fixture(scope="module")
def rehearsal_cache(recorded_cache, tmp_path_factory) -> Path:
    """The recorded cache plus a few more sessions from the recordings, so that one command
    selects several sessions (a selection applies its events and sessions to every season)."""
    import fastf1
    from fastf1.logger import LoggingManager

    from support.fastf1_replay import load_recordings, replaying
    from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

    directory = tmp_path_factory.mktemp("scale-out") / "fastf1-cache"
    shutil.copytree(recorded_cache, directory)
    log_level = LoggingManager._console_handler.level
    fastf1.set_log_level("ERROR")
    try:
        with restoring_fastf1_cache(), unthrottled():
            fastf1.Cache.configure(cache_dir=str(directory))
            with replaying(load_recordings()):
                for year in EXTRA_SCHEDULES:
                    fastf1.get_event_schedule(year, include_testing=True)
                for year, event, name in EXTRA_SESSIONS:
                    fastf1.get_session(year, event, name).load(telemetry=False)
    finally:
        LoggingManager.set_level(log_level)
    return directory


@pytest.fixture(scope="module")
def image_files(tmp_path_factory) -> Path:
    """The image's /app: a copy of the build context Docker would send."""
    return copy_build_context(tmp_path_factory.mktemp("image") / "app")


def task_env(database_url: str, cache: Path, home: Path, **shard: str) -> dict[str, str]:
    """A task's environment as the manifests and the image set it: the database and the
    FastF1 cache by variable, the image's Python settings, the platform's shard variables
    (any inherited from this machine removed first)."""
    env = {key: value for key, value in script_env().items() if key not in SHARD_VARIABLES}
    env.update({name: value for name, value in dockerfile_env().items()
                if name.startswith("PYTHON")})
    env.update(DATABASE_URL=database_url, FASTF1_CACHE_DIR=str(cache), HOME=str(home), **shard)
    return env


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


def rehearse(image: Path, database_url: str, cache: Path, work: Path, selection: tuple,
             shard_envs: list[dict[str, str]], timeout: float = 120) -> list[dict]:
    """Start one task per shard environment at once, each with its own copy of the FastF1
    cache and an empty home, running the image's entrypoint; wait for all. Returns, per
    task: its ``output`` and its ``summary`` JSON (all exited 0, without a traceback)."""
    backend = image / "backend"
    code_before = files_under(backend)
    command = [sys.executable if part == "python" else part for part in entrypoint()]
    tasks = []
    for index, shard in enumerate(shard_envs):
        own_cache, home = work / f"cache-{index}", work / f"home-{index}"
        shutil.copytree(cache, own_cache)
        home.mkdir()
        summary = work / f"summary-{index}.json"
        args = [*selection, "--offline", "--no-telemetry", "--summary-json", str(summary)]
        process = subprocess.Popen([*command, *args], cwd=backend, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env=task_env(database_url, own_cache, home, **shard))
        tasks.append((process, summary, home))
    outputs = []
    for process, _, _ in tasks:
        try:
            outputs.append(process.communicate(timeout=timeout)[0])
        except subprocess.TimeoutExpired:
            for other, _, _ in tasks:
                other.kill()
                other.communicate()
            pytest.fail(f"a rehearsal task did not finish within {timeout} s")
    results = []
    for (process, summary, home), output in zip(tasks, outputs):
        assert "Traceback" not in output, output
        assert process.returncode == 0, output
        assert not files_under(home), f"a task wrote into its home folder: {files_under(home)}"
        results.append({"output": output, "summary": json.loads(summary.read_text())})
    assert files_under(backend) == code_before, "a task wrote into the (read-only) code folder"
    return results


def assert_each_session_loaded_once(results: list[dict], plan: set, database_url: str) -> None:
    """Shards are disjoint, their union is the plan, every session was loaded by exactly one
    task (FastF1 called once for it), and the ledger holds each session once."""
    count = len(results)
    seen: dict[tuple, int] = {}
    for index, result in enumerate(results):
        summary = result["summary"]
        assert summary["shard"] == f"{index + 1}/{count}", summary["shard"]
        assert summary["exit_code"] == 0
        mine = {(entry["year"], entry["round_number"], entry["session_type"])
                for entry in summary["sessions"]}
        assert len(mine) == len(summary["sessions"])
        assert {entry["outcome"] for entry in summary["sessions"]} <= {"loaded"}, (
            summary["sessions"])
        assert summary["fastf1_loads"] == summary["sessions_loaded"] == len(mine)
        assert summary["sessions_planned"] == len(mine)
        for key in mine:
            assert key not in seen, f"{key} is in shard {seen[key] + 1} and shard {index + 1}"
            seen[key] = index
    assert sum(result["summary"]["fastf1_loads"] for result in results) == len(plan)
    stored = stored_sessions(database_url)
    assert sorted(stored) == sorted(plan), stored
    assert len(seen) == len(plan)
    if len(plan) >= count:
        assert all(result["summary"]["sessions"] for result in results), (
            "a shard got no session although there are as many sessions as shards")


def test_cloud_run_rehearsal_three_tasks_load_every_session_once(
        image_files, rehearsal_cache, postgres_url, tmp_path):
    """The documented Cloud Run procedure, locally: the one-off migration job (same image,
    command `python migrate_db.py`), then 3 tasks at once, told their shard only by
    CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT, over 4 seasons of one event."""
    migrate = subprocess.run([sys.executable, "migrate_db.py"], cwd=image_files / "backend",
                             env=task_env(postgres_url, tmp_path, tmp_path), text=True,
                             capture_output=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    shards = [{"CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": "3",
               "CLOUD_RUN_TASK_ATTEMPT": "0", "CLOUD_RUN_JOB": "f1db-load",
               "CLOUD_RUN_EXECUTION": "f1db-load-rehearsal"} for index in range(3)]
    results = rehearse(image_files, postgres_url, rehearsal_cache, tmp_path,
                       CLOUD_RUN_SELECTION, shards)
    assert_each_session_loaded_once(results, CLOUD_RUN_PLAN, postgres_url)
    assert all(result["summary"]["years"] == [2021, 2022, 2023, 2025] for result in results)


def test_kubernetes_rehearsal_two_pods_on_an_empty_database(
        image_files, rehearsal_cache, postgres_url, tmp_path):
    """An indexed Job's pods, told their shard by JOB_COMPLETION_INDEX and SHARD_COUNT,
    started together on an empty database (no migration first: both create the schema)."""
    shards = [{"JOB_COMPLETION_INDEX": str(index), "SHARD_COUNT": "2"} for index in range(2)]
    results = rehearse(image_files, postgres_url, rehearsal_cache, tmp_path,
                       K8S_SELECTION, shards)
    assert_each_session_loaded_once(results, K8S_PLAN, postgres_url)
