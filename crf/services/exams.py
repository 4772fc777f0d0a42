"""A form's `exam` fields (crf/forms/FORMAT.md, "Imaging exams"): what a person sends, resolved to one of the
participant's registered follow-up exams (trial.ImagingExam, trial/services/imaging.py), and the facts of the
linked exams that the checks judge.

A value is sent as the exam's id (the page's list, the API's GET .../exams/) or as {"study_uid": "1.2..."}, a
StudyInstanceUID pasted from the PACS; both may be sent ({"id": ..., "study_uid": ...}) and must then name the
same exam. A UID is matched through its keyed hash (trial.imaging.uid_hash), the way it was stored: it is
never stored, logged or echoed in a message, and only the exam's id goes into the form's data.
"""

import re
from collections.abc import Mapping

from django.utils.translation import gettext as _

from trial.eligibility import ExamFact
from trial.imaging import uid_hash
from trial.models import ImagingExam, Participant
from trial.selectors import participant_exams

from ..engine.definitions import FieldDef, FormDef, form_definition
from ..engine.validate import EMPTY

UID_KEY, ID_KEY = "study_uid", "id"
# A DICOM UID: numeric components separated by dots, at most 64 characters (PS3.5 9.1).
DICOM_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
UID_LENGTH = 64


def _pick(value, exams: dict[int, ImagingExam]) -> ImagingExam:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    exam = exams.get(int(text)) if text.isdigit() and len(text) <= 18 else None
    if exam is None:  # another participant's exam id says nothing of it: the same message as no exam
        raise ValueError(_("Unknown exam: pick one of the participant's imaging exams."))
    return exam


def _pasted(uid, participant: Participant, exams: dict[int, ImagingExam]) -> ImagingExam:
    uid = uid.strip("\x00 ").strip() if isinstance(uid, str) else ""
    if not uid or len(uid) > UID_LENGTH or not DICOM_UID.match(uid):
        raise ValueError(_("A StudyInstanceUID is digits and dots, at most 64 characters."))
    digest = uid_hash(uid)
    exam = next((e for e in exams.values() if e.study_uid_hash == digest), None)
    if exam is not None:
        return exam
    other = (
        ImagingExam.objects.filter(study_id=participant.site.study_id, study_uid_hash=digest)
        .values_list("screening_id", flat=True)
        .first()
    )
    if other is None:
        message = _(
            "No imaging exam of this participant has this StudyInstanceUID: register its DICOM files first."
        )
        raise ValueError(message)
    if other == participant.screening_id:
        raise ValueError(
            _("This StudyInstanceUID is an exam of the participant's screening, not a follow-up exam.")
        )
    # Whose it is stays unsaid: only that the UID is not this participant's (as the registration says).
    raise ValueError(
        _("This StudyInstanceUID is registered for another case of the study, not this participant.")
    )


def _resolve(spec: FieldDef, value, participant: Participant, exams: dict[int, ImagingExam]) -> ImagingExam:
    """The participant's exam a value names, or ValueError with the message to show."""
    if isinstance(value, Mapping):
        if not set(value) <= {UID_KEY, ID_KEY} or UID_KEY not in value:
            raise ValueError(_('Send the exam\'s id, or {"study_uid": ...} with its StudyInstanceUID.'))
        exam = _pasted(value[UID_KEY], participant, exams)
        if value.get(ID_KEY) not in EMPTY and _pick(value[ID_KEY], exams) != exam:
            raise ValueError(_("The pasted StudyInstanceUID is not the exam picked: pick one or paste one."))
    else:
        exam = _pick(value, exams)
    if exam.modality not in spec.modalities:
        raise ValueError(
            _("Only an exam of modality %(allowed)s can be linked here; this one is %(modality)s.")
            % {"allowed": ", ".join(spec.modalities), "modality": exam.modality}
        )
    return exam


def exam_links_resolve(form: FormDef, participant: Participant, raw) -> tuple[object, dict[str, list[str]]]:
    """The submitted data with each exam field's value as the id of the participant's exam it names, and the
    field messages of those that name none (left out of the data, so that the messages are these only).

    One query when an exam field has a value (the participant's exams), one more for a UID that is none of
    theirs (to say whether the study knows it); none otherwise.
    """
    sent = [spec for spec in form.exam_fields if isinstance(raw, Mapping) and raw.get(spec.code) not in EMPTY]
    if not sent:
        return raw, {}
    exams = {exam.pk: exam for exam in participant_exams(participant=participant)}
    data, errors = dict(raw), {}
    for spec in sent:
        try:
            data[spec.code] = _resolve(spec, raw[spec.code], participant, exams).pk
        except ValueError as error:
            errors[spec.code] = [str(error)]
            del data[spec.code]
    return data, errors


def linked_exam_ids(form: FormDef | None, data: Mapping | None) -> set[int]:
    """The exam ids a record's data links (its exam fields' values)."""
    if form is None or not data:
        return set()
    return {data[s.code] for s in form.exam_fields if isinstance(data.get(s.code), int)}


def exam_facts(exams) -> dict[int, ExamFact]:
    return {exam.pk: ExamFact(exam.modality, exam.study_date, tuple(exam.body_parts)) for exam in exams}


def linked_exam_facts(participant: Participant, form_code: str, data: Mapping | None) -> dict[int, ExamFact]:
    """The facts of the exams a record links, as the checks judge them: one query when it links any."""
    ids = linked_exam_ids(form_definition(form_code), data)
    if not ids:
        return {}
    return exam_facts(participant_exams(participant=participant).filter(pk__in=ids))
