"""CRF records with their life cycle, e-signatures (21 CFR 11.50/11.70) and data queries."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from trial.audit import audited
from trial.models import Participant

from .engine.messages import message_text


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMPLETE = "complete", _("complete")
    VERIFIED = "verified", _("verified")
    SIGNED = "signed", _("signed")
    LOCKED = "locked", _("locked")


@audited()
class FormRecord(models.Model):
    """One participant's data for one form, once per participant or once per visit (`visit_code` empty for
    the forms the protocol lists once, the visit's code for the forms a visit collects). `version` grows with
    every write: it is the ETag.

    A visit is named by its code, not a foreign key: visits belong to follow-up, which builds on crf
    (apps depend downward only); a participant's visit codes are unique, and follow-up finds a record's visit
    by (participant, code) through crf.hooks.visit_of.
    """

    participant = models.ForeignKey("trial.Participant", on_delete=models.PROTECT, related_name="forms")
    # db_default too: bulk inserts that name no visit (the demo's) write participant-level forms.
    visit_code = models.CharField(_("visit"), max_length=16, blank=True, default="", db_default="")
    form_code = models.CharField(_("form"), max_length=32)
    form_version = models.CharField(_("form version"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=FormStatus.choices, default=FormStatus.DRAFT
    )
    data = models.JSONField(_("data"), default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("form record")
        verbose_name_plural = _("form records")
        constraints = [
            # A participant-level form has the empty visit code: unique once per participant too.
            models.UniqueConstraint(
                fields=["participant", "form_code", "visit_code"], name="form_record_unique"
            ),
        ]

    def __str__(self) -> str:
        visit = f"@{self.visit_code}" if self.visit_code else ""
        return f"{self.participant_id}/{self.form_code}{visit}"

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class SignatureMeaning(models.TextChoices):
    APPROVAL = "approval", _("I approve the data in this form")
    REVIEW = "review", _("I have reviewed the data in this form")
    RESPONSIBILITY = "responsibility", _("I take responsibility for the data in this form")


@audited()
class Signature(models.Model):
    """An investigator's e-signature, linked to the exact record version and data it signs (11.70)."""

    record = models.ForeignKey(FormRecord, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(_("printed name"), max_length=150)
    meaning = models.CharField(_("meaning"), max_length=16, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField(_("signed at"))
    record_version = models.PositiveIntegerField()
    data_sha256 = models.CharField(max_length=64)
    invalidated_at = models.DateTimeField(
        _("invalidated at"),
        null=True,
        blank=True,
        help_text=_("Set when the form was changed after signing."),
    )

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at"]

    def __str__(self) -> str:
        return f"{self.printed_name} {self.meaning} {self.signed_at:%Y-%m-%d %H:%M}"


class QueryStatus(models.TextChoices):
    OPEN = "open", _("open")
    ANSWERED = "answered", _("answered")
    CLOSED = "closed", _("closed")


@audited(exclude=("site",))
class DataQuery(models.Model):
    """A question about one value: raised by an edit check (auto) or by a monitor or data manager."""

    record = models.ForeignKey(FormRecord, on_delete=models.PROTECT, related_name="queries")
    # The record's participant's site, so that the query lists by site need no join to records and
    # participants. The database sets it on insert (trigger below): the services and the demo's raw-SQL
    # inserts name no site, and participants never change site. The NULL default is replaced before the NOT
    # NULL check, and lets Django read the site back into a created object.
    site = models.ForeignKey(
        "trial.Site",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_default=Cast(None, models.BigIntegerField()),
        db_index=False,  # the index of the lists by site leads with it
    )
    field_path = models.CharField(_("field"), max_length=200)
    check_code = models.CharField(_("check"), max_length=64, blank=True)
    auto = models.BooleanField(_("raised by an edit check"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=QueryStatus.choices, default=QueryStatus.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # For automatic queries: the value that raised it, so that a closed query is raised again only when the
    # value changes, and whether the data resolved it or a person reopened it (then only a person closes it).
    trigger_value = models.JSONField(null=True, blank=True)
    resolved_by_data = models.BooleanField(default=False)
    reopened = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("data query")
        verbose_name_plural = _("data queries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live automatic query per check and value: saving the form again does not pile them up.
            models.UniqueConstraint(
                fields=["record", "check_code", "field_path"],
                condition=models.Q(auto=True) & ~models.Q(status="closed"),
                name="one_live_auto_query",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The lists, newest first: across the user's sites (an ordered scan that a page stops), the live
            # ones (open or answered, the page's default), and at one site.
            models.Index(fields=["created_at", "id"], name="query_created"),
            models.Index(
                fields=["created_at", "id"],
                condition=~models.Q(status=QueryStatus.CLOSED),
                name="query_live_created",
            ),
            models.Index(fields=["site", "created_at", "id"], name="query_site_created"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="site_from_record",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("record_id", "site_id"),
                func=(
                    f"NEW.site_id := (SELECT p.site_id FROM {FormRecord._meta.db_table} r "  # noqa: S608
                    f"JOIN {Participant._meta.db_table} p ON p.id = r.participant_id "
                    "WHERE r.id = NEW.record_id); RETURN NEW;"
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Q{self.pk} {self.field_path} {self.status}"


class QueryAction(models.TextChoices):
    RAISE = "raise", _("raised")
    ANSWER = "answer", _("answered")
    CLOSE = "close", _("closed")
    REOPEN = "reopen", _("reopened")


@audited()
class QueryMessage(models.Model):
    """One step of a query's thread: a person's words as typed, or a text the machine wrote (no author).

    A machine-written text is stored as a message code with its parameters (crf.engine.messages), so that each
    reader sees it in their own language; `text` holds it in English as well, for whoever reads the table
    itself. A person's words have no code.
    """

    query = models.ForeignKey(DataQuery, on_delete=models.PROTECT, related_name="messages")
    action = models.CharField(max_length=16, choices=QueryAction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("message"))
    code = models.CharField(_("message code"), max_length=32, blank=True, default="")
    params = models.JSONField(_("message parameters"), blank=True, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("query message")
        verbose_name_plural = _("query messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.query_id} {self.action}"

    @property
    def display_text(self) -> str:
        """The message in the active language: a machine-written text rendered from its code, a person's
        words as typed."""
        return message_text(self.code, self.params, fallback=self.text)
