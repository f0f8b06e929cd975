"""``create_app(settings)``: the routes of the fake Gemini API, and nothing but routing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.allocator import limit_allocator_growth
from mock_server.answer.reply import new_response_id
from mock_server.api import files, interactions, webhooks
from mock_server.api.batch.routes import create_batch
from mock_server.api.batch.routes import routes as batch_routes
from mock_server.api.generate import count_tokens, generate_content
from mock_server.api.models import get_model, list_models, resolve_model
from mock_server.api.streaming import label_stream_error, stream_generate_content
from mock_server.api.vertex import batch_prediction
from mock_server.api.vertex.routes import routes as vertex_routes
from mock_server.instrument.admin import admin_routes
from mock_server.instrument.admin_guard import ADMIN_PREFIX, admin_gate
from mock_server.instrument.journal import record_exchange
from mock_server.instrument.replay import ReplayMiddleware
from mock_server.instrument.scenario_rules import rules_of
from mock_server.instrument.scenarios import ScenarioFault, fault_response
from mock_server.runtime import Runtime, runtime_of
from mock_server.settings import Settings
from mock_server.web.answers import AnswerCache
from mock_server.web.errors import ApiError, error_response
from mock_server.web.front import ExceptionLayer, Front
from mock_server.web.http import check_version, require_key
from mock_server.web.log_redaction import install_log_redaction
from schemas import ModelProfile

__all__ = ["MODEL_ACTIONS", "app_from_env", "create_app"]

ModelAction = Callable[[Request, ModelProfile], Awaitable[Response]]

MODEL_ACTIONS: dict[str, ModelAction] = {
    "generateContent": generate_content,
    "countTokens": count_tokens,
    "streamGenerateContent": stream_generate_content,
    "batchGenerateContent": create_batch,
}
"""``POST models/{model}:{action}`` handlers; feature modules register more (e.g. streaming)."""


async def model_action(request: Request) -> Response:
    version = check_version(request)
    target = str(request.path_params["target"])
    name, _, action = target.rpartition(":")
    handler = MODEL_ACTIONS.get(action)
    if not name or handler is None:
        raise ApiError.named("not_found_path")
    try:
        require_key(request)
        return await handler(request, resolve_model(name, version, action, runtime_of(request).settings))
    except ApiError as error:
        label_stream_error(request, action, error)
        raise


async def on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = ApiError.named("method_not_allowed")
        error.headers.update(exc.headers or {})  # Starlette's Allow: the methods the path takes
        return error_response(error)
    return error_response(ApiError.named("not_found_path"))


class _ApiRoute(Route):
    """A route that answers its endpoint's ``ApiError`` itself (the endpoint has sent nothing yet: it
    returns its response) and leaves other exceptions to the app's exception layer, instead of
    Starlette's per-route copy of that layer: a refusal does not unwind through the router."""

    def __init__(self, path: str, endpoint: Callable[[Request], Awaitable[Response]], method: str) -> None:
        super().__init__(path, endpoint, methods=[method])

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                response = await endpoint(Request(scope, receive, send))
            except ApiError as error:
                response = error_response(error)
            await response(scope, receive, send)

        self.app = app


class _ModelRoute(_ApiRoute):
    """``/{version}/models/{target:path}``, matched by splitting the path once instead of by the route's
    regular expression (every generateContent request is matched here)."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]], method: str) -> None:
        super().__init__("/{version}/models/{target:path}", endpoint, method)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            version, marker, target = get_route_path(scope)[1:].partition("/models/")
            if marker and version and "/" not in version:
                child = {"endpoint": self.endpoint, "path_params": {"version": version, "target": target}}
                return (Match.FULL if scope["method"] in (self.methods or ()) else Match.PARTIAL), child
        return Match.NONE, {}


class _AppState(State):
    """``app.state`` with ``settings`` and ``runtime`` as plain attributes. Starlette's ``State`` keeps
    its values in a dict behind ``__getattr__``, which Python calls only after an ordinary look-up
    failed: every read paid for an AttributeError, several times per request."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        super().__init__({"settings": settings, "runtime": runtime})
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "runtime", runtime)


class _App(Starlette):
    """Starlette with two thin layers of our own instead of Starlette's two: outermost the front (the
    admin gate, the journal and the guard: ``web/front.py``), innermost the exception handlers around the
    router (so the front and the optional replay and defect layers see every answer's real status)."""

    admin_keys: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = ExceptionLayer(self.router, self.exception_handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        # Replay and defect layers change answers between the front and the handlers: with them, the
        # front remembers nothing (web/answers.py).
        budget = self.state.settings.answer_cache_bytes
        answers = None if self.user_middleware or not budget else AnswerCache(
            new_response_id, self._no_rule_may_fire, max_bytes=budget)
        return Front(app, observer=record_exchange, gates={ADMIN_PREFIX: admin_gate(self.admin_keys)},
                     answers=answers)

    def _no_rule_may_fire(self, _scope: Scope) -> bool:
        return not rules_of(self.state.runtime).may_fire()


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    # The router tries routes in order: the busiest first (the paths do not overlap).
    routes = [
        _ModelRoute(model_action, "POST"),
        _ApiRoute("/{version}/models", list_models, "GET"),
        _ModelRoute(get_model, "GET"),
        *admin_routes(),
        *files.routes(),
        *vertex_routes(),
        *batch_prediction.routes(),
        *batch_routes(),
        *interactions.routes(),
        *webhooks.routes(),
    ]
    middleware: list[Middleware] = []
    if settings.replay_dir:
        middleware.append(Middleware(ReplayMiddleware, settings.replay_dir, settings.replay_miss))
    if settings.defect:
        from mock_server.instrument.defects import apply_defect  # the contract suite's self-test only

        middleware.append(Middleware(apply_defect, settings.defect))
    app = _App(
        routes=routes,
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, ScenarioFault: fault_response},
        middleware=middleware,
    )
    app.admin_keys = settings.admin_keys or settings.api_keys
    app.router.redirect_slashes = False  # Google answers /v1beta/files/ with a 404 envelope, not a 307
    install_log_redaction((*settings.api_keys, *settings.admin_keys))
    app.state = _AppState(settings, Runtime.create(settings))
    files.install(app.state.runtime)
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn worker processes: settings arrive through the environment."""
    limit_allocator_growth()
    return create_app(Settings.from_env())
