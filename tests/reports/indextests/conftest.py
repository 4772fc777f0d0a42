"""Shared by the model-output tests: participants with registered levels, the CSV of their outputs, and a
client per role."""

import pytest
from django.test import Client
from django.utils import translation

from ..conftest import api_for, people  # noqa: F401 -- the people of the study in every role

HEADER = "study_id,level,model,version,split,probability"


@pytest.fixture
def cases(make_participant):
    """Two cases: one with T12 and L1 registered, one with L2."""
    return [make_participant(levels=("T12", "L1")), make_participant(levels=("L2",))]


def csv_of(cases, *, model="VGG-16", version="1.0", probabilities=(0.9, 0.2, 0.6), header=HEADER) -> str:
    first, second = cases
    vertebrae = [(first, "T12"), (first, "L1"), (second, "L2")]
    lines = [header] + [
        f"{case.study_id},{level},{model},{version},test,{p}"
        for (case, level), p in zip(vertebrae, probabilities, strict=True)
    ]
    return "\n".join(lines) + "\n"


def page_for(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def import_api(user, study, text: str, language: str = "en"):
    return api_for(user, language).post(
        f"/api/v1/studies/{study.code}/model-imports/",
        {"csv": text, "file_name": "outputs.csv"},
        format="json",
    )


def chinese_catalogue(language: str) -> None:
    """Skip a Chinese check until the catalogue holds this module's messages: the new messages' Chinese is
    in /work/po25/imports.json, which the lead merges into locale/ (helpers leave the .po alone)."""
    if language == "zh-hans":
        with translation.override("zh-hans"):
            if translation.gettext("Model outputs") == "Model outputs":
                pytest.skip("the Chinese of the model-output messages is not merged into the catalogue yet")
