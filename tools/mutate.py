"""Mutation testing of one core module against the tests that guard it (``./dev mutate``).

mutmut reads its settings from ``pyproject.toml`` in the directory it runs in and mutates
every function it finds there, so each core gets its own scratch copy of the repository,
``.mutants/<core>/``, whose ``[tool.mutmut]`` names only that module and only its guarding
tests (``[tool.giliran.mutate.<core>]``). The copy keeps mutmut's cache while only the
module changes (mutmut then re-tests the functions that changed); any other change starts
afresh. Not part of ``./dev test``: a run takes minutes to an hour on two shared cores.

    python tools/mutate.py rules            # mutate giliran/rules.py, print score and survivors
    python tools/mutate.py --list           # the cores and their guarding tests
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutants"
# mutmut's result names; a timeout is a mutant the tests stopped (e.g. an endless loop).
DETECTED = {"killed", "timeout", "caught by type check"}


def cores(pyproject: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    """The ``[tool.giliran.mutate.<core>]`` tables: module to mutate and its guarding tests."""
    return dict(pyproject["tool"]["giliran"]["mutate"])


def scratch_pyproject(text: str, module: str, tests: list[str]) -> str:
    """pyproject.toml for the scratch copy: the shared [tool.mutmut] plus this core's module and tests."""
    # mutmut reads only [tool.mutmut]: the two per-core keys go right after its header.
    header = "[tool.mutmut]\n"
    if header not in text:
        raise SystemExit("pyproject.toml has no [tool.mutmut] table")
    keys = f"only_mutate = [{module!r}]\npytest_add_cli_args_test_selection = {tests!r}\n"
    return text.replace(header, header + keys.replace("'", '"'), 1)


def sync_copy(dest: Path, module: str) -> None:
    """Copy the working tree's files (tracked and new, not ignored) into ``dest``, keeping mtimes.

    mutmut re-tests the mutants of a function that changed, but keeps its verdicts when only
    the tests (or other modules) changed: then its results are thrown away, so a score always
    reflects the tests as they are now.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    wanted = {p for p in listed if p and (ROOT / p).is_file()}
    digest = hashlib.sha256()
    for rel in sorted(wanted - {module}):
        digest.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    stamp = dest / "inputs.sha256"
    if not stamp.exists() or stamp.read_text() != digest.hexdigest():
        shutil.rmtree(dest / "mutants", ignore_errors=True)
        stamp.write_text(digest.hexdigest())
    for rel in wanted:
        src, dst = ROOT / rel, dest / rel
        if dst.exists() and filecmp.cmp(src, dst, shallow=False):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    for path in list(dest.rglob("*")):
        rel = path.relative_to(dest).as_posix()
        if rel.split("/", 1)[0] in ("mutants", ".hypothesis", ".pytest_cache") or "__pycache__" in rel:
            continue
        if path.is_file() and rel not in wanted and rel not in ("pyproject.toml", "inputs.sha256", "mutmut.log"):
            path.unlink()


def score(results: str) -> tuple[Counter[str], list[str]]:
    """Tally of mutmut statuses and the names of undetected mutants, from ``mutmut results --all true``."""
    tally: Counter[str] = Counter()
    undetected = []
    for line in results.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if not match:
            continue
        name, status = match.groups()
        tally[status] += 1
        if status not in DETECTED:
            undetected.append(f"{name}: {status}")
    return tally, undetected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("core", nargs="?", help="a core named in [tool.giliran.mutate] of pyproject.toml")
    parser.add_argument("--list", action="store_true", help="list the cores and their guarding tests")
    parser.add_argument("--children", type=int, default=int(os.environ.get("MUTATE_CHILDREN", "1")),
                        help="mutants tested at once (default 1, or $MUTATE_CHILDREN)")
    args = parser.parse_args(argv)
    text = (ROOT / "pyproject.toml").read_text()
    table = cores(tomllib.loads(text))
    if args.list or not args.core:
        for name, core in table.items():
            print(f"{name:10} {core['module']:22} {' '.join(core['tests'])}")
        return 0 if args.list else 2
    if args.core not in table:
        print(f"unknown core {args.core!r}; one of: {', '.join(table)}", file=sys.stderr)
        return 2
    core = table[args.core]
    dest = SCRATCH / args.core
    dest.mkdir(parents=True, exist_ok=True)
    sync_copy(dest, core["module"])
    wanted = scratch_pyproject(text, core["module"], core["tests"])
    if not (dest / "pyproject.toml").exists() or (dest / "pyproject.toml").read_text() != wanted:
        (dest / "pyproject.toml").write_text(wanted)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    command = [mutmut, "run", "--max-children", str(args.children)]
    if sys.stdout.isatty():
        run = subprocess.run(command, cwd=dest)
        where = "above"
    else:  # mutmut's progress spinner is noise in a log: keep it in a file
        log = dest / "mutmut.log"
        with log.open("w") as out:
            run = subprocess.run(command, cwd=dest, stdout=out, stderr=subprocess.STDOUT)
        where = f"in {log.relative_to(ROOT)}"
    if run.returncode != 0:
        print(f"mutmut run failed (exit {run.returncode}); its output is {where}", file=sys.stderr)
        return 1
    results = subprocess.run([mutmut, "results", "--all", "true"], cwd=dest, check=True,
                             capture_output=True, text=True).stdout
    tally, undetected = score(results)
    total = sum(tally.values())
    detected = sum(n for status, n in tally.items() if status in DETECTED)
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(tally.items()))
    print(f"\n{core['module']}: {total} mutants, {detected} detected, "
          f"score {100.0 * detected / max(total, 1):.1f} %  ({statuses})")
    for line in undetected:
        print(f"  {line}")
    if undetected:
        print(f"see one: (cd {dest.relative_to(ROOT)} && {mutmut} show NAME)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
