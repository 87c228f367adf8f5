"""Refresh the API description and prepare its pull request (the refresh-spec workflow's logic).

The same steps run in ``.github/workflows/refresh-spec.yml`` (scheduled, with network) and in
``make refresh-dry-run SPEC=file`` (any machine, no network):

1. keep the current ``openapi/bundled.yaml`` as the baseline;
2. get the new description: ``make spec`` downloads it, or ``--spec-file`` takes a given file
   (checked the way ``make spec`` checks a download);
3. stop if it is byte-identical to the baseline (GitHub output ``changed=false``);
4. report what changed for SDK users (``codegen/api_diff.py``);
5. run the make targets (default ``generate test``; ``make generate`` records the report in
   CHANGELOG.md against the baseline), all of them even after a failure, so the pull request
   says what failed;
6. write the pull request's title and body and the GitHub outputs (``changed``, ``bump``,
   ``checks``, ``title``).

The workflow runs it in its checkout and opens the pull request from what it leaves there. A dry
run works in a copy of the repository (``--workdir``, default a temporary folder; ``.venv`` and
``node_modules`` are shared by symlink), so the working tree is never touched, and prints the pull
request it would open.

Exit codes: 0 done (changed or not), 1 a make target failed, 2 bad input (one line says why).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_diff import ApiDiffError, Report, compare_bytes, render_markdown

__all__ = ["Refresh", "TargetResult", "copy_repository", "main"]

ROOT = Path(__file__).resolve().parent.parent
SPEC_RELPATH = Path("openapi") / "bundled.yaml"
SHARED = (".venv", "node_modules")  # symlinked into a dry-run copy, never copied
SKIPPED = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
STAMPS = (".venv/.installed", "node_modules/.installed")  # make must not reinstall in a copy
TARGET_TIMEOUT_S = 3600.0  # one make target (the full `make test` takes ~5 min)
TAIL_LINES = 60  # lines of a failed target's output quoted in the pull request
MAX_ECHO_BYTES = 4 * 1024 * 1024  # a target's log echoed to our output, from its end


class RefreshError(Exception):
    """Bad input: the refresh cannot start (the message says what to do)."""


@dataclass(frozen=True)
class TargetResult:
    """How one make target went."""

    target: str
    ok: bool
    seconds: float
    tail: str  # the last TAIL_LINES lines of its output


def copy_repository(source: Path, dest: Path) -> None:
    """Copy the work tree (tracked and untracked files, not ignored ones) and link the tools."""
    if dest.exists() and any(dest.iterdir()):
        raise RefreshError(f"{dest} is not empty; pass an empty or new --workdir")
    dest.mkdir(parents=True, exist_ok=True)
    for rel in _work_tree_files(source):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)  # keeps mtimes: make sees the stamps as up to date
    for name in SHARED:
        if (source / name).exists():
            (dest / name).symlink_to((source / name).resolve(), target_is_directory=True)


def _work_tree_files(source: Path) -> list[Path]:
    git = shutil.which("git")
    if git and (source / ".git").exists():
        proc = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=source,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if proc.returncode == 0:
            names = [Path(n) for n in proc.stdout.decode().split("\0") if n]
            return [n for n in names if (source / n).is_file() and n.parts[0] not in SHARED]
    return [
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(source).parts) & SKIPPED)
        and p.relative_to(source).parts[0] not in SHARED
    ]


class Refresh:
    """One refresh in ``workdir``: baseline, new spec, report, make targets, pull request."""

    def __init__(self, workdir: Path, targets: list[str], *, quiet: bool = False) -> None:
        self.workdir = workdir
        self.is_copy = workdir.resolve() != ROOT
        self.targets = targets
        self.quiet = quiet
        self.spec = workdir / SPEC_RELPATH
        self._scratch = Path(tempfile.mkdtemp(prefix="getsales-refresh-"))
        self.baseline_path = self._scratch / "baseline.yaml"

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    def keep_baseline(self) -> bytes:
        """Step 1: the snapshot the refresh replaces, kept outside the work tree."""
        if not self.spec.is_file():
            raise RefreshError(f"{self.spec} is missing; run from a checkout of the repository")
        shutil.copy2(self.spec, self.baseline_path)
        return self.baseline_path.read_bytes()

    def download(self) -> bytes:
        """Step 2 (workflow): ``make spec``; it keeps the snapshot and exits 1 on failure."""
        result = self.make("spec")
        if not result.ok:
            raise RefreshError(f"make spec failed:\n{result.tail}")
        return self.spec.read_bytes()

    def install(self, data: bytes) -> bytes:
        """Step 2 (dry run): put a given, already checked description in place."""
        self.spec.write_bytes(data)
        return data

    def report(self, old: bytes, new: bytes) -> Report:
        """Step 4: what changed for SDK users."""
        try:
            return compare_bytes("baseline", old, "refreshed", new)
        except ApiDiffError as exc:
            raise RefreshError(str(exc)) from exc

    def run_targets(self) -> list[TargetResult]:
        """Step 5: every target, in order, even after a failure."""
        return [self.make(target) for target in self.targets]

    def make(self, target: str) -> TargetResult:
        """Run ``make <target>`` in the work dir with its output in a log; echo it unless quiet."""
        cmd = ["make", "--no-print-directory", target, f"API_BASELINE={self.baseline_path}"]
        # a make of its own: not a sub-make of whatever make runs us (no jobserver, no flags)
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        if self.is_copy:  # shared tools stay as installed; the copy's package, not the original
            cmd += [f"--old-file={stamp}" for stamp in STAMPS]
            env["PYTHONPATH"] = str(self.workdir)
        log_path = self._scratch / f"make-{target}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=TARGET_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code = -1
        seconds = time.monotonic() - started
        text = _tail_bytes(log_path, MAX_ECHO_BYTES)
        if code == -1:
            text += f"\n(make {target} ran over {TARGET_TIMEOUT_S:.0f} s and was stopped)\n"
        if not self.quiet:
            print(f"::group::make {target}\n{text}\n::endgroup::", flush=True)
        tail = "\n".join(text.splitlines()[-TAIL_LINES:])
        return TargetResult(target, code == 0, seconds, tail)


def read_spec_file(path: Path) -> bytes:
    """A dry run's description, checked the way ``make spec`` checks a download."""
    from pull import MAX_BYTES, PullError, check

    if not path.is_file():
        raise RefreshError(f"{path}: no such file; pass the bundle to try with SPEC=path")
    if path.stat().st_size > MAX_BYTES:
        raise RefreshError(f"{path}: larger than {MAX_BYTES >> 20} MiB; not an API description?")
    data = path.read_bytes()
    try:
        check(data, str(path))
    except PullError as exc:
        raise RefreshError(str(exc).replace("; the current snapshot was kept", "")) from exc
    return data


