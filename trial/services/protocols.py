"""Load protocol files into versioned protocol definitions."""

import datetime
import hashlib
import json
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.db import transaction

from ..audit import audit_context
from ..eligibility import rule_errors
from ..models import Criterion, ProtocolVersion, Site, Study

LANGUAGES = ("en", "zh-hans")
REQUIRED_KEYS = (
    "code",
    "version",
    "title",
    "sponsor",
    "target_enrollment",
    "follow_up_days",
    "sites",
    "criteria",
)


class ProtocolFileError(ValueError):
    """A protocol file that cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class LoadResult:
    version: ProtocolVersion
    created: bool


def _text_errors(where: str, text: object) -> list[str]:
    if not isinstance(text, dict) or any(
        not isinstance(text.get(lang), str) or not text[lang].strip() for lang in LANGUAGES
    ):
        return [f"{where}: give the text in {' and '.join(LANGUAGES)}"]
    return []


STUDY_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CRITERION_CODE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
SITE_CODE = re.compile(r"^[A-Za-z0-9]{1,8}$")
VERSION_LABEL = re.compile(r"^\S{1,32}$")


def _code_error(where: str, value: object, pattern: re.Pattern, example: str) -> str | None:
    """Codes must be quoted strings: unquoted YAML turns 07 into 7 and 1.10 into 1.1 without a word."""
    if not isinstance(value, str):
        return f"{where}: write it as a quoted string, e.g. {example!r} (got {value!r})"
    if not pattern.match(value):
        return f"{where}: {value!r} does not match {pattern.pattern}"
    return None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def protocol_parse(text: str) -> dict:
    """Parse and check a protocol file; raises ProtocolFileError listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolFileError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolFileError("a protocol file is a mapping of keys to values")
    errors = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in data]
    if errors:
        raise ProtocolFileError("; ".join(errors))
    errors += [
        e
        for e in (
            _code_error("code", data["code"], STUDY_CODE, "NCT06379243"),
            _code_error("version", data["version"], VERSION_LABEL, "1.0"),
        )
        if e
    ]
    errors += _text_errors("title", data["title"])
    if not isinstance(data["sponsor"], str) or not data["sponsor"].strip():
        errors.append("sponsor: give the sponsor's name")
    forms = data.get("forms", [])
    if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
        errors.append("forms: a list of form codes")
        forms = []
    if "visits" in data:
        errors += visits_errors(data["visits"], protocol_forms=forms)
    for key in ("target_enrollment", "follow_up_days"):
        if not _positive_int(data[key]):
            errors.append(f"{key} must be a positive whole number")
    if "effective_date" in data and not isinstance(data["effective_date"], datetime.date):
        errors.append("effective_date must be a date (YYYY-MM-DD)")
    id_format = data.setdefault("study_id_format", "{site}-{number:04d}")
    if not isinstance(id_format, str):
        errors.append("study_id_format must be a string such as '{site}-{number:04d}'")
        id_format = ""
    try:
        if "{site" not in id_format or id_format.format(site="07", number=1) == id_format.format(
            site="07", number=2
        ):
            errors.append("study_id_format must use {site} and {number}")
    except (KeyError, IndexError, ValueError) as exc:
        errors.append(f"study_id_format is not a valid format: {exc}")
    errors += _site_errors(data["sites"])
    errors += _criteria_errors(data["criteria"])
    if errors:
        raise ProtocolFileError("; ".join(errors))
    return data


def _site_errors(sites: object) -> list[str]:
    if not isinstance(sites, list) or not sites:
        return ["sites: list at least one site"]
    errors, seen = [], set()
    for i, site in enumerate(sites):
        code = site.get("code") if isinstance(site, dict) else None
        if code is None:
            errors.append(f"sites[{i}]: missing code")
            continue
        if error := _code_error(f"sites[{i}] code", code, SITE_CODE, "07"):
            errors.append(error)
            continue
        if code in seen:
            errors.append(f"sites[{i}]: duplicate code {code!r}")
        seen.add(code)
        errors += _text_errors(f"site {code} name", site.get("name"))
        time_zone = site.get("time_zone", "Asia/Shanghai")
        if not isinstance(time_zone, str) or time_zone not in zoneinfo.available_timezones():
            errors.append(f"site {code}: unknown time zone {site.get('time_zone')!r}")
    return errors


