"""Cold start of each built function: its handler module's import and init, as a ratio to ``import boto3``.

Run: .venv/bin/python bench/bench_cold_start.py [--build-dir DIR] [--project DIR] [--repeat N] [--bytecode]
     [--compare-with BUILD_DIR ...] [--functions A,B] [--build-only]

Before and after: build the earlier tree once (``git archive <commit> | tar -x -C /tmp/before``, then
``--project /tmp/before --build-dir /tmp/before-build --build-only``) and pass
``--compare-with /tmp/before-build``: both builds are measured in the same runs, interleaved, so that
the load of a shared machine weighs on both alike, and a last table puts their ratios side by side.

What is measured is what ``sam build`` ships, not the source tree. Without ``--build-dir`` the
project's template.yaml is built with ``sam build`` (no Docker) into a temporary directory; with it,
DIR is used when it holds a build (``DIR/template.yaml``), or built into. The template targets arm64;
the build is made for this machine's architecture instead (a copy of the template with its
``Architectures`` changed, ``--base-dir`` the project), since the compiled wheels of an arm64 build
(pydantic-core, wrapt) do not load on x86_64: same code, same pinned versions.

For every function of the built template, a fresh ``python3.13 -I -S -B -X importtime`` imports the
handler module as the Lambda runtime does (``importlib.import_module`` of ``Handler``'s module, then
the attribute), with ``sys.path`` = [the function's CodeUri build dir, its layers' ``python/``] and
nothing else but the standard library, and the environment the template gives the function plus what
Lambda sets (``LAMBDA_TASK_ROOT``, so Powertools' Tracer is on as with ``Tracing: Active``, the X-Ray
SDK imported and botocore patched). The time is the import plus the module's initialisation
(Settings, Logger, Tracer, Metrics, resolvers), timed inside the process; the interpreter's own
start-up is not counted. ``import boto3`` alone is timed the same way (same paths, environment and
flags): the ratio says what orgvend adds to the SDK every Python function pays anyway. So is the
floor: a handler of a few lines with boto3, Powertools' Logger, Tracer and Metrics and one pydantic
model, and no orgvend code, the least a function on this stack can import.

The time is CPU time (``time.process_time``): imports are CPU-bound, and on a shared machine the wall
time also counts the waits for a CPU (both are printed; the ratio and the goals use CPU time).

``-B``: Lambda's code and layers are read-only and a build holds no ``.pyc``, so every cold start
compiles every module it imports from source; ``-B`` keeps the interpreter from writing the
``__pycache__`` a read-only file system would not take. ``--bytecode`` compiles the build first
(``compileall``) to measure artifacts that ship their bytecode instead.

``-X importtime`` slows every import a little (it writes a line per module), the same for the handler
and the baseline; its output gives "beyond boto3": the own import time of every module ``import
boto3`` alone does not load, summed per top-level package (median over the runs).

Median of ``--repeat`` runs (default 5, env BENCH_REPEAT), the functions (of every build) interleaved,
after one warm-up round (file cache). Goals (issue 19): the API function <= 1.5x, every other function <= 1.3x.
Prints a table and the goal check; exits 1 only if a handler fails to import.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchkit import say

from orgvend_local.template import Template, parameter_overrides

PROJECT_ROOT = Path(__file__).resolve().parents[1]
API_GOAL = 1.5
FUNCTION_GOAL = 1.3
BASELINE = "import boto3"
CLIENTS_OU_ID = "ou-c01d-12345678"
# platform.machine() -> the name Lambda and SAM give the architecture.
ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
ARCHITECTURE_LINE = re.compile(r"^(\s*(?:Architectures|CompatibleArchitectures|BuildArchitecture):.*)$", re.M)

# The least a function of this stack can import: boto3, Powertools' Logger, Tracer and Metrics (as
# orgvend.observability sets them up) and one pydantic model validating the event. No orgvend code.
FLOOR = "floor: Powertools + pydantic"
FLOOR_HANDLER = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from pydantic import BaseModel

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


class Event(BaseModel):
    name: str


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    return Event.model_validate(event).model_dump()
"""

# Runs in the fresh interpreter: argv = function dir, layer dirs (os.pathsep-joined), module, attribute.
PROBE = """
import importlib, json, sys, time
function_dir, layer_dirs, module_name, attribute = sys.argv[1:5]
sys.path[:0] = [function_dir, *filter(None, layer_dirs.split(__import__("os").pathsep))]
wall, cpu = time.perf_counter(), time.process_time()
if module_name == "boto3":
    import boto3
else:
    getattr(importlib.import_module(module_name), attribute)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall": wall, "cpu": cpu, "modules": len(sys.modules)}))
"""


