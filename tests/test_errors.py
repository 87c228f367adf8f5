"""The exception tree and from_response(): status mapping, body tolerance, safe rendering."""

from __future__ import annotations

import email.utils
import pickle
from typing import Any

import httpx
import pytest

from getsales_async._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GetSalesError,
    InternalServerError,
    MailboxCheckFailedError,
    NotFoundError,
    PaginationWindowError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    UnprocessableEntityError,
    from_response,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.s1gnatureXYZ"
URL = "https://amazing.getsales.io/leads/api/lists?filter[email]=jane@example.com&limit=10"
NOW = 1_700_000_000.0

ENVELOPE_422 = {
    "error": {
        "reason": "validation_error",
        "message": "The name field is required.",
        "data": {"name": ["The name field is required."]},
    },
    "message": "The name field is required.",
    "code": 422,
}


def make_response(
    status: int,
    *,
    json: Any = None,
    content: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    url: str = URL,
    authorized: bool = True,
) -> httpx.Response:
    """A response with a request attached that carries a bearer token and a Team-ID."""
    request_headers = {"Authorization": f"Bearer {TOKEN}", "Team-ID": "42"} if authorized else {}
    request = httpx.Request(method, url, headers=request_headers)
    return httpx.Response(status, json=json, content=content, headers=headers, request=request)


class TestStatusMapping:
    @pytest.mark.parametrize(
        ("status", "cls"),
        [
            (400, BadRequestError),
            (401, AuthenticationError),
            (402, PaymentRequiredError),
            (403, PermissionDeniedError),
            (404, NotFoundError),
            (409, ConflictError),
            (422, UnprocessableEntityError),
            (429, RateLimitError),
            (433, MailboxCheckFailedError),
            (500, InternalServerError),
            (501, InternalServerError),
            (502, InternalServerError),
            (503, InternalServerError),
            (504, InternalServerError),
            (599, InternalServerError),
            (405, APIStatusError),
            (408, APIStatusError),
            (413, APIStatusError),
            (418, APIStatusError),
            (451, APIStatusError),
            (499, APIStatusError),
        ],
    )
    def test_from_response_picks_class_by_status(
        self, status: int, cls: type[APIStatusError]
    ) -> None:
        """Each status maps to exactly its class; other 4xx give plain APIStatusError."""
        err = from_response(make_response(status, json=ENVELOPE_422))
        assert type(err) is cls
        assert err.status_code == status

    @pytest.mark.parametrize(
        ("cls", "status"),
        [
            (BadRequestError, 400),
            (AuthenticationError, 401),
            (PaymentRequiredError, 402),
            (PermissionDeniedError, 403),
            (NotFoundError, 404),
            (ConflictError, 409),
            (UnprocessableEntityError, 422),
            (RateLimitError, 429),
            (MailboxCheckFailedError, 433),
        ],
    )
    def test_status_code_is_class_level_when_fixed(
        self, cls: type[APIStatusError], status: int
    ) -> None:
        """A fixed-status class carries its status on the class and defaults to it."""
        assert cls.status_code == status
        assert cls("boom").status_code == status


class TestHierarchy:
    @pytest.mark.parametrize(
        ("cls", "base"),
        [
            (APIConnectionError, GetSalesError),
            (APITimeoutError, APIConnectionError),
            (APIResponseValidationError, GetSalesError),
            (APIStatusError, GetSalesError),
            (BadRequestError, APIStatusError),
            (RateLimitError, APIStatusError),
            (MailboxCheckFailedError, APIStatusError),
            (InternalServerError, APIStatusError),
            (PaginationWindowError, GetSalesError),
            (ArgumentError, GetSalesError),
            (ArgumentError, ValueError),
        ],
    )
    def test_class_derives_from_base_always(self, cls: type[Exception], base: type) -> None:
        """The tree drawn in the module docstring holds."""
        assert issubclass(cls, base)

    @pytest.mark.parametrize(
        ("cls", "other"),
        [
            (APIResponseValidationError, APIStatusError),
            (APIConnectionError, APIStatusError),
            (PaginationWindowError, ValueError),
        ],
    )
    def test_class_is_separate_from_sibling_always(self, cls: type, other: type) -> None:
        """Siblings are not confused: catching one never catches the other."""
        assert not issubclass(cls, other)


