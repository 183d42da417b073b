"""A failure's cause is stored and told short and as plain text, whatever an endpoint answered."""

from orgvend.models import FAILURE_TEXT_MAX, WorkflowError, readable_failure

HTML_PAGE = """<!doctype html>
<html lang=en>
<head><title>500 Internal Server Error</title><style>body { color: red }</style></head>
<body><h1>Internal Server Error</h1>
<p>The server encountered an internal error &amp; was unable to complete your request.</p>
<script>alert("x")</script>
</body></html>"""


def test_an_html_page_keeps_only_its_words() -> None:
    text = readable_failure(f"billing preferences of 111122223333: {HTML_PAGE}")
    assert text == (
        "billing preferences of 111122223333: 500 Internal Server Error Internal Server Error "
        "The server encountered an internal error & was unable to complete your request."
    )


def test_a_huge_body_is_capped() -> None:
    text = readable_failure("denied " * 100_000)
    assert len(text) == FAILURE_TEXT_MAX and text.endswith("…") and text.startswith("denied denied")


def test_binary_garbage_is_dropped() -> None:
    garbage = bytes(range(256)).decode("latin-1") + b"\x89PNG\r\n\x1a\n\x00\x00".decode("utf-8", "replace")
    text = readable_failure(f"RemoteError: {garbage} end")
    assert text.startswith("RemoteError: ") and text.endswith(" end")
    assert text.isprintable() and "\ufffd" not in text and "  " not in text


def test_a_readable_cause_is_left_as_it_is() -> None:
    assert readable_failure("AccessDenied: not allowed") == "AccessDenied: not allowed"


def test_the_workflow_error_message_is_readable_from_a_lambda_error_or_a_raw_cause() -> None:
    lambda_cause = '{"errorMessage": "<b>refused</b>\\n  twice", "errorType": "X"}'
    assert WorkflowError(error="X", cause=lambda_cause).message == "refused twice"
    assert WorkflowError(error="X", cause=HTML_PAGE * 100).message.startswith("500 Internal Server Error")
    assert len(WorkflowError(error="X", cause=HTML_PAGE * 100).message) <= FAILURE_TEXT_MAX
