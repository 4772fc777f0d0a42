"""Domain errors on the pages, answered in one place (the API's: trial.errors.api_exception_handler).

A page view calls a service through `attempt`, which hands back the result, or the domain error that refused
the input so that the page can redraw itself with its messages (put on the page's Django form when one is
given). A refusal of the whole request (the user's role, a dead link: DomainError.refuses_page) is not a
problem of the input: it escapes, as does any domain error a view lets through, and DomainErrorMiddleware
answers it with a friendly page in the user's language and the error's status: the 403 page for a refusal, a
plain page saying what went wrong otherwise, or the page an app registered for its own kind of error
(trial.hooks.page_answers, e.g. a patient's dead questionnaire link).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from .errors import DomainError, Forbidden
from .hooks import page_answers

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What a service call from a page came to: its value, or the domain error that refused it."""

    value: T | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The status of the page that redraws the form: the error's (400, 409...), else 200."""
        return self.error.status_code if self.error is not None else 200


def attempt(service: Callable[..., T], /, *, form=None, **kwargs) -> Attempt[T]:
    """Call a service for a page. A domain error about the input comes back in the Attempt (and onto `form`'s
    fields, the rest above the form); a refusal of the whole request (DomainError.refuses_page: the user's
    role, a dead link), and any other exception, escape to DomainErrorMiddleware."""
    try:
        return Attempt(value=service(**kwargs))
    except DomainError as error:
        if error.refuses_page:
            raise
        if form is not None:
            add_to_form(form, error)
        return Attempt(error=error)


def redraw_status(done: Attempt | None) -> int:
    """The status of a page redrawn with its form's messages: the service's refusal (400, 409...), or 400
    when the form's own checks failed before any service was called (`done` None)."""
    return done.status if done is not None else 400


def add_to_form(form, error: DomainError) -> None:
    """A service's field messages beside the form's fields; the rest (or the bare message) above the form.

    A form whose fields are named otherwise than the service's maps them in `service_fields`
    (e.g. the enrollment form's full_name for the service's identity)."""
    if not error.field_errors:
        form.add_error(None, error.message)
        return
    renamed = getattr(form, "service_fields", {})
    for field, messages in error.field_errors.items():
        field = renamed.get(field, field)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    """The page for a domain error that no form showed: never cached, in the request's language."""
    for answer in page_answers:
        response = answer(request, error)
        if response is not None:
            return response
    if isinstance(error, Forbidden):
        response = render(request, "403.html", {"exception": error.message}, status=error.status_code)
    else:
        response = render(request, "domain_error.html", {"error": error}, status=error.status_code)
    add_never_cache_headers(response)
    return response


class DomainErrorMiddleware:
    """Answers a domain error that escaped a page view (DRF views answer their own: they never get here)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return error_page(request, exception)
        return None