class TestEnvelope:
    def test_envelope_fields_are_parsed_when_complete(self) -> None:
        """reason, message, field errors and the raw body come from the GetSales envelope."""
        err = from_response(make_response(422, json=ENVELOPE_422))
        assert err.reason == "validation_error"
        assert err.message == "The name field is required."
        assert err.field_errors == {"name": ["The name field is required."]}
        assert err.body == ENVELOPE_422

    def test_error_message_wins_when_top_level_message_differs(self) -> None:
        """error.message is preferred over the top-level message."""
        body = {"error": {"reason": "bad_request", "message": "inner"}, "message": "outer"}
        err = from_response(make_response(400, json=body))
        assert (err.reason, err.message) == ("bad_request", "inner")

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ([], {}),
            ({}, {}),
            (None, {}),
            ("oops", {}),
            ({"name": ["a", "b"]}, {"name": ["a", "b"]}),
            ({"name": "single"}, {"name": ["single"]}),
            ({"count": [1, 2]}, {"count": ["1", "2"]}),
            ({"lead": {"email": ["bad"]}}, {"lead.email": ["bad"]}),
            ({"lead": None, "name": ["x"]}, {"name": ["x"]}),
        ],
    )
    def test_field_errors_are_normalised_when_data_varies(
        self, data: Any, expected: dict[str, list[str]]
    ) -> None:
        """error.data becomes {field: [messages]}; `[]` (PHP's empty map) and non-maps give {}."""
        body = {"error": {"reason": "validation_error", "message": "m", "data": data}}
        assert from_response(make_response(422, json=body)).field_errors == expected

    def test_field_errors_fall_back_to_errors_when_no_error_data(self) -> None:
        """A framework-style `{message, errors: {...}}` body still yields field errors."""
        body = {"message": "The given data was invalid.", "errors": {"email": ["Invalid."]}}
        err = from_response(make_response(422, json=body))
        assert err.message == "The given data was invalid."
        assert err.field_errors == {"email": ["Invalid."]}


