"""Load protocol files into versioned protocol definitions."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.db import transaction
from pydantic import ValidationError

from trial.yamltext import yaml_load

from ..audit import audit_context
from ..models import Criterion, ProtocolVersion, Site, Study
from ..protocol_schema import DEFAULT_STUDY_ID_FORMAT, DEFAULT_TIME_ZONE, protocol_schema
from ..schema import problems


class ProtocolFileError(ValueError):
    """A protocol file that cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class LoadResult:
    version: ProtocolVersion
    created: bool


def protocol_parse(text: str) -> dict:
    """Parse a protocol file and check it against its schema (trial/protocol_schema.py, and the sections the
    apps declare); raises ProtocolFileError listing every problem.

    Returns the file's data as written (no value coerced or filled in, so that its fingerprint is the
    file's), with study_id_format's default when the file leaves it out.
    """
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolFileError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolFileError("a protocol file is a mapping of keys to values")
    try:
        protocol_schema().model_validate(data, context={"protocol": data})
    except ValidationError as exc:
        raise ProtocolFileError("; ".join(problems(exc, data))) from None
    data.setdefault("study_id_format", DEFAULT_STUDY_ID_FORMAT)
    return data


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
            follow_up_days=data.get("follow_up_days"),  # none in a retrospective study
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
                defaults={
                    "name": site["name"],
                    "time_zone": site.get("time_zone", DEFAULT_TIME_ZONE),
                    "cohort": site.get("cohort", ""),
                },
            )
        study.title, study.sponsor, study.current_version = data["title"], data["sponsor"], version
        study.save()
        return LoadResult(version=version, created=True)


def protocol_load_file(path: Path, *, actor=None) -> LoadResult:
    return protocol_load(text=path.read_text(encoding="utf-8"), source_name=path.name, actor=actor)
