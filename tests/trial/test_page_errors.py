"""Domain errors on the pages are answered in one place (trial/pages.py): views call services through
`attempt`, and what escapes a view is answered by DomainErrorMiddleware. No page view catches them itself."""

import ast
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation

from trial.errors import Conflict, DomainError, Forbidden, InvalidInput, PreconditionRequired
from trial.pages import Attempt, DomainErrorMiddleware, attempt

ROOT = Path(settings.BASE_DIR)
PAGE_VIEWS = ("trial/views", "crf/views", "followup/views")
FAMILY = {cls.__name__ for cls in (DomainError, Conflict, Forbidden, InvalidInput, PreconditionRequired)} | {
    "LinkRefused",
    "ReasonRequired",
}


class NameForm(forms.Form):
    name = forms.CharField()
    service_fields = {"identity": "name"}


def refuse(error: DomainError):
    def service(**kwargs):
        raise error

    return service


def _handlers(path: Path, root: Path = ROOT) -> list[str]:
    """`except` clauses of a file that name an error of the domain family."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
            if names & FAMILY:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_page_view_catches_domain_errors_itself():
    views = [path for folder in PAGE_VIEWS for path in sorted((ROOT / folder).rglob("*.py"))]
    assert views, "no page views found"
    assert [where for path in views for where in _handlers(path)] == []


def test_the_scan_sees_a_handler(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text("try:\n    pass\nexcept (KeyError, services.Conflict):\n    pass\n")
    assert _handlers(sample, tmp_path) == ["view.py:3"]


def test_attempt_gives_the_value_of_a_service_that_succeeds():
    done = attempt(lambda *, x: x * 2, x=21)
    assert (bool(done), done.value, done.error, done.status) == (True, 42, None, 200)


def test_attempt_gives_back_an_input_error_and_puts_it_on_the_form():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    error = InvalidInput("Bad", field_errors={"name": ["Too short."], "other": ["Not a field here."]})
    done = attempt(refuse(error), form=form)
    assert (bool(done), done.error, done.status) == (False, error, 400)
    assert form.errors == {"name": ["Too short."], "__all__": ["Not a field here."]}


def test_a_service_field_is_shown_at_the_form_field_that_holds_it():
    form = NameForm({"name": "x"})
    form.is_valid()
    attempt(refuse(InvalidInput("No name", field_errors={"identity": ["Give the name."]})), form=form)
    assert form.errors == {"name": ["Give the name."]}


def test_an_error_without_fields_goes_above_the_form_with_its_status():
    form = NameForm({"name": "x"})
    form.is_valid()
    done = attempt(refuse(Conflict("Changed meanwhile.", code="stale_version")), form=form)
    assert done.status == 409 and form.non_field_errors() == ["Changed meanwhile."]


def test_a_refusal_of_the_user_escapes_but_a_wrong_password_does_not():
    with pytest.raises(Forbidden):
        attempt(refuse(Forbidden("Not your site.")))
    wrong = Forbidden("Wrong password.", code="bad_password", field_errors={"password": ["Wrong password."]})
    assert attempt(refuse(wrong)).error is wrong


def test_other_exceptions_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        attempt(lambda: 1 / 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status", "template_text"),
    [
        (Forbidden("Only site 07 staff."), 403, "Only site 07 staff."),
        (Conflict("The visit is already completed.", code="visit_not_pending"), 409, "The visit is already"),
        (InvalidInput("Bad input.", field_errors={"date": ["Give the date."]}), 400, "Give the date."),
    ],
)
def test_an_escaped_error_gets_a_friendly_page_with_its_status(error, status, template_text, coordinator):
    request = RequestFactory().get("/somewhere/")
    request.user = coordinator
    response = DomainErrorMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == status
    assert template_text in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_friendly_page_speaks_the_users_language(coordinator):
    request = RequestFactory().get("/somewhere/")
    request.user = coordinator
    with translation.override("zh-hans"):
        response = DomainErrorMiddleware(lambda r: None).process_exception(request, Conflict("x"))
    assert "返回" in response.content.decode()  # "Back to the dashboard", in Chinese


def test_other_exceptions_are_left_to_django():
    request = RequestFactory().get("/")
    assert DomainErrorMiddleware(lambda r: None).process_exception(request, ValueError("no")) is None


def test_an_attempt_is_falsy_only_on_error():
    assert not Attempt(error=Conflict("x")) and Attempt(value=0)
