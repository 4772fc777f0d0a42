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

from .. import hooks
from ..audit import audit_context
from ..eligibility import rule_errors
from ..i18n import LANGUAGES
from ..models import Criterion, ProtocolVersion, Site, Study

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


CORE_KEYS = {*REQUIRED_KEYS, "effective_date", "study_id_format"}


class ProtocolFileError(ValueError):
    """A protocol file that cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class LoadResult:
    version: ProtocolVersion
    created: bool


def text_errors(where: str, text: object) -> list[str]:
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
    errors += text_errors("title", data["title"])
    if not isinstance(data["sponsor"], str) or not data["sponsor"].strip():
        errors.append("sponsor: give the sponsor's name")
    errors += _section_errors(data)
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


def _section_errors(data: dict) -> list[str]:
    """The sections the apps built on trial read (crf: forms, followup: visits), each checked by its app;
    a key that neither trial nor any app reads is a mistake (a typo would otherwise be ignored)."""
    checks: dict = {}
    for sections in hooks.protocol_sections():
        checks.update(sections)
    errors = [
        f"unknown key {key!r}" for key in sorted(map(str, data)) if key not in CORE_KEYS and key not in checks
    ]
    for key, check in checks.items():
        if key in data:
            errors += check(data[key], protocol=data)
    return errors


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
        errors += text_errors(f"site {code} name", site.get("name"))
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
        errors += text_errors(f"criterion {code} text", criterion.get("text"))
        if criterion.get("rule") is not None:
            errors += [f"criterion {code} rule: {e}" for e in rule_errors(criterion["rule"])]
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