def _tail_bytes(path: Path, limit: int) -> str:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - limit))
        return fh.read().decode(errors="replace")


def pull_request(report: Report, results: list[TargetResult]) -> tuple[str, str]:
    """Step 6: the pull request's title and Markdown body."""
    ok = all(r.ok for r in results)
    counts = f"{report.count('breaking')} breaking, {report.count('non-breaking')} non-breaking"
    title = f"API refresh: {report.bump} bump ({counts})"
    if not ok:
        title = f"[checks failing] {title}"
    lines = [
        "The scheduled refresh found a new GetSales API description. This pull request carries the",
        "new `openapi/bundled.yaml`, the regenerated SDK and the CHANGELOG.md entry below.",
        "",
        render_markdown(report, level=3, labels=False).rstrip("\n"),
        "",
        "### Checks",
        "",
        "| make target | result | time |",
        "|---|---|---|",
        *[
            f"| `{r.target}` | {'passed' if r.ok else '**failed**'} | {r.seconds:.0f} s |"
            for r in results
        ],
        "",
    ]
    for r in results:
        if not r.ok:
            lines += [f"<details><summary>make {r.target}: last lines</summary>", "", "```"]
            lines += [r.tail.replace("```", "'''"), "```", "", "</details>", ""]
    lines += [
        "Before merging: read the breaking changes, fix what failed (overrides/, codegen/), and",
        'bump the version as CHANGELOG.md\'s "Unreleased" section says.',
    ]
    return title, "\n".join(lines) + "\n"


def write_outputs(path: Path | None, values: dict[str, str]) -> None:
    """Append ``key=value`` lines to the GitHub Actions output file, if any."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as fh:
        for key, value in values.items():
            fh.write(f"{key}={value.replace(chr(10), ' ')}\n")


def run(args: argparse.Namespace) -> int:
    """The six steps; returns the exit code. Bad input fails before anything is copied."""
    given = read_spec_file(Path(args.spec_file)) if args.spec_file else None
    if given is not None and given == (ROOT / SPEC_RELPATH).read_bytes():
        return unchanged(args)  # a copy would have the same baseline: no need to make one
    temporary = None
    if args.workdir:
        workdir = Path(args.workdir)
    elif given is not None:  # a dry run never touches the working tree
        temporary = Path(tempfile.mkdtemp(prefix="getsales-refresh-copy-"))
        workdir = temporary / "repo"
    else:
        workdir = ROOT
    refresh = Refresh(workdir, args.targets.split(), quiet=args.quiet)
    outcome = None
    try:
        if refresh.is_copy:
            copy_repository(ROOT, workdir)
        old = refresh.keep_baseline()
        new = refresh.install(given) if given is not None else refresh.download()
        if new == old:
            return unchanged(args)
        outcome = refresh.report(old, new), refresh.run_targets()
    finally:
        refresh.close()
        if temporary is not None and outcome is None:
            shutil.rmtree(temporary, ignore_errors=True)
    return finish(args, refresh, *outcome)


def unchanged(args: argparse.Namespace) -> int:
    """Step 3: nothing changed upstream; say so and stop."""
    print("refresh: the API description is unchanged; nothing to do")
    write_outputs(args.github_output, {"changed": "false"})
    return 0


def finish(
    args: argparse.Namespace, refresh: Refresh, report: Report, results: list[TargetResult]
) -> int:
    """Write (or print) the pull request and the GitHub outputs; exit 1 if a target failed."""
    title, body = pull_request(report, results)
    checks = "passed" if all(r.ok for r in results) else "failed"
    if args.pr_body is not None:
        Path(args.pr_body).write_text(body, encoding="utf-8")
    else:
        print(f"\n# {title}\n\n{body}")
    write_outputs(
        args.github_output,
        {"changed": "true", "bump": str(report.bump), "checks": checks, "title": title},
    )
    where = f" (in the copy {refresh.workdir}; delete it when done)" if refresh.is_copy else ""
    print(f"refresh: {title}{where}")
    return 0 if checks == "passed" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh the API description (workflow logic).")
    parser.add_argument("--spec-file", help="dry run: use this file instead of downloading")
    parser.add_argument("--workdir", help="work in a copy of the repository made here")
    parser.add_argument("--targets", default="generate test", help="make targets to run")
    parser.add_argument("--pr-body", help="write the pull request body here (else print it)")
    parser.add_argument("--github-output", type=Path, help="GitHub Actions output file")
    parser.add_argument("--quiet", action="store_true", help="do not echo the make output")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except RefreshError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        write_outputs(args.github_output, {"changed": "false", "checks": "error"})
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
