"""followup.demo_wording: seed_demo's ODI wording, plainly a demonstration, never loaded over a site's own."""

import json

import pytest
import yaml

from followup.demo_wording import demo_wording_files, demo_wording_load, demo_wording_stage
from followup.instruments import ODI
from followup.instruments.texts import instrument_text, text_file_clean
from followup.models import InstrumentText
from followup.services.questionnaires import instrument_text_load
from trial import hooks
from trial.errors import InvalidInput

pytestmark = pytest.mark.django_db


def site_file(language: str) -> bytes:
    """A site's own (synthetic) wording: not marked as a demonstration."""
    return json.dumps(
        {
            "instrument": "odi",
            "version": "2.1a",
            "language": language,
            "title": "Site title",
            "instructions": "Site instructions",
            "sections": [
                {"code": s.code, "title": f"Site {i}", "statements": [f"Site {i}.{j}" for j in range(6)]}
                for i, s in enumerate(ODI.sections)
            ],
        }
    ).encode()


def test_the_shipped_files_are_marked_in_every_statement_and_pass_the_sites_loader():
    files = demo_wording_files()
    assert [path.name for path in files] == ["odi-2.1a-demo-en.yaml", "odi-2.1a-demo-zh-hans.yaml"]
    for path, marker in zip(files, ("DEMONSTRATION TEXT, not the ODI", "演示文本，不是 ODI"), strict=True):  # noqa: RUF001
        instrument, language, content = text_file_clean(yaml.safe_load(path.read_bytes()))
        assert (instrument, content["demonstration"]) == (ODI, True)
        assert ("DEMONSTRATION TEXT" if language == "en" else "演示文本") in content["title"]
        statements = [statement for section in content["sections"] for statement in section["statements"]]
        assert len(statements) == 60 and all(statement.startswith(marker) for statement in statements)


def test_the_stage_loads_both_languages_once_and_pages_know_it_is_a_demonstration(study):
    assert demo_wording_stage in list(hooks.demo_stages)
    first = demo_wording_stage(study=study, seed=1)
    assert first.line.endswith("en created, zh-hans created")
    assert demo_wording_stage(study=study, seed=2).line.endswith("en unchanged, zh-hans unchanged")
    assert InstrumentText.objects.count() == 2
    shown = instrument_text("odi", "2.1a", "zh-hans")
    assert (shown["licensed"], shown["demonstration"]) == (False, True)
    assert shown["sections"][0]["statements"][0] == "演示文本，不是 ODI：疼痛程度 第 0 级（共 5 级），最轻"  # noqa: RUF001


def test_a_sites_own_wording_is_never_replaced_by_the_demo(study):
    instrument_text_load(raw=site_file("zh-hans"), name="odi-zh.json")
    before = InstrumentText.objects.values().get(language="zh-hans")
    added = demo_wording_stage(study=study, seed=1)
    assert added.line.endswith("en created, zh-hans kept: the site's wording")
    assert InstrumentText.objects.values().get(language="zh-hans") == before
    assert instrument_text("odi", "2.1a", "zh-hans")["licensed"] is True
    # and a site's file loaded after the demo replaces the demo's wording
    instrument_text_load(raw=site_file("en"), name="odi-en.json")
    assert instrument_text("odi", "2.1a", "en")["title"] == "Site title"
    again = demo_wording_stage(study=study, seed=1).line
    assert again.endswith("en kept: the site's wording, zh-hans kept: the site's wording")


def test_an_unmarked_file_is_refused(tmp_path):
    data = yaml.safe_load(demo_wording_files()[0].read_bytes())
    del data["demonstration"]
    path = tmp_path / "odi-unmarked.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="demonstration: true"):
        demo_wording_load(path)
    assert not InstrumentText.objects.exists()


def test_the_mark_is_a_boolean_and_absent_from_a_sites_content():
    data = yaml.safe_load(demo_wording_files()[0].read_bytes())
    with pytest.raises(InvalidInput) as refused:
        text_file_clean({**data, "demonstration": "yes"})
    assert refused.value.field_errors == {"demonstration": ["true or false."]}
    assert "demonstration" not in text_file_clean({**data, "demonstration": False})[2]