@dataclass
class Target:
    name: str
    function_dir: Path
    layer_dirs: list[Path]
    module: str
    attribute: str
    environment: dict[str, str]
    is_api: bool = False
    seconds: list[float] = field(default_factory=list)  # CPU
    wall_seconds: list[float] = field(default_factory=list)
    modules: int = 0
    own_import_us: list[dict[str, int]] = field(default_factory=list)  # per run: module -> self us
    failure: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_seconds)


def host_architecture() -> str:
    return ARCHITECTURES.get(platform.machine().lower(), platform.machine())


def sam_build(project: Path, build_dir: Path) -> None:
    """``sam build`` of ``project``'s template for this machine's architecture into ``build_dir``."""
    architecture = host_architecture()
    native = ARCHITECTURE_LINE.sub(
        lambda line: re.sub(r"\b(arm64|x86_64)\b", architecture, line.group(1)),
        (project / "template.yaml").read_text(),
    )
    build_dir.mkdir(parents=True, exist_ok=True)
    template = build_dir.parent / f"{build_dir.name}-source-template.yaml"
    template.write_text(native)
    venv_bin = str(Path(sys.executable).parent)
    environment = {
        **os.environ,
        # As the Makefile's build target: the venv first (sam, python3.13), pyenv's 3.13 otherwise.
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13.0"),
        "SAM_CLI_TELEMETRY": "0",
    }
    say(f"sam build of {project} for {architecture} into {build_dir} ...")
    subprocess.run(
        [
            shutil.which("sam", path=environment["PATH"]) or "sam",
            "build",
            "--template-file",
            str(template),
            "--base-dir",
            str(project),
            "--build-dir",
            str(build_dir),
            "--parallel",
        ],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )


def lambda_environment(
    template: Template, logical_id: str, properties: dict, task_root: Path
) -> dict[str, str]:
    """The variables the template gives the function, and those the Lambda runtime sets."""
    variables = template.resolve(properties.get("Environment", {}).get("Variables", {}))
    handler = properties["Handler"]
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": template.region,
        "AWS_DEFAULT_REGION": template.region,
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "start",
        "AWS_SESSION_TOKEN": "token",
        "AWS_LAMBDA_FUNCTION_NAME": template.physical_name(logical_id),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_FORMAT": properties.get("LoggingConfig", {}).get("LogFormat", "Text"),
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        **{name: str(value) for name, value in variables.items()},
    }


@dataclass
class Build:
    """One ``sam build``: its functions, and ``import boto3`` from its own layer."""

    label: str
    directory: Path
    baseline: Target
    targets: list[Target]


def load_build(directory: Path, label: str) -> Build:
    """Every enabled function of the build, with the environment the embedded AWS deploys it with.

    The parameters are samconfig.toml's ``local`` environment (those the template knows) and an OU id
    of the right shape for the Clients OU that ``make run`` creates.
    """
    path = directory / "template.yaml"
    known = Template.load(path).parameters
    overrides = {
        **parameter_overrides(PROJECT_ROOT / "samconfig.toml", "local"),
        "ClientsParentOuId": CLIENTS_OU_ID,
    }
    template = Template.load(
        path, overrides={name: value for name, value in overrides.items() if name in known}
    )
    layers = template.enabled_resources("AWS::Serverless::LayerVersion")
    targets = []
    for logical_id, resource in template.enabled_resources("AWS::Serverless::Function").items():
        properties = resource["Properties"]
        module, attribute = properties["Handler"].rsplit(".", 1)
        function_dir = directory / properties["CodeUri"]
        layer_dirs = [
            directory / layers[layer["Ref"]]["Properties"]["ContentUri"] / "python"
            for layer in properties.get("Layers", [])
            if isinstance(layer, dict) and layer.get("Ref") in layers
        ]
        events = properties.get("Events", {}).values()
        targets.append(
            Target(
                name=logical_id,
                function_dir=function_dir,
                layer_dirs=layer_dirs,
                module=module,
                attribute=attribute,
                environment=lambda_environment(template, logical_id, properties, function_dir),
                is_api=any(event.get("Type") in {"Api", "HttpApi"} for event in events),
            )
        )
    first = targets[0]
    baseline = Target(BASELINE, first.function_dir, first.layer_dirs, "boto3", "", first.environment)
    return Build(label, directory, baseline, targets)