def _criteria_errors(criteria: object) -> list[str]:
    if not isinstance(criteria, list) or not criteria:
        return ["criteria: list at least one criterion"]
    errors, seen = [], set()
    for i, criterion in enumerate(criteria):
        if not isinstance(criterion, dict) or criterion.get("code") is None:
            errors.append(f"criteria[{i}]: missing code")
            continue
        if error := _code_error(f"criteria[{i}] code", criterion["code"], CRITERION_CODE, "INC1"):
            errors.append(error)
            continue
        code = criterion["code"]
        if code in seen:
            errors.append(f"criterion {code}: duplicate code")
        seen.add(code)
        if criterion.get("kind") not in ("inclusion", "exclusion"):
            errors.append(f"criterion {code}: kind must be inclusion or exclusion")
        errors += _text_errors(f"criterion {code} text", criterion.get("text"))
        if criterion.get("rule") is not None:
            errors += [f"criterion {code} rule: {e}" for e in rule_errors(criterion["rule"])]
    return errors


# --- the visit schedule (trial/protocols/FORMAT.md) -------------------------------------------------------

ANCHOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
VISIT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")  # Visit.code is 16 characters, and a URL slug
UNSCHEDULED_CODE = re.compile(r"^U[0-9]+$")  # handed out to unscheduled visits: U1, U2...
PARTICIPANT_DATES = ("enrollment_date", "consent_date")
VISITS_KEYS = {"anchors", "schedule", "unscheduled"}
ITEM_KEYS = {
    "code",
    "label",
    "anchor",
    "day",
    "window_before",
    "window_after",
    "forms",
    "questionnaires",
    "repeat",
}
REPEAT_KEYS = {"every", "count", "number_from", "number_step"}
MAX_REPEAT = 100