class TestNonEnvelopeBodies:
    @pytest.mark.parametrize(
        ("content", "content_type", "message", "body"),
        [
            pytest.param(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>",
                "text/html",
                "502 Bad Gateway",
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>",
                id="html-with-title",
            ),
            pytest.param(
                "<html><body>\n  <h1>Service\n Unavailable</h1><script>x()</script></body></html>",
                "text/html; charset=utf-8",
                "Service Unavailable",
                "<html><body>\n  <h1>Service\n Unavailable</h1><script>x()</script></body></html>",
                id="html-without-title",
            ),
            pytest.param(
                "upstream connect error\nor disconnect",
                "text/plain",
                "upstream connect error or disconnect",
                "upstream connect error\nor disconnect",
                id="plain-text",
            ),
            pytest.param(
                '{"message": "Server Error"}',
                "application/json",
                "Server Error",
                {"message": "Server Error"},
                id="message-only",
            ),
            pytest.param(
                '{"error": "Unauthenticated."}',
                "application/json",
                "Unauthenticated.",
                {"error": "Unauthenticated."},
                id="error-string",
            ),
            pytest.param("", "", "Bad Gateway", None, id="empty"),
            pytest.param("   \n", "text/plain", "Bad Gateway", None, id="whitespace"),
            pytest.param(
                '{"message": "trunc',
                "application/json",
                '{"message": "trunc',
                '{"message": "trunc',
                id="invalid-json",
            ),
            pytest.param(
                '["first problem", "second"]',
                "application/json",
                '["first problem", "second"]',
                ["first problem", "second"],
                id="json-list",
            ),
            pytest.param("[]", "application/json", "Bad Gateway", [], id="empty-json-list"),
            pytest.param(
                '"just a string"',
                "application/json",
                "just a string",
                "just a string",
                id="json-string",
            ),
            pytest.param("null", "application/json", "Bad Gateway", None, id="json-null"),
            pytest.param(
                '{"code": 502}',
                "application/json",
                "Bad Gateway",
                {"code": 502},
                id="json-without-message",
            ),
        ],
    )
    def test_message_and_body_are_tolerant_when_body_is_not_envelope(
        self, content: str, content_type: str, message: str, body: Any
    ) -> None:
        """Any body kind yields a message (snippet or reason phrase) and keeps the raw body."""
        headers = {"content-type": content_type} if content_type else {}
        err = from_response(make_response(502, content=content, headers=headers))
        assert type(err) is InternalServerError
        assert err.message == message
        assert err.body == body
        assert err.reason is None
        assert err.field_errors == {}

    def test_snippet_is_short_when_text_body_is_long(self) -> None:
        """A long text body is shortened in the message but kept whole in body."""
        text = "x" * 5000
        err = from_response(
            make_response(500, content=text, headers={"content-type": "text/plain"})
        )
        assert len(err.message) <= 200
        assert err.body == text

    def test_mailbox_fallback_message_when_433_body_empty(self) -> None:
        """433 has no standard reason phrase, so a descriptive fallback is used."""
        err = from_response(make_response(433))
        assert "SMTP/IMAP" in err.message

    def test_body_argument_is_used_when_response_was_streamed(self) -> None:
        """Bytes passed as body= are parsed even though the response content was never read."""
        request = httpx.Request("GET", URL)
        response = httpx.Response(404, stream=httpx.ByteStream(b""), request=request)
        err = from_response(response, body=b'{"error": {"message": "Lead not found"}}')
        assert type(err) is NotFoundError
        assert err.message == "Lead not found"

    def test_empty_body_is_assumed_when_streamed_response_unread(self) -> None:
        """An unread streamed response does not crash from_response."""
        request = httpx.Request("GET", URL)
        response = httpx.Response(404, stream=httpx.ByteStream(b"{}"), request=request)
        err = from_response(response)
        assert (err.message, err.body) == ("Not Found", None)

    def test_body_is_decoded_when_charset_is_unknown(self) -> None:
        """A bogus charset in Content-Type falls back to UTF-8."""
        response = make_response(
            400, content="bad ü".encode(), headers={"content-type": "text/plain; charset=nope"}
        )
        assert from_response(response).message == "bad ü"


class TestRequestContext:
    def test_method_and_path_are_kept_without_query_string(self) -> None:
        """The request is described by method and path; filter values in the query are dropped."""
        err = from_response(make_response(422, json=ENVELOPE_422, method="POST"))
        assert (err.method, err.path) == ("POST", "/leads/api/lists")
        for text in (str(err), repr(err)):
            assert "jane@example.com" not in text
            assert "?" not in text

    def test_method_and_path_are_none_when_response_has_no_request(self) -> None:
        """A response built without a request still converts."""
        err = from_response(httpx.Response(404))
        assert (err.method, err.path) == (None, None)
        assert str(err) == "404 Not Found"

    @pytest.mark.parametrize(
        "header", ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray", "X-Request-ID"]
    )
    def test_request_id_is_read_when_header_present(self, header: str) -> None:
        """Each known request-id header is recognised, case-insensitively."""
        err = from_response(make_response(500, headers={header: "abc-123"}))
        assert err.request_id == "abc-123"
        assert "abc-123" in str(err)

    def test_request_id_prefers_x_request_id_when_several(self) -> None:
        """x-request-id wins over cf-ray when both are sent."""
        headers = {"cf-ray": "ray-1", "x-request-id": "req-1"}
        assert from_response(make_response(500, headers=headers)).request_id == "req-1"

    def test_request_id_is_none_when_absent(self) -> None:
        """No request-id header gives None."""
        assert from_response(make_response(500)).request_id is None


