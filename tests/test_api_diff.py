"""The API report: a sample upstream change through the pinned differ, classified for SDK users."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .api_change_sample import EXPECTED, SMALL_EXPECTED, small_pair, write_pair
from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

import api_diff
import normalize
from api_classify import Finding
from api_diff import ApiDiffError, Report


def require_differ() -> None:
    """Skip without Node.js; fail (saying what to run) when the pinned differ is not installed."""
    if shutil.which("node") is None:
        pytest.skip("the API differ needs Node.js; install it, then run `make node`")
    if not (ROOT / "node_modules" / "api-smart-diff").is_dir():
        pytest.fail("node_modules/api-smart-diff is missing; run `make node` (npm ci)")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample upstream change written as two YAML files."""
    return write_pair(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def report(sample: tuple[Path, Path]) -> Report:
    """The report for the sample change, computed once."""
    require_differ()
    return api_diff.compare(*sample)


def triples(report: Report) -> list[tuple[str, str, str]]:
    return [(c.level, c.subject, c.message) for c in report.changes]


class TestSampleUpstreamChange:
    @pytest.mark.parametrize(("level", "subject", "message"), EXPECTED)
    def test_each_change_is_classified_for_sdk_users(
        self, report: Report, level: str, subject: str, message: str
    ) -> None:
        """Operation added/removed, field removed, newly required, enum added, type changed."""
        assert (level, subject, message) in triples(report)

    def test_nothing_else_is_reported(self, report: Report) -> None:
        """No false alarms: the report has exactly the sample's changes."""
        assert sorted(triples(report)) == sorted(EXPECTED)

    def test_bump_is_major_when_anything_breaks(self, report: Report) -> None:
        """One breaking change makes the whole refresh a major bump."""
        assert report.bump == "major"
        assert (report.count("breaking"), report.count("non-breaking"), report.count("docs")) == (
            5,
            5,
            1,
        )

    def test_operations_are_listed_as_added_removed_and_changed(self, report: Report) -> None:
        """The summary names operations by their SDK methods."""
        assert report.added == ("client.leads.archive()",)
        assert report.removed == ("client.teams.get()",)
        assert "client.leads.upsert()" in report.changed
        assert "client.teams.get()" not in report.changed

    def test_a_model_change_names_every_operation_it_reaches(self, report: Report) -> None:
        """`Lead.about` is reported once, with the methods whose results lose it."""
        about = next(c for c in report.changes if c.subject == "Lead.about")
        assert about.operations == (
            "client.leads.get()",
            "client.leads.lookup()",
            "client.leads.search()",
            "client.leads.update()",
            "client.leads.upsert()",
        )

    def test_markdown_groups_changes_by_level_with_the_bump(self, report: Report) -> None:
        """Breaking changes come first, under their heading; the bump is stated up front."""
        text = api_diff.render_markdown(report)
        assert "Semver bump implied: **major** (5 breaking, 5 non-breaking, 1 docs-only" in text
        breaking = text.index("#### Breaking")
        assert breaking < text.index("#### Non-breaking") < text.index("#### Documentation only")
        assert text.index("- `client.teams.get()`: operation removed") > breaking
        assert "api-smart-diff@1.0.6" in text


class TestReport:
    def test_values_of_one_enum_are_reported_on_one_line(self) -> None:
        """Several values added to the same enum in the same operations read as one change."""
        message = "response enum value `{}` added; response enums are open"
        findings = [
            Finding("non-breaking", "Lead.status", message.format(v), "client.leads.get()")
            for v in ("b", "a")
        ]
        findings.append(Finding("breaking", "Lead.status", "response enum value `c` removed", None))
        report = api_diff.build_report("old", "new", ("0" * 64, "1" * 64), "t", findings)
        assert [(c.level, c.message) for c in report.changes] == [
            ("breaking", "response enum value `c` removed"),
            ("non-breaking", "response enum values `a`, `b` added; response enums are open"),
        ]

    def test_bump_follows_the_most_severe_change(self) -> None:
        """major for breaking, minor for additions, patch for text, None for nothing."""
        shas = ("0" * 64, "1" * 64)

        def bump(*levels: str) -> str | None:
            found = [Finding(lv, f"s{i}", "m", None) for i, lv in enumerate(levels)]
            return api_diff.build_report("o", "n", shas, "t", found).bump

        assert (bump("docs", "breaking"), bump("non-breaking", "docs"), bump("docs"), bump()) == (
            "major",
            "minor",
            "patch",
            None,
        )


class TestEveryRuleThroughTheDiffer:
    def test_small_api_changes_are_classified_as_the_table_says(self, tmp_path: Path) -> None:
        """The differ's paths for each kind of change reach the intended rule."""
        require_differ()
        old, new = (tmp_path / "old.json", tmp_path / "new.json")
        for path, doc in zip((old, new), small_pair(), strict=True):
            path.write_text(json.dumps(doc), encoding="utf-8")
        got = triples(api_diff.compare(old, new))
        assert sorted(got) == sorted(SMALL_EXPECTED)


def rule_future_generator_typing(doc: dict[str, Any], log: Any) -> None:
    """Stand-in for a new generator-only normaliser rule: rewrites required lists, copies schemas."""
    schemas = doc["components"]["schemas"]
    for schema_name in list(schemas):
        props = schemas[schema_name].get("properties") or {}
        schemas[schema_name]["required"] = sorted(props)
        for sub in props.values():
            sub["nullable"] = True
        schemas[f"{schema_name}-param"] = copy.deepcopy(schemas[schema_name])


class TestNormaliserIndependence:
    def test_every_normaliser_rule_is_either_applied_or_left_to_the_generator(self) -> None:
        """A new rule in codegen/normalize.py is placed on purpose: API_RULES or GENERATOR_RULES."""
        rules = {rule.__name__ for rule in normalize.RULES}
        placed = api_diff.API_RULES | api_diff.GENERATOR_RULES
        assert not api_diff.API_RULES & api_diff.GENERATOR_RULES
        assert rules == placed, (
            f"place {sorted(rules - placed)} in codegen/api_diff.py: API_RULES if it changes what "
            "users see (names, equivalent spellings), else GENERATOR_RULES"
        )

    def test_a_normaliser_only_change_reports_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A new generator rule adds nothing: same API, nothing reported; a real change, as before."""
        require_differ()
        monkeypatch.setattr(normalize, "RULES", [*normalize.RULES, rule_future_generator_typing])
        before, after = small_pair()
        files = [tmp_path / "old.json", tmp_path / "same.yaml", tmp_path / "new.json"]
        files[0].write_text(json.dumps(before), encoding="utf-8")
        files[1].write_text(yaml.safe_dump(before, sort_keys=True), encoding="utf-8")
        files[2].write_text(json.dumps(after), encoding="utf-8")
        same = api_diff.compare(files[0], files[1])
        assert same.old_sha256 != same.new_sha256  # the differ ran: different bytes, same API
        assert (same.changes, same.bump) == ((), None)
        assert sorted(triples(api_diff.compare(files[0], files[2]))) == sorted(SMALL_EXPECTED)

    def test_validation_only_rules_keep_the_descriptions_of_the_api(self) -> None:
        """Validation-only anyOf rules are compared as rules; the text the normaliser adds is not."""
        doc, _ = small_pair()
        doc["components"]["schemas"]["thing-input"]["anyOf"] = [
            {"required": ["size"]},
            {"required": ["kind"]},
        ]
        schema = api_diff.normalize_for_report(doc)["components"]["schemas"]["thing-input"]
        assert schema["x-getsales-required-alternatives"] == {"anyOf": [["size"], ["kind"]]}
        assert "description" not in schema and "anyOf" not in schema


class TestMethodNames:
    @staticmethod
    def things(*operation_ids: str) -> dict[str, Any]:
        paths = {
            f"/things/{op}": {"delete": {"operationId": op, "tags": ["Things"]}}
            for op in operation_ids
        }
        return {"openapi": "3.0.3", "paths": paths}

    def test_operations_are_named_with_the_generators_collision_rule(self) -> None:
        """Two operations deriving the same name: the shorter operationId keeps it, as generated."""
        doc = self.things("deleteThings", "deleteThing")
        namer = api_diff.method_namer(doc)
        ops = doc["paths"]
        assert namer(ops["/things/deleteThing"]["delete"]) == "client.things.delete"
        assert namer(ops["/things/deleteThings"]["delete"]) == "client.things.delete_things"

    def test_method_renamed_by_a_new_collision_is_breaking(self) -> None:
        """An added operation that takes an existing method's name renames that method."""
        old, new = self.things("deleteThings"), self.things("deleteThings", "deleteThing")
        found = api_diff.renamed_methods(old, new, api_diff.method_namer(old, new))
        assert found == [
            Finding(
                "breaking",
                "client.things.delete()",
                "method renamed to `client.things.delete_things()`",
                "client.things.delete_things()",
            )
        ]


class TestCommandLine:
    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "codegen" / "api_diff.py"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def test_json_report_and_fail_on_breaking(self, tmp_path: Path) -> None:
        """`--format json` is machine-readable; `--fail-on-breaking` exits 3 on a breaking change."""
        require_differ()
        old, _ = small_pair()
        new = {**old, "paths": {k: v for k, v in old["paths"].items() if k != "/gadgets"}}
        files = [tmp_path / "old.json", tmp_path / "new.json"]
        for path, doc in zip(files, (old, new), strict=True):
            path.write_text(json.dumps(doc), encoding="utf-8")
        proc = self.run(*map(str, files), "--format", "json", "--fail-on-breaking")
        assert proc.returncode == 3, proc.stderr
        data = json.loads(proc.stdout)
        assert (data["bump"], data["counts"]["breaking"]) == ("major", 2)
        assert data["operations"]["removed"] == [
            "client.things.add_gadget()",
            "client.things.list_gadgets()",
        ]
        assert self.run(*map(str, files)).returncode == 0  # without the flag: a report, exit 0

    def test_identical_files_report_no_changes(self, tmp_path: Path) -> None:
        """Byte-identical descriptions need no differ and print "No API changes"."""
        spec = ROOT / "openapi" / "bundled.yaml"
        proc = self.run(str(spec), str(spec), "--fail-on-breaking")
        assert proc.returncode == 0
        assert "No API changes." in proc.stdout

    def test_missing_file_is_one_clear_line(self, tmp_path: Path) -> None:
        """Bad input: exit 1 and one line that says what to pass."""
        proc = self.run(str(tmp_path / "nope.yaml"), str(ROOT / "openapi" / "bundled.yaml"))
        assert proc.returncode == 1
        assert proc.stderr.strip().count("\n") == 0
        assert "no such file; pass an OpenAPI description" in proc.stderr


class TestSources:
    def test_git_revision_reads_the_committed_snapshot(self) -> None:
        """`git:HEAD` is openapi/bundled.yaml as committed."""
        if shutil.which("git") is None or not (ROOT / ".git").exists():
            pytest.skip("not a git checkout")
        label, data = api_diff.read_source("git:HEAD")
        assert label == "git:HEAD"
        assert "openapi" in api_diff.parse(label, data)

    def test_unknown_git_revision_is_refused(self) -> None:
        """A revision git cannot resolve is an error with git's reason."""
        if shutil.which("git") is None or not (ROOT / ".git").exists():
            pytest.skip("not a git checkout")
        with pytest.raises(ApiDiffError, match=r"cannot read openapi/bundled\.yaml at no-such-rev"):
            api_diff.read_source("git:no-such-rev")

    @pytest.mark.parametrize("text", [b"a: 1\n", b"- [unclosed\n", b"paths: [1, 2]\n"])
    def test_non_openapi_input_is_refused(self, text: bytes) -> None:
        """Only a mapping with `paths` is compared."""
        with pytest.raises(ApiDiffError, match=r"x\.yaml: not"):
            api_diff.parse("x.yaml", text)

    def test_oversized_input_is_refused(self, tmp_path: Path) -> None:
        """A file beyond the size bound is not read."""
        big = tmp_path / "big.yaml"
        with big.open("wb") as fh:
            fh.truncate(api_diff.MAX_SPEC_BYTES + 1)
        with pytest.raises(ApiDiffError, match="larger than 32 MiB"):
            api_diff.read_source(big)
