"""The emulator's CSV upload and file imports, over raw HTTP: preview, shapes, rules, batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from getsales_async.testing import BulkConfig, GetSalesEmulator, VirtualClock
from getsales_async.testing.emulator import DEFAULT_API_KEY
from getsales_async.testing.emulator._multipart import parse_multipart

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
UPLOAD = "/leads/api/file-imports/upload-csv"
PART = b'\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x'
CSV = "First Name,E-mail,LinkedIn URL,Company\n" + "".join(
    f"Ann {i},ann{i}@x.io,https://www.linkedin.com/in/ann-{i},Acme\n" for i in range(12)
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    clock = VirtualClock()
    async with clock.autojump():
        yield clock


class Api:
    """Raw HTTP on an emulator, with a list to import into."""

    def __init__(self, emulator: GetSalesEmulator, http: httpx.AsyncClient) -> None:
        self.emulator = emulator
        self.http = http
        self.list_uuid = ""

    async def upload(self, text: str | bytes, kind: str = "csv_leads") -> httpx.Response:
        data = text.encode() if isinstance(text, str) else text
        files = {"file": ("in.csv", data, "text/csv")}
        return await self.http.post(UPLOAD, files=files, data={"type": kind})

    async def start(
        self, upload_uuid: str, body: dict[str, Any], kind: str = "leads"
    ) -> httpx.Response:
        return await self.http.post(
            f"/leads/api/file-imports/{upload_uuid}/import-{kind}", json=body
        )

    async def count(self) -> int:
        answer = await self.http.post("/leads/api/leads/count", json={"filter": {}})
        return int(answer.json()["total"])


@asynccontextmanager
async def api_for(clock: VirtualClock, bulk: BulkConfig | None = None) -> AsyncIterator[Api]:
    """Raw HTTP on a fresh emulator (with ``bulk``), and a list to import into."""
    emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
    async with httpx.AsyncClient(
        base_url="http://emulator", transport=emulator.transport(), headers=AUTH
    ) as http:
        api = Api(emulator, http)
        api.list_uuid = (await http.post("/leads/api/lists", json={"name": "In"})).json()["uuid"]
        yield api


@pytest.fixture
async def api(clock: VirtualClock) -> AsyncIterator[Api]:
    async with api_for(clock) as api:
        yield api


class TestUpload:
    async def test_answers_headers_preview_and_matches(self, api: Api) -> None:
        """The upload previews 10 rows and matches aliased headers to fields by column."""
        body = (await api.upload(CSV)).json()
        assert body["csv_headers"] == ["First Name", "E-mail", "LinkedIn URL", "Company"]
        assert len(body["csv_preview"]) == 10 and body["csv_preview"][0][0] == "Ann 0"
        assert body["matches"] == {
            "first_name": 0,
            "work_email": 1,
            "linkedin_id": 2,
            "company_name": 3,
        }
        assert body["type"] == "csv_leads" and body["payload"]["rows"] == 12

    @pytest.mark.parametrize("delimiter", [",", ";", "|"])
    async def test_delimiter_is_detected(self, api: Api, delimiter: str) -> None:
        """Comma, semicolon and pipe files read into the same columns."""
        body = (await api.upload(CSV.replace(",", delimiter))).json()
        assert body["payload"]["delimiter"] == delimiter and len(body["csv_headers"]) == 4

    async def test_nothing_matched_is_an_empty_list(self, api: Api) -> None:
        """matches is [] when no header is a known field (as the spec says)."""
        assert (await api.upload("foo,bar\n1,2\n")).json()["matches"] == []

    async def test_size_limit_is_inclusive(self, clock: VirtualClock) -> None:
        """A file of exactly max_upload_bytes is taken; one byte more is a 422 about the file."""
        async with api_for(clock, BulkConfig(max_upload_bytes=1024)) as api:
            fits = "email\n" + "a" * (1024 - 6)
            assert (await api.upload(fits)).status_code == 200
            refused = await api.upload(fits + "b")
        assert refused.status_code == 422 and "may not be greater than 1 kilobytes" in refused.text

    @pytest.mark.parametrize(
        ("data", "kind", "field", "message"),
        [
            (CSV, "csv_nope", "type", "The selected type is invalid"),
            (b"a,b\n\xff\xfe,1\n", "csv_leads", "file", "UTF-8"),
            (b"\n\n", "csv_leads", "file", "no header line"),
        ],
    )
    async def test_bad_uploads_are_422(
        self, api: Api, data: str | bytes, kind: str, field: str, message: str
    ) -> None:
        """A wrong type, a file that is not UTF-8 and one without header are refused by field."""
        answer = await api.upload(data, kind)
        assert answer.status_code == 422
        assert message in answer.json()["error"]["data"][field][0]

    async def test_missing_file_and_json_body_are_422(self, api: Api) -> None:
        """Without a file part (or with a JSON body) the file field is reported missing."""
        answer = await api.http.post(UPLOAD, files={"type": (None, b"csv_leads")})
        assert answer.status_code == 422 and "file" in answer.json()["error"]["data"]
        answer = await api.http.post(UPLOAD, json={"type": "csv_leads"})
        assert answer.status_code == 422 and "file" in answer.json()["error"]["data"]

    async def test_malformed_multipart_is_400(self, api: Api) -> None:
        """A multipart body that does not close its boundary is a 400, not a crash."""
        headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
        answer = await api.http.post(UPLOAD, content=b"--xyz\r\nbroken", headers=headers)
        assert answer.status_code == 400 and "multipart" in answer.json()["error"]["message"]


class TestImport:
    @pytest.mark.parametrize(
        "columns",
        [
            {"work_email": 1, "first_name": 0},
            [{"source": "E-mail", "target": "work_email"}, {"source": 0, "target": "first_name"}],
        ],
    )
    async def test_either_shape_imports_the_rows(self, api: Api, columns: Any) -> None:
        """The object and the array shape both import every row with the mapped fields."""
        upload = (await api.upload(CSV)).json()
        started = await api.start(upload["uuid"], {"columns": columns, "list_uuid": api.list_uuid})
        assert started.status_code == 200 and started.json()["status"] == "in_progress"
        assert started.json()["total"] == 12
        await api.emulator.clock.sleep(1)
        assert await api.count() == 12
        lead = next(iter(api.emulator.state.leads.values()))
        assert (lead["first_name"], lead["work_email"], lead["linkedin"]) == (
            "Ann 0",
            "ann0@x.io",
            None,
        )

    @pytest.mark.parametrize(
        ("accepted", "columns", "message"),
        [
            (("array",), {"work_email": 1}, "must be an array of {source, target}"),
            (("object",), [{"source": "E-mail", "target": "work_email"}], "must be an object"),
        ],
    )
    async def test_configured_shape_refuses_the_other(
        self, clock: VirtualClock, accepted: Any, columns: Any, message: str
    ) -> None:
        """With one shape configured, the other is a 422 about columns."""
        async with api_for(clock, BulkConfig(mapping_shapes=accepted)) as api:
            upload = (await api.upload(CSV)).json()
            answer = await api.start(
                upload["uuid"], {"columns": columns, "list_uuid": api.list_uuid}
            )
        assert answer.status_code == 422 and message in answer.json()["error"]["data"]["columns"][0]

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"columns": {"first_name": 0}}, "columns", "At least one of linkedin_id"),
            ({"columns": {"nickname": 0, "work_email": 1}}, "columns.nickname", "Unknown field"),
            ({"columns": {"work_email": 9}}, "columns.work_email", "no column 9"),
            (
                {"columns": [{"source": "Mail", "target": "work_email"}]},
                "columns.0.source",
                "not a column",
            ),
            ({}, "columns", "required"),
            ({"columns": {"work_email": 1}, "list_uuid": "nope"}, "list_uuid", "does not exist"),
            ({"columns": {"work_email": 1}, "tags": ["nope"]}, "tags", "invalid"),
        ],
    )
    async def test_bad_imports_are_422_by_field(
        self, api: Api, body: dict[str, Any], field: str, message: str
    ) -> None:
        """Every mapping, list and tag problem is a 422 naming its field; nothing starts."""
        upload = (await api.upload(CSV)).json()
        answer = await api.start(upload["uuid"], {"list_uuid": api.list_uuid, **body})
        assert answer.status_code == 422
        assert message in " ".join(answer.json()["error"]["data"][field])
        assert api.emulator.state.file_imports == {}

    async def test_unknown_upload_is_404_and_wrong_type_422(self, api: Api) -> None:
        """Importing a missing upload is a 404; contacts from a csv_accounts upload a 422."""
        body = {"columns": {"work_email": 1}, "list_uuid": api.list_uuid}
        assert (await api.start("missing", body)).status_code == 404
        accounts = (await api.upload("Company\nAcme\n", "csv_accounts")).json()
        answer = await api.start(accounts["uuid"], body)
        assert answer.status_code == 422 and "csv_leads" in answer.text

    async def test_rows_follow_the_upsert_rules(self, api: Api) -> None:
        """Duplicates update, blacklisted rows and rows without identity fail; counts say so."""
        http = api.http
        await http.post("/leads/api/leads-blacklist", json={"email": "ann1@x.io"})
        existing = {"lead": {"work_email": "ann2@x.io"}, "list_uuid": api.list_uuid}
        await http.post("/leads/api/leads/upsert", json=existing)
        upload = (await api.upload(CSV + ",,,Acme\n")).json()
        columns = {"first_name": 0, "work_email": 1}
        started = await api.start(upload["uuid"], {"columns": columns, "list_uuid": api.list_uuid})
        await api.emulator.clock.sleep(1)
        await api.count()  # any request brings the background work up to date
        job = api.emulator.state.file_imports[started.json()["uuid"]]
        assert (job["created"], job["updated"], job["failed"], job["status"]) == (
            10,
            1,
            2,
            "completed",
        )
        assert [e["row"] for e in job["errors"]] == [2, 13]
        assert "blacklist" in job["errors"][0]["message"]
        assert len(api.emulator.state.leads) == 11
        assert len(api.emulator.state.upserts) == 1  # the direct upsert only

    async def test_rows_are_processed_in_batches_at_the_rate(self, clock: VirtualClock) -> None:
        """At 100 rows/s in batches of 1,000, rows appear 1,000 at a time; jobs queue per team."""
        async with api_for(clock, BulkConfig(rows_per_second=100.0, batch_size=1_000)) as api:
            text = "email\n" + "".join(f"p{i}@x.io\n" for i in range(2_500))
            for _ in range(2):
                upload = (await api.upload(text)).json()
                body = {"columns": {"work_email": 0}, "list_uuid": api.list_uuid}
                await api.start(upload["uuid"], body)
            counts = []
            for _ in range(7):
                counts.append(await api.count())
                await clock.sleep(9.99)
            first, second = api.emulator.state.file_imports.values()
        assert counts == [0, 0, 1_000, 2_500, 2_500, 2_500, 2_500]  # batches done at 10, 20, 25 s
        assert (first["created"], second["updated"], second["status"]) == (
            2_500,
            2_500,
            "completed",
        )
        assert (
            second["created_at"] == first["created_at"]
        )  # queued at once, run one after the other

    async def test_companies_are_imported(self, api: Api) -> None:
        """import-companies creates the companies of a csv_accounts upload."""
        upload = (
            await api.upload("Company,Domain\nAcme,acme.io\nBeta,beta.io\n", "csv_accounts")
        ).json()
        assert upload["matches"] == {"name": 0, "domain": 1}
        answer = await api.start(upload["uuid"], {"columns": upload["matches"]}, kind="companies")
        assert answer.status_code == 200
        await api.emulator.clock.sleep(1)
        await api.count()
        assert sorted(c["name"] for c in api.emulator.state.companies.values()) == ["Acme", "Beta"]
        missing = await api.start(upload["uuid"], {"columns": {"domain": 1}}, kind="companies")
        assert missing.status_code == 422 and "linkedin_id, name" in missing.text


class TestConfigAndMultipart:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"rows_per_second": 0}, "rows_per_second must be positive"),
            ({"rows_per_second": float("nan")}, "rows_per_second must be a finite number"),
            ({"batch_size": 0}, "batch_size must be a positive integer"),
            ({"queue_above": -1}, "queue_above must be an integer >= 0"),
            ({"mapping_shapes": ()}, "mapping_shapes is a non-empty tuple"),
            ({"mapping_shapes": ("objects",)}, "mapping_shapes is a non-empty tuple"),
        ],
    )
    def test_bulk_config_refuses_bad_values(self, kwargs: dict[str, Any], message: str) -> None:
        """BulkConfig says what is wrong with each bad value."""
        with pytest.raises(ValueError, match=message):
            BulkConfig(**kwargs)

    def test_parts_are_read_with_a_quoted_boundary(self) -> None:
        """Names, file names, content types and bytes of each part are read."""
        body = (
            b'--ab\r\nContent-Disposition: form-data; name="type"\r\n\r\ncsv_leads\r\n'
            b'--ab\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--ab--\r\n"
        )
        parsed = parse_multipart(body, 'multipart/form-data; boundary="ab"')
        kind, file = parsed.get("type"), parsed.get("file")
        assert kind is not None and kind.text() == "csv_leads"
        assert file is not None and (file.filename, file.content_type) == ("x.csv", "text/csv")
        assert file.data == b"a,b\r\n1,2"

    @pytest.mark.parametrize(
        ("body", "content_type", "message"),
        [
            (b"--x\r\n", "multipart/form-data", "without a boundary"),
            (
                b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1",
                "multipart/form-data; boundary=x",
                "closing",
            ),
            (
                b"--x\r\nX: y\r\n\r\n1\r\n--x--",
                "multipart/form-data; boundary=x",
                "Content-Disposition",
            ),
            (b"--x" + PART * 17 + b"--", "multipart/form-data; boundary=x", "more than 16"),
        ],
    )
    def test_malformed_bodies_are_refused(
        self, body: bytes, content_type: str, message: str
    ) -> None:
        """Each malformation is a ValueError saying what is wrong."""
        with pytest.raises(ValueError, match=message):
            parse_multipart(body, content_type)