class TestRateLimit:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"retry-after": "7"}, 7.0),
            ({"retry-after": "0.5"}, 0.5),
            ({"retry-after-ms": "1500"}, 1.5),
            ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
            ({}, None),
            ({"retry-after": "soon"}, None),
        ],
    )
    def test_retry_after_is_set_when_429(
        self, headers: dict[str, str], expected: float | None
    ) -> None:
        """A 429 carries the parsed Retry-After, relative to the injected now."""
        err = from_response(make_response(429, headers=headers), now=NOW)
        assert isinstance(err, RateLimitError)
        assert err.retry_after == expected

    def test_retry_after_appears_in_str_when_known(self) -> None:
        """The advised wait is part of the message line."""
        err = from_response(make_response(429, headers={"retry-after": "3"}))
        assert str(err) == "429 Too Many Requests (POST /leads/api/lists) (retry after 3 s)"
        assert "retry_after=3.0" in repr(err)


class TestRendering:
    def test_str_matches_documented_format_when_envelope(self) -> None:
        """str() gives status, reason, message, request and field errors on one line."""
        err = from_response(make_response(422, json=ENVELOPE_422))
        assert str(err) == (
            "422 validation_error: The name field is required. (POST /leads/api/lists) "
            "name: The name field is required."
        )

    def test_str_is_single_line_when_message_has_newlines(self) -> None:
        """Newlines in messages and field errors are collapsed."""
        body = {"error": {"message": "line one\nline two", "data": {"a": ["x\ny"]}}}
        text = str(from_response(make_response(400, json=body)))
        assert "\n" not in text
        assert "line one line two" in text

    def test_str_lists_few_fields_when_many_field_errors(self) -> None:
        """Only the first five fields are rendered, with a count of the rest."""
        data = {f"f{i}": ["bad"] for i in range(8)}
        err = from_response(make_response(422, json={"error": {"message": "m", "data": data}}))
        assert "f4: bad" in str(err)
        assert "f5" not in str(err)
        assert "(+3 more)" in str(err)
        assert len(err.field_errors) == 8

    @pytest.mark.parametrize("status", [400, 401, 403, 422, 429, 433, 500, 503, 418])
    def test_str_and_repr_never_show_credentials_when_request_had_them(self, status: int) -> None:
        """Neither str() nor repr() holds the Authorization header, the token or Team-ID."""
        err = from_response(make_response(status, json=ENVELOPE_422, headers={"retry-after": "1"}))
        for text in (str(err), repr(err), str(err.args)):
            assert "Authorization" not in text
            assert "authorization" not in text
            assert "Bearer" not in text
            assert TOKEN not in text
            assert "Team-ID" not in text
        assert not hasattr(err, "headers")
        assert not hasattr(err, "request")
        assert not hasattr(err, "response")

    @pytest.mark.parametrize(
        "echo",
        [
            {"message": f"Invalid token Bearer {TOKEN}"},
            {"message": f"token {TOKEN} revoked"},
            {"error": {"message": "bad", "data": {"authorization": [f"Bearer {TOKEN}"]}}},
            {"message": "Bearer some-other-token-value was rejected"},
        ],
    )
    def test_token_is_masked_when_server_echoes_it(self, echo: dict[str, Any]) -> None:
        """A token echoed back by the server is redacted from message, field errors and body."""
        err = from_response(make_response(401, json=echo))
        for text in (str(err), repr(err), str(err.body), str(err.field_errors)):
            assert TOKEN not in text
            assert "some-other-token-value" not in text
        assert "[redacted]" in str(err)

    def test_str_is_unchanged_when_request_unauthorized(self) -> None:
        """Requests without credentials render the same way."""
        err = from_response(make_response(404, authorized=False))
        assert str(err) == "404 Not Found (POST /leads/api/lists)"


