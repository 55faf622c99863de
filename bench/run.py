"""Runs every benchmark under bench/ and writes docs/benchmarks.md.

Each module `bench/bench_<name>.py` exposes `run(quick: bool) -> str`, returning one Markdown section
(starting with a `## ` heading) in which every figure stands beside the baseline it was measured
against in the same run. Medians and ratios, never single timings: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

import bench


def machine_description() -> str:
    """Describes the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the selected benchmarks and writes the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--out", default="docs/benchmarks.md")
    args = parser.parse_args(argv)

    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if args.names:
        modules = [m for m in modules if m.removeprefix("bench_") in args.names or m in args.names]
    sections = []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        section = module.run(quick=args.quick).strip()
        # Each section carries its own run: sections are refreshed one at a time.
        heading, _, body = section.partition("\n")
        stamp = f"_Run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {'quick' if args.quick else 'full'} mode._"
        sections.append(f"{heading}\n\n{stamp}\n{body}")
        print(f"  {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    out = Path(args.out)
    if args.names and out.exists():
        # Partial run: replace only the sections that were run, keep the others.
        kept = _split_sections(out.read_text())
        for section in sections:
            kept[section.splitlines()[0]] = section
        sections = list(kept.values())
    header = (
        "# Benchmarks\n\n"
        "Written by `nox -s bench` (`python -m bench.run`). Every figure stands beside its baseline,"
        " measured in the same run on the same machine; quoted as medians and ratios.\n\n"
        f"- Machine: {machine_description()}\n"
        "- Each section says when it was run and in which mode (`--quick`: smaller sizes).\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _split_sections(text: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            if current:
                sections[current[0]] = "\n".join(current).strip()
            current = [line]
        elif current:
            current.append(line)
    if current:
        sections[current[0]] = "\n".join(current).strip()
    return sections


if __name__ == "__main__":
    raise SystemExit(main())
