"""The schema of a protocol file (trial/protocols/FORMAT.md): the keys trial reads, declared here, and the
sections higher apps read (crf: `forms`, followup: `visits`), declared by them through
trial.hooks.protocol_sections and joined into one model, so that one pass lists every problem of the file.
"""

import datetime
import functools
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, create_model, model_validator

from . import hooks
from .eligibility import rule_errors
from .schema import NonBlank, StrictModel, Text, code, fail_if, invalid, problem, says, shaped, unique

STUDY_CODE = r"^[A-Za-z0-9_-]{1,32}$"
CRITERION_CODE = r"^[A-Za-z0-9_]{1,32}$"
SITE_CODE = r"^[A-Za-z0-9]{1,8}$"
VERSION_LABEL = r"^\S{1,32}$"
GROUP_CODE = r"^[a-z][a-z0-9_]{0,31}$"
PROSPECTIVE, RETROSPECTIVE = "prospective", "retrospective"
DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_STUDY_ID_FORMAT = "{site}-{number:04d}"


def _time_zone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ValueError("unknown")
    return name


def _study_id_format(text: str) -> str:
    """Study IDs are `text.format(site=..., number=...)`: both must be used, and numbers must tell apart."""
    try:
        one, two = (text.format(site="07", number=n) for n in (1, 2))
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a valid format: {exc}") from None
    if "{site" not in text or one == two:
        raise ValueError("must use {site} and {number}")
    return text


def _rule(rule: Any) -> Any:
    """A computed criterion's rule (trial/eligibility.py), checked by the code that judges it."""
    fail_if([problem((), error) for error in rule_errors(rule)])
    return rule


class Site(StrictModel):
    code: code(SITE_CODE, "07")
    name: Text
    time_zone: Annotated[str, AfterValidator(_time_zone), says("unknown time zone")] = DEFAULT_TIME_ZONE
    # Which data set the centre's cases belong to in a model-development study; left out: not said.
    cohort: Literal["development", "external_validation"] = None


class Criterion(StrictModel):
    code: code(CRITERION_CODE, "INC1")
    kind: Literal["inclusion", "exclusion"]
    text: Text
    rule: Annotated[Any, AfterValidator(_rule)] = None


class Group(StrictModel):
    """One of the registry's arms (groups): a case is put in one at registration."""

    code: code(GROUP_CODE, "acute", rule="must be lower case letters, digits and _, starting with a letter")
    label: Text
    target: Annotated[int, Field(gt=0), says("must be a positive whole number")]


class Design(StrictModel):
    """How cases enter the study and what is analysed (FORMAT.md, `design:`)."""

    # prospective: screened, consented, enrolled. retrospective: consent waived by the ethics committee, an
    # eligible case is registered from the records directly (no consent step), and there is no follow-up.
    registration: Literal["prospective", "retrospective"] = PROSPECTIVE
    unit: Literal["participant", "vertebra"] = "participant"
    groups: Annotated[list[Group], Field(min_length=1), unique(), shaped("list at least one group")] = None


class Security(StrictModel):
    """How staff of the study sign in (trial/twofactor.py)."""

    # Coordinators sign in with a second factor too (the other roles always do when it is on).
    coordinator_two_factor: Annotated[bool, says("must be true or false")] = False


class ProtocolCore(StrictModel):
    """The keys trial reads; the apps add their sections (`forms`, `visits`) through protocol_schema()."""

    code: code(STUDY_CODE, "NCT06379243")
    version: code(VERSION_LABEL, "1.0")
    title: Text
    sponsor: Annotated[NonBlank, says("give the sponsor's name")]
    target_enrollment: Annotated[int, Field(gt=0), says("must be a positive whole number")]
    # Required of a prospective study, left out of a retrospective one (_follow_up_problems).
    follow_up_days: Annotated[int, Field(gt=0), says("must be a positive whole number of days")] = None
    effective_date: Annotated[datetime.date, says("must be a date (YYYY-MM-DD)")] = None
    study_id_format: Annotated[
        str, says("must be a string such as '{site}-{number:04d}'"), AfterValidator(_study_id_format)
    ] = DEFAULT_STUDY_ID_FORMAT
    sites: Annotated[list[Site], Field(min_length=1), unique(), shaped("list at least one site")]
    criteria: Annotated[list[Criterion], Field(min_length=1), unique(), shaped("list at least one criterion")]
    security: Security = None
    design: Design = None

    @model_validator(mode="wrap")
    @classmethod
    def _follow_up_fits(cls, data: Any, handler):
        """Follow-up belongs to a prospective study: judged on the file as written, so that it is listed
        beside every other problem of the file."""
        own = _follow_up_problems(data) if isinstance(data, dict) else []
        try:
            result = handler(data)
        except ValidationError as exc:
            if not own:
                raise
            raise invalid(exc.errors() + own) from None
        fail_if(own)
        return result

    @model_validator(mode="after")
    def _groups_make_the_target(self):
        """The groups' targets are the study's target, split: the dashboard reads both."""
        groups = (self.design and self.design.groups) or []
        total = sum(group.target for group in groups)
        if groups and total != self.target_enrollment:
            message = f"the targets add up to {total}, not target_enrollment ({self.target_enrollment})"
            fail_if([problem(("design", "groups"), message)])
        return self


def _follow_up_problems(data: dict) -> list:
    design = data.get("design")
    registration = design.get("registration", PROSPECTIVE) if isinstance(design, dict) else PROSPECTIVE
    if registration == RETROSPECTIVE and "follow_up_days" in data:
        return [problem(("follow_up_days",), "a retrospective study has no follow-up: leave it out")]
    if registration == PROSPECTIVE and "follow_up_days" not in data:
        return [problem((), "missing follow_up_days (a prospective study follows its participants)")]
    return []


def protocol_schema() -> type[ProtocolCore]:
    """The model of a whole protocol file: trial's keys and every section the apps registered."""
    sections: dict[str, Any] = {}
    for registered in hooks.protocol_sections():
        sections.update(registered)
    return _joined(tuple(sorted(sections.items(), key=lambda item: item[0])))


@functools.cache
def _joined(sections: tuple) -> type[ProtocolCore]:
    clash = {key for key, _type in sections} & set(ProtocolCore.model_fields)
    if clash:
        raise TypeError(f"protocol sections {sorted(clash)} are trial's own keys")
    return create_model(
        "ProtocolFile",
        __base__=ProtocolCore,
        # A section is optional, but one that is there is checked (`visits:` left empty is a mistake).
        **{key: (section, None) for key, section in sections},
    )