class TestConstruction:
    def test_subclass_rejects_other_status_when_given(self) -> None:
        """A fixed-status class refuses a mismatching status_code."""
        with pytest.raises(ArgumentError, match="NotFoundError has status 404"):
            NotFoundError("x", status_code=400)

    def test_base_requires_status_when_missing(self) -> None:
        """Plain APIStatusError cannot guess its status."""
        with pytest.raises(ArgumentError, match="needs status_code"):
            APIStatusError("x")

    @pytest.mark.parametrize("status", [None, 404, 600])
    def test_internal_server_error_rejects_status_when_not_5xx(self, status: int | None) -> None:
        """InternalServerError only takes 500-599."""
        with pytest.raises(ArgumentError, match="between 500 and 599"):
            InternalServerError("x", status_code=status)

    def test_field_errors_are_copied_when_given(self) -> None:
        """The caller's mapping is copied, so later mutation does not leak in."""
        data = {"name": ["bad"]}
        err = UnprocessableEntityError("m", field_errors=data)
        data["name"].append("worse")
        assert err.field_errors == {"name": ["bad"]}

    def test_connection_error_keeps_only_method_and_path_when_given_request(self) -> None:
        """A request passed to APIConnectionError contributes method and path, never headers."""
        request = httpx.Request("GET", URL, headers={"Authorization": f"Bearer {TOKEN}"})
        err = APITimeoutError(request=request)
        assert (err.method, err.path) == ("GET", "/leads/api/lists")
        assert str(err) == "Request timed out. (GET /leads/api/lists)"
        assert TOKEN not in repr(err)
        assert not hasattr(err, "request")

    def test_connection_error_has_default_message_when_bare(self) -> None:
        """APIConnectionError() renders its default message alone."""
        assert str(APIConnectionError()) == "Connection error."
        assert repr(APIConnectionError()) == (
            "APIConnectionError(message='Connection error.', method=None, path=None)"
        )

    def test_validation_error_renders_context_when_complete(self) -> None:
        """APIResponseValidationError names status, problem, request and request id."""
        err = APIResponseValidationError(
            "data.0.uuid: field required",
            status_code=200,
            body={"data": [{}]},
            method="GET",
            path="/leads/api/leads",
            request_id="r1",
        )
        assert str(err) == (
            "200 response did not match the declared model: data.0.uuid: field required "
            "(GET /leads/api/leads) [request id r1]"
        )
        assert "status_code=200" in repr(err)
        assert err.body == {"data": [{}]}


NESTED = b"[" * 10_000 + b"]" * 10_000


class TestHostileBodies:
    @pytest.mark.parametrize(
        ("status", "cls"),
        [
            (400, BadRequestError),
            (422, UnprocessableEntityError),
            (429, RateLimitError),
            (503, InternalServerError),
        ],
    )
    def test_nested_json_keeps_the_status_class_and_the_raw_text(
        self, status: int, cls: type[APIStatusError]
    ) -> None:
        """JSON nested 10,000 deep (past the recursion limit) is kept as text, never raised."""
        response = make_response(
            status, content=NESTED, headers={"Content-Type": "application/json"}
        )
        error = from_response(response)
        assert type(error) is cls
        assert isinstance(error.body, str) and error.body.startswith("[[[")
        assert len(str(error)) < 1000

    def test_invalid_utf8_body_is_decoded_leniently(self) -> None:
        """Bytes that are not UTF-8 are replaced, not raised."""
        response = make_response(422, content=b'{"message": "bad \xff\xfe"}')
        error = from_response(response)
        assert isinstance(error, UnprocessableEntityError)
        assert "bad" in error.message

    def test_deep_field_errors_are_flattened_to_a_bounded_depth(self) -> None:
        """Field errors nested deeper than 16 levels end as one JSON string."""
        data: dict[str, Any] = {"leaf": ["x"]}
        for _ in range(40):
            data = {"f": data}
        response = make_response(422, json={"error": {"reason": "validation_error", "data": data}})
        fields = from_response(response).field_errors
        ((name, messages),) = fields.items()
        assert name == ".".join(["f"] * 17)
        assert messages[0].startswith('{"f": {"f"')

    def test_unserialisable_field_error_is_described(self) -> None:
        """A value too deep for json.dumps is described instead of raising."""
        deep: list[Any] = []
        node = deep
        for _ in range(5_000):
            node.append([])
            node = node[0]
        response = make_response(422, json={"message": "bad"})
        response_body = {"error": {"data": {"field": [deep]}}}
        from getsales_async._errors import _flatten_field_errors

        assert _flatten_field_errors(response_body["error"]["data"]) == {
            "field": ["(nested too deeply to show)"]
        }
        assert from_response(response).message == "bad"


