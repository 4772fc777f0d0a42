"""Apps depend downward only: trial <- crf <- followup <- reports.

A lower app never imports a higher one, neither at the top of a module nor inside a function, and its models
never point at a higher app's models (a foreign key is a dependency too, in the migrations). Where a lower app
must let a higher one act, the higher app registers a hook at start-up (trial/hooks.py, crf/hooks.py).
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from pydantic import TypeAdapter

from crf import hooks as crf_hooks
from trial import hooks as trial_hooks
from trial.protocol_schema import ProtocolCore, protocol_schema

LAYERS = ("trial", "crf", "followup", "reports")
ROOT = Path(settings.BASE_DIR)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it stands (top level or inside a function)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _upward(app: str) -> list[str]:
    higher = LAYERS[LAYERS.index(app) + 1 :]
    problems = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for line, module in _imports(path):
            if module.split(".")[0] in higher:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_no_app_imports_a_higher_one(app):
    assert _upward(app) == []


def test_the_check_finds_an_upward_import(tmp_path, monkeypatch):
    """The walk sees imports inside functions too (the old `imported late` trick)."""
    app = tmp_path / "trial"
    app.mkdir()
    (app / "late.py").write_text("def f():\n    from followup.hooks import record_written\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _upward("trial") == ["trial/late.py:2 imports followup.hooks"]


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_no_model_points_at_a_higher_app(app):
    higher = set(LAYERS[LAYERS.index(app) + 1 :])
    pointing = [
        f"{model.__name__}.{field.name} -> {field.related_model._meta.label}"
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model._meta.app_label in higher
    ]
    assert pointing == []


def test_higher_apps_register_their_hooks():
    """Each extension point has its callables registered at start-up (a missing one fails here, not in
    production); the names say which app is expected."""
    registered = {
        hook.name: {function.__module__.split(".")[0] for function in hook}
        for hook in (
            trial_hooks.participant_status_changed,
            trial_hooks.protocol_sections,
            trial_hooks.dashboard_panels,
            trial_hooks.demo_stages,
            trial_hooks.bench_endpoints,
            trial_hooks.bench_jobs,
            trial_hooks.page_answers,
            trial_hooks.menu_items,
            trial_hooks.health_checks,
            trial_hooks.api_path_codes,
            crf_hooks.record_written,
            crf_hooks.visit_finder,
        )
    }
    assert registered == {
        "participant_status_changed": {"followup"},
        "protocol_sections": {"crf", "followup"},
        "dashboard_panels": {"followup"},
        "demo_stages": {"crf", "followup", "reports"},
        "bench_endpoints": {"crf", "followup", "reports"},
        "bench_jobs": {"followup", "reports"},
        "page_answers": {"followup"},
        "menu_items": {"trial", "crf", "followup", "reports"},
        "health_checks": {"followup"},
        "api_path_codes": {"crf"},
        "record_written": {"followup"},
        "visit_finder": {"followup"},
    }


def test_every_staff_message_kind_is_sent_by_the_app_that_declared_it():
    """followup.messaging.staff: the outbox sends staff messages of the kinds registered at start-up, the
    digests (followup) and a report ready (reports), without importing reports."""
    from followup.messaging.models import MessageKind
    from followup.messaging.staff import STAFF_MESSAGE_KINDS

    registered = {
        kind: handler.compose.__module__.split(".")[0] for kind, handler in STAFF_MESSAGE_KINDS.items()
    }
    assert registered == {
        MessageKind.DIGEST_DAILY: "followup",
        MessageKind.DIGEST_WEEKLY: "followup",
        MessageKind.REPORT_READY: "reports",
    }


def test_each_app_declares_the_schema_of_its_protocol_section():
    """trial.hooks.protocol_sections: crf declares `forms`, followup `visits`, `endpoint` and `adjudication`,
    each as a type that pydantic validates; trial joins them to its own keys without knowing them (its schema
    imports neither app)."""
    sections = {
        key: (function.__module__.split(".")[0], section)
        for function in trial_hooks.protocol_sections
        for key, section in function().items()
    }
    assert {key: app for key, (app, _section) in sections.items()} == {
        "forms": "crf",
        "visits": "followup",
        "endpoint": "followup",
        "adjudication": "followup",
    }
    for _app, section in sections.values():
        TypeAdapter(section)  # a declared type, not a function that checks
    joined = protocol_schema()
    assert set(joined.model_fields) == set(ProtocolCore.model_fields) | {
        "forms",
        "visits",
        "endpoint",
        "adjudication",
    }
    assert protocol_schema() is joined  # built once
