"""``client.files.start_leads_import``: contacts imported by the server from CSV uploads.

At 300 requests a minute a per-row import of 100,000 contacts needs 5.6 hours of quota; the
server-side import needs a request per 14 MB part (upload) and one more per part (start), plus the
polls that watch it. The flow:

1. **Write the parts** (:mod:`._csv_parts`, in a worker thread): every row, in order, into CSV
   parts under the upload limit, header in each, a row never split. Bad input stops here, before
   any request.
2. **Upload** each part (``uploadCsv``, type ``csv_leads``). Uploads change no contact.
3. **Map the columns** (:mod:`._import_mapping`): the first upload's ``matches``, with the
   caller's ``columns`` on top; an identifier column is required and, unless
   ``ignore_unmapped=True``, every column must feed a field (else its values would be dropped).
4. **Count** the target list, then **start** each part's import (``importLeadsFromFile`` with
   ``list_uuid`` and ``tags``). The ``columns`` body is sent in the index's shape first; a 422
   about ``columns`` is retried once in the white-label shape, and the accepted shape is
   remembered by this client. Starting is never retried after an ambiguous failure (a 5xx, a
   timeout, a lost connection): that could import a part twice.
5. Return a :class:`~getsales_async._server_import_job.ServerImportJob`; ``await job.wait()`` watches the
   list's count (per-row outcomes are not available from the API).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio.to_thread

from ._csv_parts import DEFAULT_MAX_PART_BYTES, CsvPart, SpooledParts, read_source, spool_parts
from ._errors import (
    APIResponseValidationError,
    ArgumentError,
    GetSalesError,
    UnprocessableEntityError,
)
from ._generated.types import File
from ._import_mapping import (
    IDENTIFIER_FIELDS,
    INDEX_SHAPE,
    MappingShape,
    build_mapping,
    encode_columns,
    is_mapping_refusal,
    other_shape,
    read_matches,
    unmapped_columns,
)
from ._outcome import may_have_run
from ._resources.files import FilesResource
from ._server_import_job import ImportPart, ServerImportJob, list_count
from ._shapes import unwrap_data

if TYPE_CHECKING:
    from ._client import AsyncGetSales
    from ._generated.models.file_import import FileImport

__all__ = ["ServerImportError", "ServerImportFilesResource"]

logger = logging.getLogger("getsales_async")
_SAFE_UUID = re.compile(r"[A-Za-z0-9_-]{1,100}")  # what an upload's uuid may look like
IMPORT_PATH = "/leads/api/file-imports/{uuid}/import-leads"


class ServerImportError(GetSalesError):
    """Raised when starting a part's import failed after others started, or may have started.

    Attributes:
        job: watches the parts that did start (``None`` when none did).
        failed_part: the part whose start failed.
        uncertain: ``True`` when the server may have started that part anyway (a 5xx, a timeout
            or a lost connection); ``False`` when it refused it. Parts after it were not started.
    """

    def __init__(
        self, message: str, *, job: ServerImportJob | None, failed_part: CsvPart, uncertain: bool
    ) -> None:
        super().__init__(message)
        self.job = job
        self.failed_part = failed_part
        self.uncertain = uncertain


@dataclass(frozen=True)
class _Plan:
    """What every part's import shares."""

    spooled: SpooledParts
    mapping: dict[str, int]
    list_uuid: str
    tags: list[str]
    count_before: int
    started_at: float


class _Upload:
    """What the server said about one uploaded part."""

    def __init__(self, part: CsvPart, answer: FileImport) -> None:
        uuid = answer.uuid
        if not isinstance(uuid, str) or not _SAFE_UUID.fullmatch(uuid):
            raise APIResponseValidationError(
                f"uploadCsv answered without a usable uuid ({uuid!r})",
                status_code=200,
                body=answer.to_dict(),
                method="POST",
                path="/leads/api/file-imports/upload-csv",
            )
        self.part = part
        self.uuid = uuid
        matches: Any = answer.matches
        to_dict = getattr(matches, "to_dict", None)  # a generated model for the object shape
        self.matches: Any = to_dict() if callable(to_dict) else matches
        self.headers = answer.csv_headers if isinstance(answer.csv_headers, list) else None


def _check_arguments(
    list_uuid: str, tags: Sequence[str], max_part_bytes: int, delimiter: str | None
) -> list[str]:
    if not isinstance(list_uuid, str) or not list_uuid.strip():
        raise ArgumentError("list_uuid is required: the list the contacts go to")
    if isinstance(tags, str) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ArgumentError("tags is a list of tag uuids, e.g. tags=['3f1c...']")
    if isinstance(max_part_bytes, bool) or not isinstance(max_part_bytes, int):
        raise ArgumentError(f"max_part_bytes must be an integer, got {max_part_bytes!r}")
    if max_part_bytes < 1:
        raise ArgumentError(f"max_part_bytes must be positive, got {max_part_bytes}")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ArgumentError(f"delimiter must be one character such as ';', got {delimiter!r}")
    return [t.strip() for t in tags]