class TestRedirectError:
    @pytest.mark.parametrize(
        ("location", "host"),
        [
            ("https://login.example.net/x", "login.example.net"),
            ("//cdn.example.org/y", "cdn.example.org"),
            ("/relative", "amazing.getsales.io"),
            ("", None),
            ("http://[::1", None),
        ],
    )
    def test_redirect_names_the_target_host(self, location: str, host: str | None) -> None:
        """Any 3xx is a RedirectError whose location_host is the target's host (or None)."""
        headers = {"Location": location} if location else {}
        error = from_response(make_response(302, headers=headers, json={"ok": True}))
        assert isinstance(error, RedirectError) and isinstance(error, APIStatusError)
        assert error.location_host == host
        assert "does not follow redirects" in str(error)
        assert TOKEN not in str(error) and TOKEN not in repr(error)
        assert f"location_host={host!r}" in repr(error)

    def test_redirect_error_needs_a_3xx_status(self) -> None:
        """Building one by hand checks the status."""
        with pytest.raises(ArgumentError, match="between 300 and 399"):
            RedirectError("x", status_code=404)


class TestResponseTooLargeError:
    def test_is_a_validation_error_that_names_the_bound(self) -> None:
        """The error says which bound was passed and how to raise it."""
        error = ResponseTooLargeError(limit=1024, status_code=200, method="GET", path="/x")
        assert isinstance(error, APIResponseValidationError)
        assert "1,024 bytes" in str(error) and "max_response_bytes" in str(error)
        assert str(error).endswith("(GET /x)")
        assert pickle.loads(pickle.dumps(error)).limit == 1024


class TestPaginationWindowError:
    def test_attributes_and_advice_when_window_exceeded(self) -> None:
        """The error names offset, limit, window and how to partition by created_at."""
        err = PaginationWindowError(offset=9_950, limit=100)
        assert (err.offset, err.limit, err.window) == (9_950, 100, 10_000)
        text = str(err)
        assert "10,050" in text
        assert "10,000" in text
        assert "created_at" in text
        assert '{"created_at": {">=": ' in text
        assert "\n" not in text
        assert repr(err) == "PaginationWindowError(offset=9950, limit=100, window=10000)"

    def test_window_is_configurable_when_given(self) -> None:
        """A custom window shows up in the message."""
        assert "5,000-result" in str(PaginationWindowError(offset=4_990, limit=20, window=5_000))


class TestArgumentError:
    def test_is_caught_as_value_error_when_raised(self) -> None:
        """ArgumentError is both a GetSalesError and a ValueError."""
        with pytest.raises(ValueError, match="need linkedin_id"):
            raise ArgumentError("need linkedin_id, email, or name + company_name")


class TestPickling:
    @pytest.mark.parametrize(
        "err",
        [
            ArgumentError("bad argument"),
            APIConnectionError("reset", method="GET", path="/x"),
            APITimeoutError(method="GET", path="/x"),
            APIResponseValidationError("bad", status_code=200, body=[1], method="GET", path="/x"),
            APIStatusError("teapot", status_code=418, body="short and stout"),
            UnprocessableEntityError("m", reason="validation_error", field_errors={"a": ["b"]}),
            RateLimitError("slow down", retry_after=2.5, request_id="r"),
            MailboxCheckFailedError("SMTP failed"),
            InternalServerError("boom", status_code=503),
            PaginationWindowError(offset=10_000, limit=100),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_round_trip_keeps_state_when_pickled(self, err: GetSalesError) -> None:
        """Every exception survives pickling (multiprocessing logging, task queues) intact."""
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is type(err)
        assert vars(clone) == vars(err)
        assert str(clone) == str(err)
        assert repr(clone) == repr(err)

    def test_round_trip_keeps_state_when_built_from_response(self) -> None:
        """An exception from from_response pickles with its parsed fields."""
        err = from_response(make_response(422, json=ENVELOPE_422, headers={"x-request-id": "q"}))
        clone = pickle.loads(pickle.dumps(err))
        assert vars(clone) == vars(err)
        assert str(clone) == str(err)
