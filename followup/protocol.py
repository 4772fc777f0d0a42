"""The `visits:`, `endpoint:` and `adjudication:` sections of a protocol file (trial/protocols/FORMAT.md):
declared here, where visits, the endpoint and adjudication are understood, and registered with trial's
protocol schema (trial.hooks.protocol_sections)."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crf.engine.definitions import form_definition, form_definitions
from crf.protocol import FormCode, FormCodes
from trial.schema import StrictModel, Text, code, distinct, fail_if, problem, says, shaped

from .models import Instrument
from .question import CaseSource, Part
from .schedule import NUMBER, occurrences  # the one rule that expands repeats

ANCHOR_NAME = r"^[a-z][a-z0-9_]{0,31}$"
VISIT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")  # Visit.code is 16 characters, and a URL slug
UNSCHEDULED_CODE = re.compile(r"^U[0-9]+$")  # handed out to unscheduled visits: U1, U2...
PARTICIPANT_DATES = ("enrollment_date", "consent_date")
MAX_REPEAT = 100
ANCHOR_SHAPE = "{participant: enrollment_date} or {form: F, field: X}"


def _protocol(info: ValidationInfo) -> dict:
    """The whole protocol file as parsed (trial's protocol_parse passes it): what a visit refers to."""
    protocol = (info.context or {}).get("protocol")
    return protocol if isinstance(protocol, dict) else {}


def _questionnaire(code: str) -> str:
    if code not in Instrument.values:
        raise PydanticCustomError(
            "questionnaire",
            "{message}",
            {"message": f"no questionnaire {code!r} (choose from {', '.join(Instrument.values)})"},
        )
    return code


Questionnaires = Annotated[
    list[Annotated[str, says("must be a questionnaire code, e.g. 'odi'"), AfterValidator(_questionnaire)]],
    distinct,
    shaped("must be a list of questionnaire codes"),
]
Days = Annotated[int, Field(ge=0), says("must be a whole number of days, 0 or more")]


class Anchor(StrictModel):
    """A named date the schedule counts from: a date of the participant, or a date field of a form."""

    participant: Annotated[
        Literal[PARTICIPANT_DATES], says(f"the participant's date is one of {', '.join(PARTICIPANT_DATES)}")
    ] = None
    form: FormCode = None
    field: Annotated[str, says("must be the code of a date field, e.g. 'procedure_date'")] = None

    @model_validator(mode="after")
    def _one_kind_of_date(self, info: ValidationInfo):
        given = self.model_fields_set
        if given == {"participant"}:
            return self
        fail_if([] if given == {"form", "field"} else [problem((), ANCHOR_SHAPE)])
        problems = []
        forms = _protocol(info).get("forms")
        if not isinstance(forms, list) or self.form not in forms:
            problems.append(problem(("form",), f"form {self.form!r} is not among the protocol's forms"))
        spec = form_definition(self.form).field(self.field)
        if spec is None or spec.type != "date":
            problems.append(problem(("field",), f"{self.form}.{self.field} is not a top-level date field"))
        fail_if(problems)
        return self


class Repeat(StrictModel):
    """`count` visits `every` days apart, numbered from `number_from` by `number_step` (FORMAT.md)."""

    every: Annotated[int, Field(ge=1), says("must be a whole number of days, at least 1")]
    count: Annotated[int, Field(ge=2, le=MAX_REPEAT), says(f"must be a whole number from 2 to {MAX_REPEAT}")]
    number_from: Annotated[int, Field(ge=0), says("must be a whole number, 0 or more")] = 1
    number_step: Annotated[int, Field(ge=1), says("must be a whole number, at least 1")] = 1


class ScheduleItem(StrictModel):
    """One visit of the schedule, or with `repeat` a numbered series of them."""

    code: code(None, "M12")  # its pattern is checked on the codes it expands to (M{n} -> M1, M4...)
    label: Text
    anchor: Annotated[str, says("must name one of visits.anchors")]
    day: Days
    window_before: Days
    window_after: Days
    forms: FormCodes = []
    questionnaires: Questionnaires = []
    repeat: Annotated[Repeat, shaped("{every: days, count: visits}")] = None

    @field_validator("anchor")
    @classmethod
    def _anchored(cls, anchor: str, info: ValidationInfo) -> str:
        # Read from the file, so that a typo here is found beside any problem of the anchors themselves.
        visits = _protocol(info).get("visits")
        anchors = visits.get("anchors") if isinstance(visits, dict) else None
        if isinstance(anchors, dict) and anchor not in anchors:
            raise PydanticCustomError(
                "anchor", "{message}", {"message": f"{anchor!r} is not one of visits.anchors"}
            )
        return anchor

    @model_validator(mode="after")
    def _window_and_numbers(self):
        problems = []
        if self.window_before > self.day:
            problems.append(problem((), "the window opens before the anchor date (window_before > day)"))
        # A repeating item numbers its occurrences: its code and each label must say where, with {n}.
        numbered = [("code", self.code)] + [(f"label {lang}", text) for lang, text in self.label.items()]
        for part, text in numbered:
            if self.repeat is None and NUMBER in text:
                problems.append(problem((), f"{NUMBER} in the {part} needs `repeat`"))
            if self.repeat is not None and NUMBER not in text:
                problems.append(problem((), f"a repeating item's {part} must contain {NUMBER}"))
        fail_if(problems)
        return self


class Unscheduled(StrictModel):
    """What an unscheduled visit (new back pain) collects; its label may say {n}, its number."""

    label: Text = None
    forms: FormCodes = []
    questionnaires: Questionnaires = []


PLACEHOLDERS = re.compile(r"\{(\w*)\}")
MESSAGE_FIELDS = ("study", "visit", "questionnaire", "closes", "link")


def _message_text(text: str) -> str:
    unknown = sorted(set(PLACEHOLDERS.findall(text)) - set(MESSAGE_FIELDS))
    if unknown:
        raise PydanticCustomError(
            "placeholder",
            "{message}",
            {"message": f"unknown placeholder {{{unknown[0]}}} (use {', '.join(MESSAGE_FIELDS)})"},
        )
    return text


MessageText = Annotated[str, Field(min_length=1), says("must be text"), AfterValidator(_message_text)]


class ReminderText(StrictModel):
    """One language's reminder: an e-mail subject and a body (the SMS is the body), with placeholders."""

    subject: MessageText
    body: MessageText

    @field_validator("body")
    @classmethod
    def _carries_the_link(cls, body: str) -> str:
        if "{link}" not in body:
            raise PydanticCustomError("link", "{message}", {"message": "must contain {link}"})
        return body


class Reminders(StrictModel):
    """When a pending questionnaire is reminded, on which channels, and in what words (FORMAT.md)."""

    channels: Annotated[
        list[Literal["sms", "email"]], Field(min_length=1), distinct, shaped("a list of sms and/or email")
    ]
    days_after_open: Annotated[list[Days], distinct] = [0]
    days_before_close: Annotated[list[Days], distinct] = [7]
    last_day: bool = True
    texts: Annotated[dict[Literal["en", "zh-hans"], ReminderText], shaped("a mapping with en and zh-hans")]

    @field_validator("texts")
    @classmethod
    def _both_languages(cls, texts: dict) -> dict:
        missing = sorted({"en", "zh-hans"} - set(texts))
        if missing:
            raise PydanticCustomError("texts", "{message}", {"message": f"give the text in {missing[0]}"})
        return texts


class Visits(StrictModel):
    anchors: Annotated[
        dict[
            Annotated[str, Field(pattern=ANCHOR_NAME), says(f"an anchor name matches {ANCHOR_NAME}")],
            Annotated[Anchor, shaped(ANCHOR_SHAPE)],
        ],
        Field(min_length=1),
        shaped("name at least one anchor date, e.g. procedure: {form: procedure, field: procedure_date}"),
    ]
    schedule: Annotated[list[ScheduleItem], Field(min_length=1), shaped("list at least one visit")]
    unscheduled: Annotated[Unscheduled, shaped("a mapping with label, forms and questionnaires")] = None
    reminders: Annotated[Reminders, shaped("a mapping with channels, days and texts")] = None

    @model_validator(mode="after")
    def _visit_codes(self):
        """The codes the schedule expands to: each a valid code, none kept for unscheduled visits, all
        distinct across the whole schedule."""
        problems, seen = [], {}
        for index, item in enumerate(self.schedule):
            for visit_code, _label, _day in occurrences(item.model_dump()):
                if not VISIT_CODE.match(visit_code):
                    message = f"visit code {visit_code!r} does not match {VISIT_CODE.pattern}"
                elif UNSCHEDULED_CODE.match(visit_code):
                    message = f"visit code {visit_code!r} is kept for unscheduled visits (U1, U2...)"
                elif visit_code in seen:
                    message = f"visit code {visit_code!r} is also given by {seen[visit_code]}"
                else:
                    seen[visit_code] = f"visits.schedule[{index}] ({item.code})"
                    continue
                problems.append(problem(("schedule", index), message, visit_code))
        fail_if(problems)
        return self


VisitsSection = Annotated[Visits, shaped("a mapping with anchors, schedule and (optionally) unscheduled")]


# How the adjudicated event is dated (FORMAT.md): the date of the MRI that confirms the fracture, or the date
# the symptoms began when the record gives it (the confirming MRI's date otherwise).
EVENT_DATE_RULES = ("confirming_mri", "symptom_onset_when_recorded")


class EndpointSpec(StrictModel):
    """The primary endpoint (followup.endpoint): counted from an anchor date of the schedule, up to a horizon,
    and how the adjudicated event is dated."""

    index: Annotated[str, says("must name one of visits.anchors, e.g. 'procedure'")]
    horizon_days: Annotated[int, Field(gt=0), says("must be a positive whole number of days")]
    event_date: Annotated[Literal[EVENT_DATE_RULES], says(f"must be one of {', '.join(EVENT_DATE_RULES)}")]

    @field_validator("index")
    @classmethod
    def _anchored(cls, index: str, info: ValidationInfo) -> str:
        # As ScheduleItem.anchor: read from the file, so that a typo shows beside the anchors' own problems.
        visits = _protocol(info).get("visits")
        anchors = visits.get("anchors") if isinstance(visits, dict) else None
        if visits is None:
            raise PydanticCustomError(
                "anchor", "{message}", {"message": "the index date is one of visits.anchors: add `visits:`"}
            )
        if isinstance(anchors, dict) and index not in anchors:
            raise PydanticCustomError(
                "anchor", "{message}", {"message": f"{index!r} is not one of visits.anchors"}
            )
        return index


EndpointSection = Annotated[EndpointSpec, shaped("a mapping with index, horizon_days and event_date")]


class AdjudicationQuestion(StrictModel):
    """The question the adjudicators answer, and its two answers (`positive` is stored as True)."""

    code: code(r"^[a-z][a-z0-9_]{0,31}$", "acute", rule="must be lower-case letters, digits and _")
    label: Text
    positive: Text
    negative: Text


class AdjudicationSpec(StrictModel):
    """What the adjudicators are asked and where their cases come from (followup/question.py)."""

    question: Annotated[AdjudicationQuestion, shaped("a mapping with code, label, positive and negative")]
    asks: Annotated[
        list[Annotated[Literal[Part.ALL], says(f"a part is one of {', '.join(Part.ALL)}")]],
        distinct,
        shaped(f"a list of the parts asked beside the answer: {', '.join(Part.ALL)}"),
    ] = []
    cases: Annotated[Literal[CaseSource.ALL], says(f"must be one of {', '.join(CaseSource.ALL)}")] = None

    @model_validator(mode="after")
    def _endpoint_dated(self, info: ValidationInfo):
        # The endpoint dates each event by the readers' event date (followup/endpoint.py): they must give one.
        if "endpoint" in _protocol(info) and Part.EVENT_DATE not in self.asks:
            message = "the protocol's endpoint dates events by the readers: ask event_date"
            fail_if([problem(("asks",), message)])
        return self

    @model_validator(mode="after")
    def _one_source_of_cases(self, info: ValidationInfo):
        # Registered vertebrae are the cases (a reference standard): a form whose findings open cases would
        # put another question's answers on the same (participant, level) rows.
        if self.cases != CaseSource.REGISTERED_LEVELS:
            return self
        protocol = _protocol(info)
        visits = protocol.get("visits") or {}
        codes = {*protocol.get("forms", []), *(visits.get("unscheduled") or {}).get("forms", [])}
        codes |= {code for visit in visits.get("schedule") or [] for code in visit.get("forms", [])}
        definitions = form_definitions()
        opening = sorted(code for code in codes if code in definitions and definitions[code].adjudication)
        if opening:
            message = f"cases are the registered levels, but form {opening[0]} opens cases from its findings"
            fail_if([problem(("cases",), message)])
        return self


AdjudicationSection = Annotated[AdjudicationSpec, shaped("a mapping with question, asks and cases")]


def protocol_sections() -> dict:
    """The protocol-file sections follow-up reads, for trial.hooks.protocol_sections."""
    return {"visits": VisitsSection, "endpoint": EndpointSection, "adjudication": AdjudicationSection}