def floor_of(build: Build, floor_dir: Path) -> Target:
    """The floor's handler, written to ``floor_dir``, on the build's layer."""
    (floor_dir / "app.py").write_text(FLOOR_HANDLER)
    first = build.targets[0]
    return Target(FLOOR, floor_dir, first.layer_dirs, "app", "handler", first.environment)


def own_import_times(importtime: str) -> dict[str, int]:
    """Module -> its own import time (us), from ``-X importtime`` output."""
    times = {}
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        times[name] = int(own)
    return times


def run(target: Target, interpreter: str, bytecode: bool) -> None:
    flags = ["-I", "-S", "-X", "importtime"] + ([] if bytecode else ["-B"])
    result = subprocess.run(
        [
            interpreter,
            *flags,
            "-c",
            PROBE,
            str(target.function_dir),
            os.pathsep.join(map(str, target.layer_dirs)),
            target.module,
            target.attribute,
        ],
        env=target.environment,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
        raised = max((index for index, line in enumerate(errors) if not line.startswith(" ")), default=0)
        target.failure = " | ".join(errors[raised : raised + 3]) or f"exit {result.returncode}"
        return
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    target.seconds.append(answer["cpu"])
    target.wall_seconds.append(answer["wall"])
    target.modules = answer["modules"]
    target.own_import_us.append(own_import_times(result.stderr))


def beyond(target: Target, baseline: Target, top: int) -> list[tuple[str, float]]:
    """The top-level packages the target imports beyond ``import boto3``: ms of their modules' own import time."""
    boto3_modules = set().union(*baseline.own_import_us)
    per_run = []
    for times in target.own_import_us:
        packages: dict[str, int] = defaultdict(int)
        for module, own in times.items():
            if module not in boto3_modules:
                packages[module.split(".")[0]] += own
        per_run.append(packages)
    names = set().union(*per_run)
    medians = {name: statistics.median(run.get(name, 0) for run in per_run) / 1000 for name in names}
    return sorted(medians.items(), key=lambda pair: -pair[1])[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, help="the sam build to measure (built into when empty)")
    parser.add_argument("--project", type=Path, default=PROJECT_ROOT, help="the tree whose template to build")
    parser.add_argument(
        "--compare-with",
        type=Path,
        action="append",
        default=[],
        help="another build (e.g. of an earlier commit) measured in the same runs, interleaved",
    )
    parser.add_argument("--build-only", action="store_true", help="build into --build-dir, measure nothing")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "5")))
    parser.add_argument(
        "--bytecode", action="store_true", help="measure compiled copies of the builds (.pyc)"
    )
    parser.add_argument("--functions", help="only these functions (logical ids, comma-separated)")
    parser.add_argument("--python", default=sys.executable, help="the Python 3.13 that runs the handlers")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="orgvend-cold-start-") as scratch:
        build_dir = options.build_dir.resolve() if options.build_dir else Path(scratch) / "build"
        if not (build_dir / "template.yaml").exists():
            sam_build(options.project.resolve(), build_dir)
        if options.build_only:
            return 0
        directories = [build_dir, *(directory.resolve() for directory in options.compare_with)]
        if options.bytecode:  # compiled copies: the builds stay as sam made them
            directories = [
                compiled_copy(directory, Path(scratch), options.python) for directory in directories
            ]
        for directory in directories:
            if not options.bytecode and any(directory.rglob("__pycache__")):
                say(f"note: {directory} holds bytecode (__pycache__): imports use it, as --bytecode would")
        labels = [build_dir.name, *(directory.name for directory in options.compare_with)]
        builds = [load_build(directory, label) for directory, label in zip(directories, labels, strict=True)]
        floor_dir = Path(scratch) / "floor"
        floor_dir.mkdir()
        return measure(builds, floor_of(builds[0], floor_dir), options)


def compiled_copy(directory: Path, scratch: Path, python: str) -> Path:
    copy = scratch / f"compiled-{len(list(scratch.glob('compiled-*')))}" / directory.name
    shutil.copytree(directory, copy)
    subprocess.run([python, "-m", "compileall", "-q", str(copy)], check=True, capture_output=True)
    return copy