def _spool(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    delimiter: str | None,
    fields: Sequence[str] | None,
    max_part_bytes: int,
) -> SpooledParts:
    header, rows = read_source(source, delimiter=delimiter, fields=fields)
    spooled = spool_parts(header, rows, max_part_bytes=max_part_bytes)
    if spooled.rows == 0:
        spooled.close()
        left_out = f" ({spooled.skipped_count} rows left out as malformed)"
        raise ArgumentError("no rows to import" + (left_out if spooled.skipped_count else ""))
    return spooled


class ServerImportFilesResource(FilesResource):
    """File Import / Export operations, plus :meth:`start_leads_import` (the whole flow)."""

    def __init__(self, client: AsyncGetSales) -> None:
        super().__init__(client)
        self._mapping_shape: MappingShape | None = None

    @property
    def mapping_shape(self) -> MappingShape | None:
        """The ``columns`` shape this client's server accepted (``None`` before the first import)."""
        return self._mapping_shape

    async def start_leads_import(
        self,
        source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        *,
        list_uuid: str,
        tags: Sequence[str] = (),
        columns: Mapping[str, str | int | None] | None = None,
        ignore_unmapped: bool = False,
        fields: Sequence[str] | None = None,
        delimiter: str | None = None,
        max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
    ) -> ServerImportJob:
        """Import contacts server-side from a CSV file or rows; returns a job to ``wait()`` on.

        Args:
            source: a path to a CSV file (UTF-8; comma, semicolon, tab or pipe delimited), or an
                iterable of mappings of contact field to value (``first_name``, ``work_email``,
                ``linkedin_id``...; text, numbers or lists of text). It is read in a worker
                thread, so the event loop keeps running meanwhile.
            list_uuid: the list the contacts go to.
            tags: tag uuids applied to every imported contact.
            columns: overrides of the server's proposed mapping: ``{field: header or column
                index}``; ``None`` as a value unmaps a field.
            ignore_unmapped: allow columns that feed no field (their values are not imported).
            fields: the columns of mapping rows (default: the first row's keys).
            delimiter: the CSV file's delimiter (default: detected from its first line).
            max_part_bytes: the size of each uploaded part at most, in bytes (default 14 MB,
                under the documented 15 MB limit).

        Returns:
            A :class:`ServerImportJob` for the started parts.

        Raises:
            ArgumentError: bad arguments or input, no identifier column, unmapped columns; raised
                before any upload, or (mapping) after the uploads but before any import started.
            ServerImportError: a part's start failed after others started, or may have started.
            APIStatusError, APIConnectionError: an upload, the count or the first start failed
                (no import started).

        Example::

            job = await client.files.start_leads_import(
                [{"work_email": "ada@example.com", "first_name": "Ada"}], list_uuid=list_uuid
            )
            print(await job.wait())
        """
        tag_list = _check_arguments(list_uuid, tags, max_part_bytes, delimiter)
        with await self._spool(source, delimiter, fields, max_part_bytes) as spooled:
            uploads = [await self._upload(spooled, part) for part in spooled.parts]
            mapping = self._mapping(spooled, uploads, columns, ignore_unmapped)
            plan = _Plan(
                spooled=spooled,
                mapping=mapping,
                list_uuid=list_uuid,
                tags=tag_list,
                count_before=await list_count(self._client, list_uuid),
                started_at=self._client.clock.now(),
            )
            return self._job(plan, await self._start_all(plan, uploads))

    @staticmethod
    async def _spool(
        source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        delimiter: str | None,
        fields: Sequence[str] | None,
        max_part_bytes: int,
    ) -> SpooledParts:
        """Write the parts in a worker thread; if this task is cancelled meanwhile, delete them."""
        written: list[SpooledParts] = []

        def work() -> SpooledParts:
            written.append(_spool(source, delimiter, fields, max_part_bytes))
            return written[0]

        try:
            return await anyio.to_thread.run_sync(work)
        except BaseException:
            for spooled in written:
                spooled.close()
            raise

    def _job(self, plan: _Plan, started: Sequence[ImportPart]) -> ServerImportJob:
        """The handle on the started parts."""
        spooled = plan.spooled
        identifiers = [i for f, i in plan.mapping.items() if f in IDENTIFIER_FIELDS]
        lacking = spooled.rows_lacking(identifiers)
        return ServerImportJob(
            self._client,
            list_uuid=plan.list_uuid,
            parts=tuple(started),
            count_before=plan.count_before,
            started_at=plan.started_at,
            mapping=plan.mapping,
            mapping_shape=self._mapping_shape or INDEX_SHAPE,
            header=spooled.header,
            skipped=tuple(spooled.skipped),
            skipped_count=spooled.skipped_count,
            without_identifier=None if lacking is None else lacking[0],
            without_identifier_rows=() if lacking is None else tuple(lacking[1]),
        )

    async def _upload(self, spooled: SpooledParts, part: CsvPart) -> _Upload:
        total = len(spooled.parts)
        file = File(
            payload=spooled.open(part),
            file_name=f"contacts-part-{part.number}-of-{total}.csv",
            mime_type="text/csv",
        )
        upload = _Upload(part, await self.upload_csv(file=file, type="csv_leads"))
        if upload.headers is not None and len(upload.headers) != len(spooled.header):
            raise APIResponseValidationError(
                f"the server read {len(upload.headers)} columns in part {part.number}, "
                f"{len(spooled.header)} were written; nothing was imported",
                status_code=200,
                body=upload.headers,
                method="POST",
                path="/leads/api/file-imports/upload-csv",
            )
        return upload

    @staticmethod
    def _mapping(
        spooled: SpooledParts,
        uploads: Sequence[_Upload],
        columns: Mapping[str, str | int | None] | None,
        ignore_unmapped: bool,
    ) -> dict[str, int]:
        header = spooled.header
        mapping = build_mapping(header, read_matches(uploads[0].matches, header), columns)
        unmapped = unmapped_columns(header, mapping)
        if unmapped and not ignore_unmapped:
            raise ArgumentError(
                f"columns {unmapped} match no contact field, so their values would be lost; "
                "map them with columns={'field': 'Header'} or pass ignore_unmapped=True "
                "(the parts are uploaded; no import started)"
            )
        return mapping

    async def _start_all(self, plan: _Plan, uploads: Sequence[_Upload]) -> list[ImportPart]:
        """Start every part's import in order; stop at the first failure."""
        started: list[ImportPart] = []
        for upload in uploads:
            try:
                job_uuid = await self._start(plan, upload.uuid)
            except GetSalesError as exc:
                if not started and not may_have_run(exc):
                    raise
                raise self._start_failed(exc, plan, started, upload) from exc
            started.append(ImportPart(upload.part, upload.uuid, job_uuid))
        return started

    def _start_failed(
        self, error: GetSalesError, plan: _Plan, started: list[ImportPart], upload: _Upload
    ) -> ServerImportError:
        uncertain = may_have_run(error)
        total = len(plan.spooled.parts)
        state = (
            "the server may have started it anyway: compare the list's count before re-sending it"
            if uncertain
            else "it was refused"
        )
        which = "part 1" if len(started) == 1 else f"parts 1-{len(started)}"
        done = f"{which} of {total} started; " if started else ""
        message = (
            f"{done}starting part {upload.part.number} of {total} failed ({error}); {state}; "
            "later parts were not started"
        )
        job = self._job(plan, started) if started else None
        return ServerImportError(message, job=job, failed_part=upload.part, uncertain=uncertain)

    async def _start(self, plan: _Plan, upload_uuid: str) -> str | None:
        """Start one part's import, in the remembered shape or with the one-time fallback."""
        shape = self._mapping_shape or INDEX_SHAPE
        try:
            answer = await self._post_import(plan, upload_uuid, shape)
        except UnprocessableEntityError as exc:
            if self._mapping_shape is not None or not is_mapping_refusal(exc):
                raise
            logger.debug(
                "import columns refused in the %s shape (%s); trying the %s shape once",
                shape,
                exc,
                other_shape(shape),
            )
            shape = other_shape(shape)
            answer = await self._post_import(plan, upload_uuid, shape)
        self._mapping_shape = shape
        return answer

    async def _post_import(self, plan: _Plan, upload_uuid: str, shape: MappingShape) -> str | None:
        body: dict[str, Any] = {
            "columns": encode_columns(plan.mapping, plan.spooled.header, shape),
            "list_uuid": plan.list_uuid,
        }
        if plan.tags:
            body["tags"] = plan.tags
        response = await self._client.request(
            "POST",
            IMPORT_PATH.format(uuid=quote(upload_uuid, safe="")),
            json=body,
            idempotent=False,  # never re-sent after an ambiguous failure: it could import twice
        )
        try:
            data = unwrap_data(response.json())
        except ValueError:
            return None
        uuid = data.get("uuid") if isinstance(data, dict) else None
        return uuid if isinstance(uuid, str) else None
