"""Follow-up: scheduled and unscheduled visits, patient-reported questionnaires, patient links, and the
re-fracture adjudication cases that a follow-up MRI opens.

A visit's stored `state` is what people decided (pending, completed, missed, not applicable); whether a
pending visit is upcoming, open or overdue depends on today's date at the site, so it is computed
(`visit_status`), never stored and never stale. So is "on hold": a pending visit of a participant who is not
followed (lost to follow-up) is on no worklist and in no due or overdue count until they are reinstated.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trial.audit import audited
from trial.models import Participant

from .reading_codes import new_reading_code


def site_of_participant() -> models.ForeignKey:
    """The participant's site, copied onto the row so that lists by site need no join to the participants.

    The database keeps it in step (`site_trigger`): participants never change site, and the demo's raw-SQL
    inserts name no site. NOT NULL; the default (NULL, replaced by the trigger before the check) lets
    Django insert DEFAULT and read the site back, so a created object has its site too.
    """
    return models.ForeignKey(
        "trial.Site",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_default=Cast(None, models.BigIntegerField()),
        db_index=False,  # every index of the lists by site leads with it
    )


def site_trigger() -> pgtrigger.Trigger:
    """Before every insert (and any change of the participant or the site), site_id := the participant's."""
    return pgtrigger.Trigger(
        name="site_from_participant",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("participant_id", "site_id"),
        func=(
            f"NEW.site_id := (SELECT site_id FROM {Participant._meta.db_table} "  # noqa: S608 -- no user input
            "WHERE id = NEW.participant_id); RETURN NEW;"
        ),
    )