def measure(builds: list[Build], floor: Target, options: argparse.Namespace) -> int:
    version = subprocess.run(
        [options.python, "-I", "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if options.functions:
        wanted = options.functions.split(",")
        for build in builds:
            build.targets = [target for target in build.targets if target.name in wanted]
    main = builds[0]
    say(
        f"{len(main.targets)} functions of {main.directory}"
        + "".join(f", {len(build.targets)} of {build.directory}" for build in builds[1:])
        + f"; {options.repeat} fresh interpreters each after a warm-up, interleaved "
        f"(Python {version}, {platform.machine()}, {'with' if options.bytecode else 'without'} bytecode)\n"
    )
    everything = [floor, *(target for build in builds for target in (build.baseline, *build.targets))]
    for target in everything:  # warm-up: the file cache, not counted
        run(target, options.python, options.bytecode)
        target.seconds.clear()
        target.wall_seconds.clear()
        target.own_import_us.clear()
    for _ in range(options.repeat):
        for target in everything:
            if not target.failure:
                run(target, options.python, options.bytecode)
    for reference in (floor, *(build.baseline for build in builds)):
        if reference.failure:
            say(f"{reference.name} FAILED: {reference.failure}")
            return 1
    failures = report(main, floor)
    if len(builds) > 1:
        compare(builds)
    return 1 if failures else 0


def report(build: Build, floor: Target) -> list[str]:
    """The table of one build, its goal check and SUMMARY line; the functions that failed to import."""
    base = build.baseline.median
    say(f"{'function':<34}{'cpu ms':>7}{'wall ms':>8}{'x boto3':>8}{'goal':>6}  top 5 beyond boto3 (ms)")
    say("-" * 120)
    say(f"{BASELINE + ' (baseline)':<34}{base * 1000:>7.0f}{build.baseline.wall * 1000:>8.0f}{1:>8.2f}")
    top = ", ".join(f"{name} {ms:.0f}" for name, ms in beyond(floor, build.baseline, 5))
    say(
        f"{FLOOR:<34}{floor.median * 1000:>7.0f}{floor.wall * 1000:>8.0f}{floor.median / base:>8.2f}{'-':>6}  {top}"
    )
    verdicts = []
    for target in build.targets:
        if target.failure:
            say(f"{target.name:<34}  FAILED: {target.failure}")
            continue
        ratio = target.median / base
        goal = API_GOAL if target.is_api else FUNCTION_GOAL
        verdicts.append((target, ratio, goal))
        top = ", ".join(f"{name} {ms:.0f}" for name, ms in beyond(target, build.baseline, 5))
        say(
            f"{target.name:<34}{target.median * 1000:>7.0f}{target.wall * 1000:>8.0f}{ratio:>8.2f}{goal:>6.1f}  {top}"
        )
    say("-" * 120)

    missed = [(target, ratio, goal) for target, ratio, goal in verdicts if ratio > goal]
    for target, ratio, goal in missed:
        say(
            f"  MISSED {target.name}: {ratio:.2f}x > {goal}x ({(target.median - goal * base) * 1000:.0f} ms over; "
            f"{(target.median - floor.median) * 1000:.0f} ms above the floor)"
        )
    ratios = [ratio for _, ratio, _ in verdicts] or [0.0]
    api = [f"{target.name} {ratio:.2f}x" for target, ratio, _ in verdicts if target.is_api]
    failures = [target.name for target in build.targets if target.failure]
    say(
        f"SUMMARY: handler import+init {min(ratios):.2f}x to {max(ratios):.2f}x '{BASELINE}' "
        f"({base * 1000:.0f} ms, median of {len(build.baseline.seconds)}); floor {floor.median / base:.2f}x; "
        f"API {', '.join(api) or '-'} (goal {API_GOAL}x); "
        f"goals met by {len(verdicts) - len(missed)} of {len(verdicts)} functions"
        + (f"; FAILED: {failures}" if failures else "")
    )
    return failures


def compare(builds: list[Build]) -> None:
    """Each function's ratio to its build's ``import boto3``, build by build (same runs, interleaved)."""
    say("\nx boto3 by build (each build's ratio to its own import boto3; '-': no such function):")
    say(f"{'function':<34}" + "".join(f"{build.label[:18]:>20}" for build in builds))
    names = list(dict.fromkeys(target.name for build in builds for target in build.targets))
    for name in names:
        cells = []
        for build in builds:
            target = next((t for t in build.targets if t.name == name and t.seconds), None)
            cells.append(
                f"{target.median * 1000:>9.0f} ms {target.median / build.baseline.median:>5.2f}x"
                if target
                else f"{'-':>20}"
            )
        say(f"{name:<34}" + "".join(cells))
    say(
        f"{BASELINE:<34}" + "".join(f"{build.baseline.median * 1000:>9.0f} ms {1:>5.2f}x" for build in builds)
    )


if __name__ == "__main__":
    sys.exit(main())
