"""Serve the template's REST API locally: each HTTP request becomes the API Gateway proxy event.

The routes are the template's (``AWS::Serverless::Api`` and the functions' ``Api``
events); each request is turned into the REST API proxy event API Gateway would
send and handed to the same function through moto's Lambda (so the in-process
shim runs the real handler). No route is implemented here.

Differences from API Gateway, on purpose: SigV4 signatures are not verified (there
is no IAM here); the caller's access key, when a request is signed, is passed on
as the identity.
"""

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from moto.awslambda.models import lambda_backends
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from orgvend_local.template import Template

# API Gateway's limit for a request payload.
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # "/accounts/{accountId}"
    function_arn: str
    pattern: re.Pattern[str]


def routes_of(template: Template, api_logical_id: str) -> list[Route]:
    routes = []
    for logical_id, function in template.enabled_resources("AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event["Type"] != "Api" or properties.get("RestApiId") != {"Ref": api_logical_id}:
                continue
            resource = properties["Path"]
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource))
            routes.append(
                Route(
                    properties["Method"].upper(), resource, template.arn(logical_id), re.compile(f"^{regex}$")
                )
            )
    # Literal paths win over parameters, as in API Gateway (/accounts/adopt before /accounts/{accountId}).
    return sorted(routes, key=lambda route: route.resource.count("{"))


class LocalApi:
    def __init__(self, template: Template, api_logical_id: str, host: str, port: int) -> None:
        self.template = template
        self.stage = str(template.resources[api_logical_id]["Properties"].get("StageName", "Prod"))
        self.routes = routes_of(template, api_logical_id)
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._server: BaseWSGIServer | None = None

    def start(self) -> None:
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="local-api").start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return _json(413, {"message": "Request Too Long"})
        match = self._match(request.method, request.path)
        if match is None:
            # What API Gateway answers for a resource or method the API does not declare.
            return _json(403, {"message": "Missing Authentication Token"})
        route, path_parameters = match
        event = self.proxy_event(request, route, path_parameters)
        function = lambda_backends[self.template.account_id][self.template.region].get_function(
            route.function_arn
        )
        payload, errored, _ = function._invoke_lambda(event=json.dumps(event))
        if errored:
            return _json(502, {"message": "Internal server error"})
        return _response(json.loads(payload))

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def proxy_event(self, request: Request, route: Route, path_parameters: dict[str, str]) -> dict[str, Any]:
        body = request.get_data()
        is_text = not body or _is_text(body)
        query = parse_qs(request.query_string.decode(), keep_blank_values=True)
        headers = dict(request.headers)  # API Gateway keeps the last value of a repeated header
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            multi_headers.setdefault(name, []).append(value)
        return {
            "resource": route.resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.resource,
                "httpMethod": request.method,
                "path": f"/{self.stage}{request.path}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "accountId": self.template.account_id,
                "apiId": "local",
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "identity": {
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent"),
                    "accessKey": _signing_access_key(request.headers.get("Authorization", "")),
                },
            },
            "body": (body.decode() if is_text else base64.b64encode(body).decode()) if body else None,
            "isBase64Encoded": not is_text,
        }


def _is_text(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _signing_access_key(authorization: str) -> str | None:
    found = re.search(r"Credential=([^/]+)/", authorization)
    return found.group(1) if found else None


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(result.get("statusCode", 200)))
    response.headers.clear()
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = value
    for name, values in (result.get("multiValueHeaders") or {}).items():
        response.headers.remove(name)
        for value in values:
            response.headers.add(name, value)
    return response