class VisitKind(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    UNSCHEDULED = "unscheduled", _("unscheduled")


class VisitState(models.TextChoices):
    PENDING = "pending", _("pending")
    COMPLETED = "completed", _("completed")
    MISSED = "missed", _("missed")
    NOT_APPLICABLE = "not_applicable", _("not applicable")


class VisitStatus(models.TextChoices):
    """What a coordinator sees: the stored state, with pending split by the window and the site's today, or on
    hold while the participant is not followed."""

    UPCOMING = "upcoming", _("upcoming")
    OPEN = "open", pgettext_lazy("visit status", "open")  # a data query is "open" too, in other words
    OVERDUE = "overdue", _("overdue")
    COMPLETED = "completed", _("completed")
    MISSED = "missed", _("missed")
    NOT_APPLICABLE = "not_applicable", _("not applicable")
    ON_HOLD = "on_hold", _("on hold")  # pending, but the participant is lost to follow-up


@audited(exclude=("site",))
class Visit(models.Model):
    """One expected (or unscheduled) contact with a participant, with its window in site-local dates."""

    participant = models.ForeignKey("trial.Participant", on_delete=models.PROTECT, related_name="visits")
    site = site_of_participant()
    code = models.CharField(_("visit"), max_length=16)
    label = models.JSONField(_("label"), default=dict)  # {"en": ..., "zh-hans": ...} from the protocol
    kind = models.CharField(_("kind"), max_length=16, choices=VisitKind.choices, default=VisitKind.SCHEDULED)
    sequence = models.PositiveIntegerField(_("order"))
    anchor = models.CharField(_("anchor"), max_length=32, blank=True)
    day = models.IntegerField(_("day"), null=True, blank=True)  # days after the anchor date
    target_date = models.DateField(_("target date"))
    window_open = models.DateField(_("window opens"))
    window_close = models.DateField(_("window closes"))
    forms = models.JSONField(_("forms"), default=list)  # CRF form codes collected at this visit
    questionnaires = models.JSONField(_("questionnaires"), default=list)  # instrument codes: odi, vas
    state = models.CharField(
        _("state"), max_length=16, choices=VisitState.choices, default=VisitState.PENDING
    )
    visit_date = models.DateField(_("visit date"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)  # why missed / not applicable / unscheduled
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["participant_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "code"], name="visit_code_unique"),
            models.CheckConstraint(
                condition=models.Q(window_open__lte=models.F("target_date"))
                & models.Q(target_date__lte=models.F("window_close")),
                name="visit_window_around_target",
            ),
        ]
        # Read by followup.selectors.visits.visits_at; each plan checked with EXPLAIN ANALYZE at 56,000.
        indexes = [
            # The worklist and the API's pending statuses, most urgent first: one ordered scan across the
            # sites, which a LIMIT stops after a page; the counts of overdue visits, index-only.
            models.Index(
                fields=["window_close"],
                include=["site", "window_open", "participant"],
                condition=models.Q(state=VisitState.PENDING),
                name="visit_pending_close",
            ),
            # The dashboard's due and overdue counts: index-only over a site's pending visits due by a date.
            models.Index(
                fields=["site", "window_open"],
                include=["window_close", "participant"],
                condition=models.Q(state=VisitState.PENDING),
                name="visit_pending_open",
            ),
            # The decided visits (completed, missed, not applicable) and all of them: counted by site and
            # state, listed in window order across the sites.
            models.Index(fields=["site", "state", "window_close"], name="visit_site_state_close"),
            models.Index(fields=["window_close"], name="visit_window_close"),
        ]
        triggers = [site_trigger()]

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.code}"


class Instrument(models.TextChoices):
    ODI = "odi", _("Oswestry Disability Index")
    VAS = "vas", _("Pain visual analogue scale")


class ResponseSource(models.TextChoices):
    PATIENT = "patient", _("patient (own device)")
    INTERVIEW = "interview", _("interview")
    PAPER = "paper", _("paper form")


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", _("in progress")
    FINAL = "final", _("submitted")


@audited()
class QuestionnaireResponse(models.Model):
    """One answered (or partly answered) questionnaire. The score is computed on every save, never typed."""

    participant = models.ForeignKey(
        "trial.Participant", on_delete=models.PROTECT, related_name="questionnaires"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="questionnaire_responses"
    )
    instrument = models.CharField(_("instrument"), max_length=16, choices=Instrument.choices)
    instrument_version = models.CharField(_("instrument version"), max_length=16)
    source = models.CharField(_("source"), max_length=16, choices=ResponseSource.choices)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    answers = models.JSONField(_("answers"), default=dict)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    band = models.CharField(_("band"), max_length=16, blank=True)
    answered = models.PositiveSmallIntegerField(_("items answered"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    completed_on = models.DateField(_("date answered"), null=True, blank=True)
    entered_by = models.ForeignKey(  # null when the patient answered through a link
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("questionnaire response")
        verbose_name_plural = _("questionnaire responses")
        ordering = ["participant_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "visit", "instrument"],
                nulls_distinct=False,
                name="questionnaire_once_per_visit",
            ),
        ]
        indexes = [models.Index(fields=["participant", "instrument", "status"])]

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.instrument}/{self.visit_id}"

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


@audited()
class PatientLink(models.Model):
    """A single-use, expiring link that lets a patient answer one questionnaire without logging in.

    The URL carries a signed token naming `key`; the key is random (128 bits) and stored only as its SHA-256,
    so a database reader cannot rebuild a live link. Used once submitted, dead once expired or revoked.
    Audited: who issued and who revoked a link (and when) is in the trail; the trail holds only the hash too.
    """

    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.PROTECT, related_name="links")
    key_sha256 = models.CharField(max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=8)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("patient link")
        verbose_name_plural = _("patient links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link {self.pk} for response {self.response_id}"


class InstrumentText(models.Model):
    """A site's licensed wording of an instrument in one language, loaded from its own file."""

    instrument = models.CharField(_("instrument"), max_length=16, choices=Instrument.choices)
    instrument_version = models.CharField(_("instrument version"), max_length=16)
    language = models.CharField(_("language"), max_length=8)
    content = models.JSONField(_("content"))
    source_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("instrument text")
        verbose_name_plural = _("instrument texts")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "instrument_version", "language"], name="instrument_text_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.instrument_version} {self.language}"


class FractureLocation(models.TextChoices):
    ADJACENT = "adjacent", _("adjacent (within one level of a treated level)")
    REMOTE = "remote", _("remote")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("awaiting adjudication")
    DISPUTED = "disputed", _("the readers disagree: awaiting the third reader")
    FINAL = "final", _("adjudicated")
    CANCELLED = "cancelled", _("cancelled (no imaging reports it any longer)")


class CaseOrigin(models.TextChoices):
    MRI_FORM = "mri_form", _("a follow-up MRI form")
    MANUAL = "manual", _("opened by a data manager")
    # A vertebra registered as fractured, under a protocol whose cases are its registered levels
    # (`adjudication.cases: registered_levels`): a reference-standard reading, with no evidence rows.
    REGISTRATION = "registration", _("a registered fractured vertebra")


class Modality(models.TextChoices):
    MRI = "mri", _("MRI")
    CT = "ct", _("CT")
    XRAY = "xray", _("radiograph")


@audited(exclude=("site",))
class AdjudicationCase(models.Model):
    """One participant's level, adjudicated blind (services/): the protocol's question about it
    (followup/question.py), e.g. a reported new fracture at a non-operated level, or whether a registered
    fractured vertebra is acute.

    One case per participant and level: every imaging report of that level (a follow-up MRI form's row, or the
    findings a data manager enters by hand) is a CaseEvidence row of it, never a second case. `location` and
    `exam_date` are the site's classification and the earliest supporting exam: readers never see the first.
    A registered vertebra's case (origin `registration`) has neither, and no evidence: the registration is.
    `final_fracture` is the final answer, True for the question's positive answer.
    """

    participant = models.ForeignKey(
        "trial.Participant", on_delete=models.PROTECT, related_name="adjudication_cases"
    )
    site = site_of_participant()
    # The form record that first reported it; none for a case a data manager opened by hand.
    record = models.ForeignKey(
        "crf.FormRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjudication_cases",
    )
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    origin = models.CharField(
        _("opened from"),
        max_length=16,
        choices=CaseOrigin.choices,
        default=CaseOrigin.MRI_FORM,
        db_default=CaseOrigin.MRI_FORM,
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    level = models.CharField(_("level"), max_length=4)
    # Empty for a registered vertebra's case: no treated level to be adjacent to.
    location = models.CharField(_("location"), max_length=16, choices=FractureLocation.choices, blank=True)
    exam_date = models.DateField(_("MRI date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    # A reopening (data manager, with a reason) starts a new round of reading; earlier verdicts stay.
    # Defaults in the database too: the demo seeder inserts cases with SQL of its own.
    round = models.PositiveSmallIntegerField(_("round"), default=1, db_default=1)
    # The adjudicated result once final (services/verdicts.py says how it is drawn from the verdicts).
    final_fracture = models.BooleanField(_("new fracture (adjudicated)"), null=True, blank=True)
    final_levels = models.JSONField(_("levels (adjudicated)"), default=list, db_default=[], blank=True)
    final_event_date = models.DateField(_("event date (adjudicated)"), null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("adjudication case")
        verbose_name_plural = _("adjudication cases")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "level"], name="adjudication_case_per_level"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The case list, newest first: across the user's sites (an ordered scan that a page stops), and
            # at one site.
            models.Index(fields=["created_at", "id"], name="adjudication_created"),
            models.Index(fields=["site", "created_at", "id"], name="adjudication_site_created"),
        ]
        triggers = [site_trigger()]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.level} {self.location}"


@audited()
class CaseEvidence(models.Model):
    """One imaging report supporting a case: a follow-up MRI form's row for the level (`record`), or
    findings a data manager entered by hand (`findings`, no record). A report withdrawn (the form corrected,
    the data manager's withdrawal) is kept inactive: a case with no active evidence is cancelled, its history
    kept."""

    case = models.ForeignKey(AdjudicationCase, on_delete=models.PROTECT, related_name="evidence")
    record = models.ForeignKey(
        "crf.FormRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjudication_evidence",
    )
    modality = models.CharField(_("modality"), max_length=8, choices=Modality.choices, default=Modality.MRI)
    exam_date = models.DateField(_("exam date"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=16, choices=FractureLocation.choices, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    # When the patient's new pain began, for a symptomatic event entered by hand: the event's date under a
    # protocol whose endpoint dates events by symptom onset when recorded (protocol `endpoint.event_date`).
    symptom_onset = models.DateField(_("symptom onset"), null=True, blank=True)
    active = models.BooleanField(default=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case evidence")
        verbose_name_plural = _("case evidence")
        ordering = ["exam_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "record"],
                condition=models.Q(record__isnull=False),
                name="evidence_one_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} evidence {self.record_id or 'manual'} {self.exam_date}"


class ReaderSlot(models.TextChoices):
    FIRST = "first", _("first reader")
    SECOND = "second", _("second reader")
    THIRD = "third", _("third reader (tie-breaker)")


@audited(exclude=("reading_code",))  # set once with the row, never changed: nothing to trail
class CaseAssignment(models.Model):
    """An adjudicator assigned to read a case, in a slot: the two independent readers, and a third when they
    disagree. A reassignment ends the row (`active` off, `ended_at`) and adds another: the trail shows who was
    assigned when. At most one active reader per slot, and a reader in one slot only, per case. The reader
    knows the case by the row's `reading_code` (reading_codes.py), never by its number."""

    case = models.ForeignKey(AdjudicationCase, on_delete=models.PROTECT, related_name="assignments")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudication_assignments"
    )
    slot = models.CharField(_("slot"), max_length=8, choices=ReaderSlot.choices)
    reading_code = models.CharField(_("reading code"), max_length=8, unique=True, default=new_reading_code)
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case assignment")
        verbose_name_plural = _("case assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "slot"],
                condition=models.Q(active=True),
                name="assignment_one_reader_per_slot",
            ),
            models.UniqueConstraint(
                fields=["case", "reader"],
                condition=models.Q(active=True),
                name="assignment_one_slot_per_reader",
            ),
        ]
        indexes = [
            # A reader's load (balanced assignment) and queue: their active assignments.
            models.Index(
                fields=["reader", "case"], name="assignment_reader", condition=models.Q(active=True)
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} {self.slot} {self.reader_id}"


class Confidence(models.TextChoices):
    LOW = "low", _("low")
    MODERATE = "moderate", _("moderate")
    HIGH = "high", _("high")


@audited()
class Verdict(models.Model):
    """One reader's e-signed verdict on a case in one round (21 CFR 11.50: printed name, time, meaning
    "adjudication"). Never changed: a reopened case is read again in a new round."""

    case = models.ForeignKey(AdjudicationCase, on_delete=models.PROTECT, related_name="verdicts")
    assignment = models.ForeignKey(CaseAssignment, on_delete=models.PROTECT, related_name="verdicts")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(_("round"))
    fracture = models.BooleanField(_("new non-operative vertebral fracture"))
    levels = models.JSONField(_("levels"), default=list, blank=True)
    acute_signal = models.BooleanField(_("acute signal on MRI"), null=True, blank=True)
    genant_grade = models.PositiveSmallIntegerField(_("Genant grade"), null=True, blank=True)
    event_date = models.DateField(_("event date"), null=True, blank=True)
    confidence = models.CharField(_("confidence"), max_length=8, choices=Confidence.choices)
    comment = models.TextField(_("comment"), blank=True)
    printed_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("verdict")
        verbose_name_plural = _("verdicts")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "round"], name="verdict_one_per_reading"),
            models.CheckConstraint(
                condition=models.Q(genant_grade__isnull=True) | models.Q(genant_grade__lte=3),
                name="verdict_genant_0_to_3",
            ),
        ]

    def __str__(self) -> str:
        return f"verdict on case {self.case_id} round {self.round} by {self.reader_id}"


# The outbox's models live beside the code that plans and sends messages; Django finds them through here.
from .messaging.heartbeats import Heartbeat  # noqa: E402, F401
from .messaging.models import MessageKind, MessageState, OutboxMessage, StaffMessageSetting  # noqa: E402, F401