def _whole(value: object, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _unknown_keys(where: str, mapping: dict, allowed: set[str]) -> list[str]:
    unknown = sorted(str(key) for key in set(mapping) - allowed)
    return [f"{where}: unknown key(s) {', '.join(unknown)}"] if unknown else []


def _collected_errors(where: str, value: object, *, kind: str) -> list[str]:
    """`forms` and `questionnaires`: lists of distinct codes that exist."""
    from crf.engine.definitions import form_definition  # crf and followup build on trial: imported late
    from followup.models import Instrument

    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        return [f"{where}: a list of codes"]
    errors = [f"{where}: {code!r} is listed twice" for code in sorted(set(value)) if value.count(code) > 1]
    if kind == "forms":
        errors += [f"{where}: no CRF form {code!r}" for code in value if form_definition(code) is None]
    else:
        errors += [
            f"{where}: no questionnaire {code!r} (choose from {', '.join(Instrument.values)})"
            for code in value
            if code not in Instrument.values
        ]
    return errors


def _anchor_errors(anchors: object, protocol_forms: list) -> list[str]:
    from crf.engine.definitions import form_definition

    if not isinstance(anchors, dict) or not anchors:
        return [
            "visits.anchors: name at least one anchor date, "
            "e.g. procedure: {form: procedure, field: procedure_date}"
        ]
    errors = []
    for name, spec in anchors.items():
        where = f"visits.anchors.{name}"
        if not isinstance(name, str) or not ANCHOR_NAME.match(name):
            errors.append(f"{where}: an anchor name matches {ANCHOR_NAME.pattern}")
        if not isinstance(spec, dict):
            errors.append(f"{where}: {{participant: enrollment_date}} or {{form: F, field: X}}")
        elif set(spec) == {"participant"}:
            if spec["participant"] not in PARTICIPANT_DATES:
                errors.append(f"{where}: the participant's date is one of {', '.join(PARTICIPANT_DATES)}")
        elif set(spec) == {"form", "field"}:
            form = form_definition(spec["form"]) if isinstance(spec["form"], str) else None
            field = form.field(spec["field"]) if form and isinstance(spec["field"], str) else None
            if form is None:
                errors.append(f"{where}: no CRF form {spec['form']!r}")
            elif spec["form"] not in protocol_forms:
                errors.append(f"{where}: form {spec['form']!r} is not among the protocol's forms")
            if form is not None and (field is None or field.type != "date"):
                errors.append(f"{where}: {spec['form']}.{spec['field']} is not a top-level date field")
        else:
            errors.append(f"{where}: {{participant: enrollment_date}} or {{form: F, field: X}}")
    return errors


def _repeat_errors(where: str, item: dict) -> list[str]:
    """A repeating item numbers its occurrences: its code and each label must say where, with {n}."""
    repeat = item.get("repeat")
    label = item.get("label") if isinstance(item.get("label"), dict) else {}
    numbered = [("code", item.get("code"))] + [
        (f"label {language}", text) for language, text in label.items()
    ]
    if repeat is None:
        return [
            f"{where}: {{n}} in the {part} needs `repeat`" for part, text in numbered if "{n}" in str(text)
        ]
    if not isinstance(repeat, dict):
        return [f"{where} repeat: {{every: days, count: visits}}"]
    errors = _unknown_keys(f"{where} repeat", repeat, REPEAT_KEYS)
    if not _whole(repeat.get("every"), minimum=1):
        errors.append(f"{where} repeat: every must be a whole number of days, at least 1")
    if not _whole(repeat.get("count"), minimum=2) or repeat["count"] > MAX_REPEAT:
        errors.append(f"{where} repeat: count must be a whole number from 2 to {MAX_REPEAT}")
    if not _whole(repeat.get("number_from", 1), minimum=0):
        errors.append(f"{where} repeat: number_from must be a whole number, 0 or more")
    if not _whole(repeat.get("number_step", 1), minimum=1):
        errors.append(f"{where} repeat: number_step must be a whole number, at least 1")
    errors += [
        f"{where}: a repeating item's {part} must contain {{n}}"
        for part, text in numbered
        if "{n}" not in str(text)
    ]
    return errors


def _item_errors(where: str, item: dict, anchors: dict) -> list[str]:
    errors = _unknown_keys(where, item, ITEM_KEYS)
    errors += [
        f"{where}: missing {key}"
        for key in sorted(ITEM_KEYS - {"forms", "questionnaires", "repeat"})
        if key not in item
    ]
    code = item.get("code")
    if "code" in item and not isinstance(code, str):
        errors.append(f"{where}: write the code as a string, e.g. 'M12' (got {code!r})")
    if "label" in item:
        errors += _text_errors(f"{where} label", item["label"])
    if "anchor" in item and (not isinstance(item["anchor"], str) or item["anchor"] not in anchors):
        errors.append(f"{where}: anchor {item['anchor']!r} is not one of visits.anchors")
    for key in ("day", "window_before", "window_after"):
        if key in item and not _whole(item[key], minimum=0):
            errors.append(f"{where}: {key} must be a whole number of days, 0 or more")
    day, before = item.get("day"), item.get("window_before")
    if _whole(day, minimum=0) and _whole(before, minimum=0) and before > day:
        errors.append(f"{where}: the window opens before the anchor date (window_before > day)")
    for key in ("forms", "questionnaires"):
        if key in item:
            errors += _collected_errors(f"{where} {key}", item[key], kind=key)
    errors += _repeat_errors(where, item)
    return errors


def visits_errors(visits: object, *, protocol_forms: list) -> list[str]:
    """Every problem of a `visits:` section (trial/protocols/FORMAT.md), each naming where it is."""
    from followup.schedule import occurrences  # the one rule that expands repeats

    if not isinstance(visits, dict):
        return ["visits: a mapping with anchors, schedule and (optionally) unscheduled"]
    errors = _unknown_keys("visits", visits, VISITS_KEYS)
    anchors = visits.get("anchors")
    errors += _anchor_errors(anchors, protocol_forms)
    anchors = anchors if isinstance(anchors, dict) else {}
    schedule = visits.get("schedule")
    if not isinstance(schedule, list) or not schedule:
        errors.append("visits.schedule: list at least one visit")
        schedule = []
    seen: dict[str, str] = {}
    for i, item in enumerate(schedule):
        where = f"visits.schedule[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: a mapping with code, label, anchor, day, window_before, window_after")
            continue
        if isinstance(item.get("code"), str):
            where = f"{where} ({item['code']})"
        item_errors = _item_errors(where, item, anchors)
        errors += item_errors
        if item_errors:
            continue  # its codes cannot be expanded reliably
        for code, _label, _day in occurrences(item):
            if not VISIT_CODE.match(code):
                errors.append(f"{where}: visit code {code!r} does not match {VISIT_CODE.pattern}")
            elif UNSCHEDULED_CODE.match(code):
                errors.append(f"{where}: visit code {code!r} is kept for unscheduled visits (U1, U2...)")
            elif code in seen:
                errors.append(f"{where}: visit code {code!r} is also given by {seen[code]}")
            seen.setdefault(code, where)
    unscheduled = visits.get("unscheduled", {})
    if not isinstance(unscheduled, dict):
        errors.append("visits.unscheduled: a mapping with forms and questionnaires")
    else:
        errors += _unknown_keys("visits.unscheduled", unscheduled, {"label", "forms", "questionnaires"})
        if "label" in unscheduled:
            errors += _text_errors("visits.unscheduled label", unscheduled["label"])
        for key in ("forms", "questionnaires"):
            if key in unscheduled:
                errors += _collected_errors(f"visits.unscheduled {key}", unscheduled[key], kind=key)
    return errors


