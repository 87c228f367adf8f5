"""Typing: a realistic user program type-checks with ``mypy --strict`` against the public API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

USER_SCRIPT = ROOT / "tests" / "typing" / "user_script.py"
RESPONSE_TYPES_SCRIPT = ROOT / "tests" / "typing" / "response_types.py"


def run_mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class TestUserScript:
    def test_user_script_passes_mypy_strict(self) -> None:
        """tests/typing/user_script.py (client, resources, paginators, errors, models) is clean."""
        result = run_mypy(USER_SCRIPT)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_mypy_rejects_a_misuse_of_the_public_types(self, tmp_path: Path) -> None:
        """The check has teeth: wrong uses of page, raw response and method types are errors."""
        script = tmp_path / "misuse.py"
        script.write_text(
            "from getsales_async import AsyncGetSales\n"
            "\n"
            "async def misuse(client: AsyncGetSales) -> None:\n"
            "    page = await client.leads.search()\n"
            "    total: str = page.total\n"
            "    raw = await client.tags.with_raw_response.create(name='x')\n"
            "    code: str = raw.status_code\n"
            "    await client.leads.get(uuid=1)\n"
            "    client.leads.search(filter=3)\n",
            encoding="utf-8",
        )
        result = run_mypy(script)
        assert result.returncode == 1, result.stdout + result.stderr
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert [line.split(":")[1] for line in errors] == ["5", "7", "8", "9"], result.stdout

    def test_values_users_hold_type_check(self, tmp_path: Path) -> None:
        """UUIDs, dates and request options as a dict type-check; a misspelt option key does not."""
        script = tmp_path / "held.py"
        script.write_text(
            "import datetime\n"
            "import uuid\n"
            "\n"
            "from getsales_async import AsyncGetSales, RequestOptionsDict\n"
            "\n"
            "\n"
            "async def held(client: AsyncGetSales) -> None:\n"
            "    ident = uuid.uuid4()\n"
            "    await client.lists.get(ident, request_options={'timeout': 5.0, 'max_retries': 0})\n"
            "    await client.flows.get_metrics(uuids=[ident, 'f2'])\n"
            "    await client.leads.upsert(lead={'linkedin_id': 'x'}, list_uuid=ident)\n"
            "    await client.tasks.get_schedule(sender_profile_uuid=ident, date=datetime.date.today())\n"
            "    options: RequestOptionsDict = {'deadline': 30.0}\n"
            "    await client.tags.delete(ident, request_options=options)\n"
            "    await client.lists.get(ident, request_options={'timout': 5})\n",
            encoding="utf-8",
        )
        result = run_mypy(script)
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert [line.split(":")[1] for line in errors] == ["15"], result.stdout


class TestResponseTypes:
    def test_ids_and_optional_fields_need_no_narrowing(self) -> None:
        """tests/typing/response_types.py (ids passed straight through, `if lead.name:`) is clean."""
        result = run_mypy(RESPONSE_TYPES_SCRIPT)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_mypy_still_flags_an_unchecked_optional_field(self, tmp_path: Path) -> None:
        """The types are honest: an optional field is `X | None`, an identifier is not optional."""
        script = tmp_path / "optional.py"
        script.write_text(
            "from getsales_async.models import Lead, Team\n"
            "\n"
            "def use(lead: Lead, team: Team) -> None:\n"
            "    ok: str = lead.uuid\n"
            "    also_ok: int = team.id\n"
            "    lead.name.upper()\n"
            "    wrong: str = team.id\n",
            encoding="utf-8",
        )
        result = run_mypy(script)
        assert result.returncode == 1, result.stdout + result.stderr
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert [line.split(":")[1] for line in errors] == ["6", "7"], result.stdout
