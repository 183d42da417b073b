"""Client mistakes as exceptions that the API turns into a stable JSON error."""


class ApiError(Exception):
    """An error the caller can act on: HTTP status, a stable code, a message, the offending field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class NotFound(ApiError):
    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(404, "NotFound", f"{what} was not found", field)


class Conflict(ApiError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(409, code, message, field)


class BadRequest(ApiError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(400, code, message, field)