def _fingerprint(data: dict) -> str:
    """Hash of the parsed content, so comments and layout do not make a new version."""
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def protocol_load(*, text: str, source_name: str, actor=None) -> LoadResult:
    """Load a protocol file: a first load or a changed file creates a new version, an unchanged one nothing.

    Atomic so that a version never exists without all of its criteria and sites.
    Earlier screenings keep the version they were judged under.
    """
    data = protocol_parse(text)
    sha = _fingerprint(data)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=f"protocol file {source_name}"):
        study, _ = Study.objects.select_for_update().get_or_create(
            code=data["code"], defaults={"title": data["title"], "sponsor": data["sponsor"]}
        )
        latest = study.versions.order_by("-number").first()
        if latest and latest.sha256 == sha:
            return LoadResult(version=latest, created=False)
        if study.versions.filter(sha256=sha).exists():
            raise ProtocolFileError(
                f"{data['code']}: this content is an earlier version; amend it with a new label"
            )
        if study.versions.filter(label=data["version"]).exists():
            raise ProtocolFileError(
                f"{data['code']}: the content changed but version {data['version']!r} is already loaded; "
                "an amendment needs a new version label"
            )
        version = ProtocolVersion.objects.create(
            study=study,
            number=(latest.number + 1) if latest else 1,
            label=data["version"],
            effective_date=data.get("effective_date"),
            sha256=sha,
            source_name=source_name,
            definition=json.loads(json.dumps(data, default=str)),
            target_enrollment=data["target_enrollment"],
            follow_up_days=data["follow_up_days"],
            study_id_format=data["study_id_format"],
        )
        Criterion.objects.bulk_create(
            Criterion(
                protocol_version=version,
                code=str(c["code"]),
                kind=c["kind"],
                text=c["text"],
                rule=c.get("rule"),
                order=i,
            )
            for i, c in enumerate(data["criteria"])
        )
        codes = [site["code"] for site in data["sites"]]
        taken = sorted(
            Site.objects.filter(code__in=codes).exclude(study=study).values_list("code", flat=True)
        )
        if taken:
            raise ProtocolFileError(
                f"{data['code']}: site code(s) {', '.join(taken)} belong to another study; site codes prefix "
                "study IDs and must be unique across studies"
            )
        for site in data["sites"]:
            Site.objects.update_or_create(
                study=study,
                code=str(site["code"]),
                defaults={"name": site["name"], "time_zone": site.get("time_zone", "Asia/Shanghai")},
            )
        study.title, study.sponsor, study.current_version = data["title"], data["sponsor"], version
        study.save()
        return LoadResult(version=version, created=True)


def protocol_load_file(path: Path, *, actor=None) -> LoadResult:
    return protocol_load(text=path.read_text(encoding="utf-8"), source_name=path.name, actor=actor)
