"""Cold-start import cost of each function's handler module, as a ratio to ``import boto3`` alone.

Run: .venv/bin/python bench/bench_cold_start.py   (env BENCH_REPEAT: repetitions, default 5)

For every AWS::Serverless::Function of template.yaml (CodeUri + Handler, SAM Globals merged),
a fresh interpreter imports the handler module by file path, as the Lambda runtime does, and
looks the handler up: the module's import and its module-level initialisation (Powertools
Logger/Tracer/Metrics, settings, resolvers). Its environment is the function's, resolved from
the template by orgvend_local.template.Template, plus what the Lambda runtime sets (function
name, memory, region): so Powertools' Tracer is on, as in AWS (Tracing: Active), and the X-Ray
SDK is imported and patches botocore, part of a real cold start. In the same run and the same
way, ``import boto3`` alone is timed: the ratio says what orgvend adds to the SDK every Python
function pays anyway. Median of BENCH_REPEAT runs, the functions interleaved.

The interpreter's own start-up is not counted. Exits 1 if a handler fails to import.
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchkit import say

from orgvend_local.template import Template

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
PROBE = """
import importlib.util, json, sys, time
path, attribute = sys.argv[1], sys.argv[2]
began = time.perf_counter()
if path == "boto3":
    import boto3
else:
    spec = importlib.util.spec_from_file_location("app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, attribute)
print(json.dumps({"seconds": time.perf_counter() - began, "modules": len(sys.modules)}))
"""


def lambda_environment(template: Template, logical_id: str, properties: dict) -> dict[str, str]:
    variables = template.resolve(properties.get("Environment", {}).get("Variables", {}))
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "AWS_REGION": template.region,
        "AWS_DEFAULT_REGION": template.region,
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "start",
        "AWS_LAMBDA_FUNCTION_NAME": template.physical_name(logical_id),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        **{name: str(value) for name, value in variables.items()},
    }


def probe(
    target: str, attribute: str, environment: dict[str, str], *extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *extra, "-c", PROBE, target, attribute],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def heaviest_imports(stderr: str, top: int) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time, from ``-X importtime`` output."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if name == name.lstrip():  # not indented: imported by the handler module itself
            package = name.split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(cumulative) / 1e6
    return sorted(totals.items(), key=lambda pair: -pair[1])[:top]


def main() -> int:
    template = Template.load()
    functions = template.enabled_resources("AWS::Serverless::Function")
    targets: dict[str, tuple[str, str, dict[str, str]]] = {}
    for logical_id, resource in functions.items():
        properties = resource["Properties"]
        module, attribute = properties["Handler"].rsplit(".", 1)
        path = Path(template.root) / properties["CodeUri"] / (module.replace(".", "/") + ".py")
        targets[logical_id] = (str(path), attribute, lambda_environment(template, logical_id, properties))
    baseline_environment = next(iter(targets.values()))[2]
    say(f"{len(targets)} handlers of template.yaml, {REPEAT} fresh interpreters each ({sys.executable})\n")

    seconds: dict[str, list[float]] = {name: [] for name in ["boto3", *targets]}
    modules: dict[str, int] = {}
    failures: dict[str, str] = {}
    for _ in range(REPEAT):
        for name, timings in seconds.items():
            path, attribute, environment = (
                ("boto3", "", baseline_environment) if name == "boto3" else targets[name]
            )
            result = probe(path, attribute, environment)
            if result.returncode != 0:
                failures[name] = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
                continue
            answer = json.loads(result.stdout.strip().splitlines()[-1])
            timings.append(answer["seconds"])
            modules[name] = answer["modules"]

    base = statistics.median(seconds["boto3"])
    say(f"{'handler module':<34}{'median s':>10}{'min s':>8}{'x boto3':>9}{'modules':>9}")
    say("-" * 70)
    say(
        f"{'import boto3 (baseline)':<34}{base:>10.3f}{min(seconds['boto3']):>8.3f}{1.0:>9.2f}{modules['boto3']:>9}"
    )
    ratios = {}
    for name in targets:
        if name in failures:
            say(f"{name:<34}  FAILED: {failures[name]}")
            continue
        median = statistics.median(seconds[name])
        ratios[name] = median / base
        say(f"{name:<34}{median:>10.3f}{min(seconds[name]):>8.3f}{ratios[name]:>9.2f}{modules[name]:>9}")
    say("-" * 70)

    heaviest = max(ratios, key=lambda name: ratios[name])
    path, attribute, environment = targets[heaviest]
    traced = probe(path, attribute, environment, "-X", "importtime")
    ranked = heaviest_imports(traced.stderr, 100)
    traced_total = sum(cumulative for _, cumulative in ranked) or 1.0
    say(
        f"\nwhere {heaviest}'s import time goes (-X importtime, one run, which slows imports down: "
        f"shares of the traced total, per top-level package, nested imports included):"
    )
    for package, cumulative in ranked[:8]:
        say(f"  {package:<32}{cumulative / traced_total:>6.0%}")
    untraced = probe(path, attribute, {**environment, "POWERTOOLS_TRACE_DISABLED": "true"})
    if untraced.returncode == 0:
        without = json.loads(untraced.stdout.strip().splitlines()[-1])["seconds"]
        say(f"  the same with POWERTOOLS_TRACE_DISABLED=true (no X-Ray SDK): {without:.3f} s (one run)")

    lightest = min(ratios, key=lambda name: ratios[name])
    say(
        f"SUMMARY: handler import+init {min(ratios.values()):.2f}x to {max(ratios.values()):.2f}x "
        f"'import boto3' ({base:.3f} s, median of {REPEAT}); heaviest {heaviest} "
        f"{statistics.median(seconds[heaviest]):.3f} s, lightest {lightest} {statistics.median(seconds[lightest]):.3f} s"
        + (f"; FAILED: {sorted(failures)}" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
