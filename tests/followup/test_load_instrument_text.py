"""`manage.py load_instrument_text FILE`: a site's licensed wording, checked strictly, never printed.

Every file here is SYNTHETIC, written to tmp_path with made-up wording: the real ODI wording is licensed and
never in the repository.
"""

import copy
import hashlib
import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from followup.instruments import ODI
from followup.instruments.texts import instrument_text
from followup.models import InstrumentText

pytestmark = pytest.mark.django_db

SECRET = "Synthetic statement"  # the wording's marker: must never appear in output or messages


def odi_file(language="en", marker=SECRET) -> dict:
    return {
        "instrument": "odi",
        "version": "2.1a",
        "language": language,
        "title": "Synthetic questionnaire title",
        "instructions": "Synthetic instructions: tick one statement in each section.",
        "sections": [
            {
                "code": section.code,
                "title": f"Synthetic section {i}",
                "statements": [f"{marker} {i}.{j}" for j in range(6)],
            }
            for i, section in enumerate(ODI.sections)
        ],
    }


def vas_file(language="zh-hans") -> dict:
    return {
        "instrument": "vas",
        "version": "1.0",
        "language": language,
        "title": "Synthetic VAS title",
        "instructions": "Synthetic VAS instructions",
        "anchors": {"low": "Synthetic low anchor", "high": "Synthetic high anchor"},
    }


def write(tmp_path, data, name="odi.json") -> object:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def load(path) -> str:
    out = io.StringIO()
    call_command("load_instrument_text", str(path), stdout=out)
    return out.getvalue()


def test_a_json_file_is_loaded_with_its_hash_and_pages_use_it(tmp_path):
    path = write(tmp_path, odi_file("en"))
    output = load(path)
    assert "odi 2.1a (en): created" in output
    assert SECRET not in output and "Synthetic" not in output
    row = InstrumentText.objects.get()
    assert row.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert row.source_sha256 in output

    text = instrument_text("odi", "2.1a", "en")
    assert text["licensed"] is True and text["source_sha256"] == row.source_sha256
    assert text["title"] == "Synthetic questionnaire title"
    assert text["sections"][1]["code"] == "personal_care"
    assert text["sections"][1]["name"] == "Personal care"  # the registry's name beside the site's title
    assert text["sections"][1]["title"] == "Synthetic section 1"
    assert text["sections"][1]["statements"] == [f"{SECRET} 1.{j}" for j in range(6)]
    # Only English was loaded: Chinese pages keep the placeholders.
    chinese = instrument_text("odi", "2.1a", "zh-hans")
    assert chinese["licensed"] is False
    assert chinese["sections"][0]["statements"][5] == "陈述 5（最重）"  # noqa: RUF001


def test_a_yaml_file_in_chinese_and_the_vas_anchors(tmp_path):
    load(write(tmp_path, odi_file("zh-hans", marker="合成陈述"), name="odi-zh.yaml"))
    load(write(tmp_path, vas_file("zh-hans"), name="vas.yml"))
    assert instrument_text("odi", "2.1a", "zh-CN")["sections"][9]["statements"][0] == "合成陈述 9.0"
    vas = instrument_text("vas", "1.0", "zh-hans")
    assert vas["licensed"] is True
    assert vas["anchors"] == {"low": "Synthetic low anchor", "high": "Synthetic high anchor"}
    assert instrument_text("vas", "1.0", "en")["anchors"]["low"] == "No pain"  # not loaded in English


def test_reloading_is_unchanged_and_a_new_file_replaces_the_wording(tmp_path):
    path = write(tmp_path, odi_file("en"))
    load(path)
    assert "unchanged" in load(path)
    changed = odi_file("en", marker="Revised synthetic statement")
    output = load(write(tmp_path, changed))
    assert "updated" in output
    assert InstrumentText.objects.count() == 1
    assert (
        instrument_text("odi", "2.1a", "en")["sections"][0]["statements"][0]
        == "Revised synthetic statement 0.0"
    )


def test_placeholders_without_any_loaded_text_and_language_fallback():
    text = instrument_text("odi", "2.1a", "fr")
    assert (text["language"], text["licensed"]) == ("en", False)
    assert text["sections"][3]["statements"][0] == "Statement 0 (least)"
    assert "load_instrument_text" in text["instructions"]


def broken(mutate):
    data = odi_file("en")
    mutate(data)
    return data


def _set(path: list, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["sections"].pop(), "sections"),
        (lambda d: d["sections"][3]["statements"].pop(), "sections[3].statements"),
        (_set(["sections", 2, "statements", 4], ""), "sections[2].statements[4]"),
        (_set(["sections", 2, "statements", 4], 7), "sections[2].statements[4]"),
        (_set(["sections", 5, "code"], "standing_up"), "sections[5].code"),
        (lambda d: d["sections"].reverse(), "sections[0].code"),
        (_set(["sections", 1, "statement"], ["x"]), "sections[1].statement"),
        (_set(["sections", 1, "title"], "  "), "sections[1].title"),
        (_set(["version"], "2.0"), "version"),
        (_set(["version"], 2.1), "version"),
        (lambda d: d.pop("version"), "version"),
        (_set(["language"], "fr"), "language"),
        (_set(["title"], ""), "title"),
        (lambda d: d.pop("instructions"), "instructions"),
        (_set(["instructions"], "Synthetic\x00nul"), "instructions"),
        (_set(["title"], "x" * 501), "title"),
        (_set(["extra"], "?"), "extra"),
        (_set(["anchors"], {"low": "a", "high": "b"}), "anchors"),
    ],
)
def test_every_problem_is_named_and_nothing_is_half_loaded(tmp_path, mutate, where):
    load(write(tmp_path, odi_file("en", marker="Original synthetic statement"), name="good.json"))
    before = InstrumentText.objects.get().content
    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, broken(mutate)))
    message = str(refused.value)
    assert f"  {where}:" in message
    assert "Nothing was loaded" in message
    assert SECRET not in message
    assert InstrumentText.objects.get().content == before  # the previous wording, whole


def test_several_problems_are_reported_together(tmp_path):
    data = odi_file("en")
    data["language"] = "de"
    data["sections"][0]["statements"] = ["only one"]
    data["sections"][9]["code"] = "driving"
    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))
    message = str(refused.value)
    for where in ("language", "sections[0].statements", "sections[9].code"):
        assert f"  {where}:" in message
    assert InstrumentText.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "where"),
    [
        ('{"instrument": "odi", "sections": [', "odi.json", "line 1"),
        ("instrument: odi\n  sections: [\n", "odi.yaml", "line 2"),
        ("[1, 2, 3]", "odi.json", "  file:"),
        ('{"instrument": "sf36"}', "odi.json", "  instrument:"),
    ],
)
def test_unreadable_or_foreign_files_are_refused(tmp_path, content, name, where):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=where):
        load(path)
    assert InstrumentText.objects.count() == 0


def test_missing_not_utf8_and_oversized_files(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        load(tmp_path / "absent.json")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"title": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        load(latin)
    big = copy.deepcopy(odi_file("en"))
    big["instructions"] = "x" * 1_100_000
    with pytest.raises(CommandError, match="too large"):
        load(write(tmp_path, big))
    assert InstrumentText.objects.count() == 0


def test_vas_file_needs_both_anchors(tmp_path):
    data = vas_file("en")
    del data["anchors"]["high"]
    data["anchors"]["middle"] = "Synthetic"
    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data, name="vas.json"))
    assert "  anchors.high:" in str(refused.value) and "  anchors.middle:" in str(refused.value)
