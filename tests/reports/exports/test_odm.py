"""reports.exports.odm: the CDISC ODM 1.3.2 export, read back with lxml against the official XSD and compared
with the database value by value; each value's AuditRecord checked against the changes made through the CRF
services (time frozen); de-identification; no identifying data; a fixed number of queries; streamed."""

import datetime
import decimal
import io
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.engine.definitions import all_fields, form_definitions
from crf.models import FormRecord
from crf.services import crf_complete, crf_save, crf_sign, crf_verify
from followup.models import Visit
from followup.services.visits import visit_unscheduled_create
from reports.exports import odm
from reports.exports.deid import Deidentifier, salt_new
from reports.exports.odm import odm_write
from reports.exports.odm.clinical import Subject, record_state
from reports.exports.odm.layout import form_layout
from trial.models import Participant, ParticipantIdentity, Role, Study
from trial.services import participant_enroll, screening_create

from ...conftest import ELIGIBLE_ANSWERS, frozen_clock
from ...crf.conftest import PROCEDURE
from ...factories import PASSWORD
from ..test_dataset import seed
from .odm_check import LANG, NS, clinical_values, file_values, item_audits, odm_read

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

MRI = {
    "exam_date": "2026-06-01",
    "field_strength": "3.0",
    "sequences": ["t1", "t2", "stir"],
    "any_new_fracture": True,
    "levels": [
        {"level": "L2", "new_fracture": True, "acute_signal": True, "genant_grade": "1"},
        {"level": "T10", "new_fracture": True, "acute_signal": True, "genant_grade": "2"},
    ],
}


def at(clock: str) -> datetime.datetime:
    """An instant of 2026-11-21 at the site's wall clock (Asia/Shanghai)."""
    return datetime.datetime.fromisoformat(f"2026-11-21 {clock}").replace(tzinfo=SHANGHAI)


def stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


CUT = at("10:00")  # after the changes below, before the one made at 11:00
LATE = at("12:00")  # after everything


def export(study, cut_at=LATE, **options) -> tuple[bytes, dict]:
    out = io.BytesIO()
    counts = odm_write(
        study=Study.objects.select_related("current_version").get(pk=study.pk),
        out=out,
        cut_at=cut_at,
        **options,
    )
    return out.getvalue(), counts


@pytest.fixture
def people(make_user, study, site):
    """Staff of their own (the demo has its coord07, inv07 and monitor)."""
    return {
        "coordinator": make_user("odm_coord", role=Role.COORDINATOR, study=study, site=site),
        "investigator": make_user("odm_inv", role=Role.INVESTIGATOR, study=study, site=site),
        "monitor": make_user("odm_mon", role=Role.MONITOR, study=study),
    }


@pytest.fixture
def worked(seeded, people, site):
    """A participant whose procedure was entered, completed, corrected twice with reasons (by two people),
    verified and signed before the cut, and corrected again after it; an MRI at M12 and at an unscheduled
    visit. Each step at its own frozen instant."""
    coordinator, investigator = people["coordinator"], people["investigator"]
    with time_machine.travel(at("09:05"), tick=False):
        screening = screening_create(
            actor=coordinator,
            study=seeded,
            site=site,
            data={
                "screening_date": datetime.date(2026, 1, 5),
                "age": 72,
                "sex": "female",
                "fracture_levels": ["L1", "T12"],
                "answers": ELIGIBLE_ANSWERS,
            },
        )
        participant = participant_enroll(
            actor=coordinator,
            screening=screening,
            consent_date=datetime.date(2026, 1, 6),
            enrollment_date=datetime.date(2026, 1, 7),
            identity={
                "full_name": "Odm Synthetic Person",
                "phone": "13912345678",
                "hospital_record_number": "HRN-ODM-0042",
                "national_id": "440101195001011234",
            },
        )

    def save(when, actor, data, *, reason="", form="procedure", visit=None):
        record = FormRecord.objects.filter(
            participant=participant, form_code=form, visit_code=visit.code if visit else ""
        ).first()
        with time_machine.travel(at(when), tick=False):
            crf_save(
                actor=actor,
                participant=participant,
                form_code=form,
                data=data,
                expected_version=record.version if record else None,
                reason=reason,
                visit=visit,
            )

    entered = PROCEDURE | {"operator": "Dr\x0bDemo"}  # a control character, typed or pasted in
    save("09:10", coordinator, entered)
    with time_machine.travel(at("09:15"), tick=False):
        crf_complete(actor=coordinator, participant=participant, form_code="procedure")
    save("09:20", coordinator, entered | {"operative_time": 45}, reason="time from the anaesthesia chart")
    levels = [dict(PROCEDURE["levels"][0], cement_volume=5.0), PROCEDURE["levels"][1]]
    save(
        "09:25",
        investigator,
        entered | {"operative_time": 45, "levels": levels},
        reason="volume read again: 5.0 mL",
    )
    record = FormRecord.objects.get(participant=participant, form_code="procedure")
    with time_machine.travel(at("09:30"), tick=False):
        record = crf_verify(
            actor=people["monitor"],
            participant=participant,
            form_code="procedure",
            expected_version=record.version,
        )
    with time_machine.travel(at("09:35"), tick=False):
        crf_sign(
            actor=investigator,
            participant=participant,
            form_code="procedure",
            username=investigator.username,
            password=PASSWORD,
            meaning="approval",
            expected_version=record.version,
        )
    m12 = Visit.objects.get(participant=participant, code="M12")
    save("09:40", coordinator, MRI, form="followup_mri", visit=m12)
    with time_machine.travel(at("09:45"), tick=False):
        u1 = visit_unscheduled_create(
            actor=coordinator,
            participant=participant,
            visit_date=datetime.date(2026, 11, 20),
            reason="back pain",
        )
    save("09:50", coordinator, MRI | {"exam_date": "2026-11-20"}, form="followup_mri", visit=u1)
    # After the cut: the signature falls, the operative time changes again.
    save("11:00", coordinator, entered | {"operative_time": 50, "levels": levels}, reason="second look")
    return participant


def database_values(study, *, deid: Deidentifier | None = None) -> dict:
    """What the file must hold, read from the database: (subject, event, event repeat key, form, group,
    group repeat key, item) -> the value, typed; a multichoice as a yes/no per choice."""
    expected = {}
    definitions = form_definitions()
    records = FormRecord.objects.filter(participant__site__study=study).select_related("participant")
    for record in records:
        definition = definitions[record.form_code]
        study_id = record.participant.study_id
        subject = deid.study_id(study_id) if deid else study_id
        unscheduled = re.match(r"^U\d+$", record.visit_code)
        event = (
            "SE.UNSCHEDULED"
            if unscheduled
            else (f"SE.{record.visit_code}" if record.visit_code else "SE.ENROLLMENT")
        )
        event_key = record.visit_code if unscheduled else None
        for group, spec in all_fields(definition):
            if group is None:
                scopes = [(f"IG.{definition.code}", None, record.data, f"IT.{definition.code}")]
            else:
                scopes = [
                    (
                        f"IG.{definition.code}.{group.code}",
                        row[group.key],
                        row,
                        f"IT.{definition.code}.{group.code}",
                    )
                    for row in record.data.get(group.code, [])
                ]
            for group_oid, group_key, scope, prefix in scopes:
                value = scope.get(spec.code)
                if value is None or (spec.type == "text" and deid):
                    continue
                key = (subject, event, event_key, f"F.{definition.code}", group_oid, group_key)
                if spec.type == "multichoice":
                    for choice in spec.choices:
                        expected[(*key, f"{prefix}.{spec.code}.{choice.code}")] = choice.code in value
                    continue
                if spec.type == "decimal":
                    value = decimal.Decimal(str(value))
                elif spec.type == "date":
                    value = datetime.date.fromisoformat(value)
                    value = deid.date(study_id, value) if deid else value
                elif spec.type == "choice" and all(re.fullmatch(r"-?\d+", c) for c in spec.choice_codes):
                    value = int(value)  # codes that are numbers are numbers: genant grade 0..3
                elif spec.type == "choice" and all(
                    re.fullmatch(r"-?\d+(\.\d+)?", c) for c in spec.choice_codes
                ):
                    value = decimal.Decimal(value)  # field strength 1.5 or 3.0
                expected[(*key, f"{prefix}.{spec.code}")] = value
    return expected


def test_the_file_validates_and_holds_every_value_of_the_database(seeded, worked):
    content, counts = export(seeded)
    tree = odm_read(content)
    expected = database_values(seeded)
    # The control character typed into a text field (XML cannot carry it) is replaced, not a broken file.
    operator = (
        worked.study_id,
        "SE.ENROLLMENT",
        None,
        "F.procedure",
        "IG.procedure",
        None,
        "IT.procedure.operator",
    )
    assert expected[operator] == "Dr\x0bDemo"
    expected[operator] = "Dr\ufffdDemo"
    assert file_values(tree) == expected
    # The records written through the services are there: enrollment, M12 and the unscheduled visit.
    events = {(key[1], key[2]) for key in expected if key[0] == worked.study_id}
    assert events == {("SE.ENROLLMENT", None), ("SE.M12", None), ("SE.UNSCHEDULED", "U1")}
    assert counts["subjects"] == Participant.objects.filter(site__study=seeded).count() == 31
    assert counts["items"] == counts["audit_records"] == len(expected)
    assert counts["forms"] == FormRecord.objects.filter(participant__site__study=seeded).count()
    assert counts["forms"] == len(tree.getroot().findall(".//odm:FormData", NS))
    assert counts["audit_records"] == len(tree.getroot().findall(".//odm:ItemData/odm:AuditRecord", NS))


def test_each_value_carries_who_set_it_when_and_why(seeded, worked, people, site):
    tree = odm_read(export(seeded, cut_at=CUT)[0])
    audits, values = item_audits(tree), clinical_values(tree)
    coordinator = f"USR.{people['coordinator'].pk}"
    investigator = f"USR.{people['investigator'].pk}"
    top = (worked.study_id, "SE.ENROLLMENT", None, "F.procedure", "IG.procedure", None)
    level = (worked.study_id, "SE.ENROLLMENT", None, "F.procedure", "IG.procedure.levels")
    location = f"LOC.{site.code}"
    # As at the cut: 45 minutes (the change at 11:00 came after it), set at 09:20 with its reason.
    assert values[(*top, "IT.procedure.operative_time")] == "45"
    assert audits[(*top, "IT.procedure.operative_time")] == (
        coordinator,
        location,
        stamp(at("09:20")),
        "time from the anaesthesia chart",
    )
    assert values[(*level, "L1", "IT.procedure.levels.cement_volume")] == "5.0"
    assert audits[(*level, "L1", "IT.procedure.levels.cement_volume")] == (
        investigator,
        location,
        stamp(at("09:25")),
        "volume read again: 5.0 mL",
    )
    # Values never changed keep their first entry (no reason needed then); so does each box of a multichoice.
    assert audits[(*top, "IT.procedure.technique")] == (coordinator, location, stamp(at("09:10")), None)
    assert audits[(*level, "T12", "IT.procedure.levels.cement_volume")][2] == stamp(at("09:10"))
    assert values[(*top, "IT.procedure.intraop_complications.none")] == "1"
    assert values[(*top, "IT.procedure.intraop_complications.bleeding")] == "0"
    assert audits[(*top, "IT.procedure.intraop_complications.bleeding")][2] == stamp(at("09:10"))
    # The signature in force at the cut, on its form.
    root = tree.getroot()
    subject = root.find(f"odm:ClinicalData/odm:SubjectData[@SubjectKey='{worked.study_id}']", NS)
    signature = subject.find("odm:StudyEventData/odm:FormData[@FormOID='F.procedure']/odm:Signature", NS)
    assert signature.find("odm:UserRef", NS).get("UserOID") == investigator
    assert signature.find("odm:SignatureRef", NS).get("SignatureOID") == "SD.approval"
    assert signature.findtext("odm:DateTimeStamp", namespaces=NS) == stamp(at("09:35"))
    # The people in the trail are named in AdminData, by login (staff, never patients).
    users = {
        node.get("OID"): node.findtext("odm:LoginName", namespaces=NS)
        for node in root.iterfind("odm:AdminData/odm:User", NS)
    }
    assert users[coordinator] == "odm_coord" and users[investigator] == "odm_inv"
    assert users[f"USR.{people['monitor'].pk}"] == "odm_mon"  # verified: a change of the record, no value
    # Demo data: loaded in bulk under the demo's reason, by the user the record names.
    demo = FormRecord.objects.filter(participant__site__study=seeded, form_code="baseline").first()
    demo_key = (demo.participant.study_id, "SE.ENROLLMENT", None, "F.baseline", "IG.baseline", None)
    assert audits[(*demo_key, "IT.baseline.height")] == (
        f"USR.{demo.updated_by_id}",
        f"LOC.{demo.participant.site.code}",
        stamp(demo.updated_at),
        "synthetic demo data",
    )


def test_after_the_cut_the_later_value_and_the_fallen_signature(seeded, worked, people):
    tree = odm_read(export(seeded, cut_at=LATE)[0])
    top = (worked.study_id, "SE.ENROLLMENT", None, "F.procedure", "IG.procedure", None)
    assert clinical_values(tree)[(*top, "IT.procedure.operative_time")] == "50"
    assert item_audits(tree)[(*top, "IT.procedure.operative_time")][2:] == (stamp(at("11:00")), "second look")
    subject = tree.getroot().find(f"odm:ClinicalData/odm:SubjectData[@SubjectKey='{worked.study_id}']", NS)
    assert subject.find(".//odm:FormData[@FormOID='F.procedure']/odm:Signature", NS) is None


def test_participants_enrolled_after_the_cut_are_left_out(seeded, worked):
    tree = odm_read(export(seeded, cut_at=at("09:00"))[0])
    keys = {node.get("SubjectKey") for node in tree.getroot().iterfind(".//odm:SubjectData", NS)}
    assert worked.study_id not in keys
    assert len(keys) == 30


def test_the_metadata_speaks_both_languages(seeded, worked):
    root = odm_read(export(seeded)[0]).getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    for path in (
        "odm:ItemDef/odm:Question",
        "odm:CodeList/odm:CodeListItem/odm:Decode",
        "odm:FormDef/odm:Description",
    ):
        found = mdv.findall(path, NS)
        assert found, path
        for node in found:
            texts = {text.get(LANG): text.text for text in node.iterfind("odm:TranslatedText", NS)}
            assert set(texts) == {"en", "zh-Hans"} and all(texts.values()), (path, texts)
    question = mdv.find("odm:ItemDef[@OID='IT.procedure.technique']/odm:Question", NS)
    assert [(text.get(LANG), text.text) for text in question] == [
        ("en", "Technique"),
        ("zh-Hans", "手术方式"),
    ]
    # Units, range checks, code lists typed as their codes, a repeating group keyed by its level.
    height = mdv.find("odm:ItemDef[@OID='IT.baseline.height']", NS)
    assert (height.get("DataType"), height.get("SignificantDigits")) == ("float", "1")
    assert height.find("odm:MeasurementUnitRef", NS).get("MeasurementUnitOID") == "MU.cm"
    assert next(
        (c.get("Comparator"), c.findtext("odm:CheckValue", namespaces=NS))
        for c in height.iterfind("odm:RangeCheck[@SoftHard='Hard']", NS)
    ) == ("GE", "120")
    assert (
        mdv.find("odm:ItemDef[@OID='IT.fracture_levels.fractures.genant_grade']", NS).get("DataType")
        == "integer"
    )
    assert mdv.find("odm:CodeList[@OID='CL.qmri.field_strength']", NS).get("DataType") == "float"
    levels = mdv.find("odm:ItemGroupDef[@OID='IG.procedure.levels']", NS)
    assert levels.get("Repeating") == "Yes"
    assert levels.find("odm:ItemRef[@KeySequence='1']", NS).get("ItemOID") == "IT.procedure.levels.level"
    events = [node.get("OID") for node in mdv.iterfind("odm:StudyEventDef", NS)]
    assert events == ["SE.ENROLLMENT", "SE.M12", "SE.UNSCHEDULED"]
    meaning = root.findtext("odm:AdminData/odm:SignatureDef[@OID='SD.approval']/odm:Meaning", namespaces=NS)
    assert meaning == "I approve the data in this form / 我批准本表单中的数据"
    root_attributes = root.attrib
    assert root_attributes["ODMVersion"] == "1.3.2" and root_attributes["FileType"] == "Snapshot"
    assert root_attributes["SourceSystem"] == "SpineTrial"


def test_deidentified_hashed_keys_shifted_dates_no_free_text(seeded, worked):
    deid = Deidentifier(salt_new())
    content, _counts = export(seeded, deid=deid)
    plain = odm_read(export(seeded)[0])
    tree = odm_read(content)
    text = content.decode()
    study_ids = list(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    for study_id in study_ids:
        assert study_id not in text
    assert file_values(tree) == database_values(seeded, deid=deid)
    # No free text, no reasons (typed by people); the metadata still describes the text items.
    text_items = {
        node.get("OID")
        for node in tree.getroot().iterfind(".//odm:MetaDataVersion/odm:ItemDef[@DataType='text']", NS)
        if node.get("Length")
    }
    assert text_items and not text_items & {key[-1] for key in clinical_values(tree)}
    assert tree.getroot().find(".//odm:ReasonForChange", NS) is None
    assert plain.getroot().find(".//odm:ReasonForChange", NS) is not None
    # Each participant's dates and times move by the same days: intervals kept.
    for study_id in (worked.study_id, study_ids[0]):
        days = datetime.timedelta(days=deid.shift_days(study_id))
        hashed = deid.study_id(study_id)
        original = {key[1:]: value for key, value in clinical_values(plain).items() if key[0] == study_id}
        shifted = {key[1:]: value for key, value in clinical_values(tree).items() if key[0] == hashed}
        dates = [key for key in shifted if re.fullmatch(r"\d{4}-\d\d-\d\d", shifted[key])]
        assert dates
        for key in dates:
            assert datetime.date.fromisoformat(original[key]) - days == datetime.date.fromisoformat(
                shifted[key]
            )
        plain_audits, shifted_audits = item_audits(plain), item_audits(tree)
        for key in shifted:
            moved = datetime.datetime.fromisoformat(shifted_audits[(hashed, *key)][2])
            assert datetime.datetime.fromisoformat(plain_audits[(study_id, *key)][2]) - days == moved


def test_no_identifying_value_anywhere(seeded, worked):
    identities = ParticipantIdentity.objects.filter(participant__site__study=seeded)
    assert identities.count() == 31
    for options in ({}, {"deid": Deidentifier(salt_new())}):
        content = export(seeded, **options)[0].decode()
        for identity in identities:
            for value in (
                identity.full_name,
                identity.phone,
                identity.hospital_record_number,
                identity.national_id,
            ):
                if value:
                    assert value not in content


def test_a_fixed_number_of_queries_whatever_the_size(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 10)
    with CaptureQueriesContext(connection) as small:
        _content, small_counts = export(study)
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30, add=True)
    with CaptureQueriesContext(connection) as large:
        content, large_counts = export(study)
    odm_read(content)
    assert (small_counts["subjects"], large_counts["subjects"]) == (10, 40)
    assert len(large.captured_queries) == len(small.captured_queries) <= 8
    assert not any("identity" in query["sql"] for query in large.captured_queries)


def test_written_as_it_is_read(seeded, monkeypatch):
    """Each SubjectData is in the output before the next participant is read: the file is streamed."""
    monkeypatch.setattr(odm.writer, "PROGRESS_EVERY", 7)
    out = io.BytesIO()
    seen = []

    def progress(n):
        seen.append(n)
        assert out.getvalue().count(b"<SubjectData ") == n

    odm_write(study=seeded, out=out, cut_at=LATE, progress=progress)
    assert seen == [7, 14, 21, 28, 30]


def test_the_audit_record_is_the_change_that_last_set_the_value():
    """1 -> 2 -> 1: the value was last set by the third change, not the first (same value)."""
    form = form_layout(form_definitions()["procedure"])
    subject = Subject(key="x", site="07")
    events = [
        (1, 9, "insert", "", "procedure", {"operative_time": 1, "technique": "PVP"}, at("09:00"), 1, ""),
        (1, 9, "update", "", "procedure", {"operative_time": 2, "technique": "PVP"}, at("09:01"), 2, "a"),
        (1, 9, "update", "", "procedure", {"operative_time": 1, "technique": "PVP"}, at("09:02"), 3, "b"),
        (1, 9, "update", "", "procedure", {"operative_time": 1}, at("09:03"), 4, "c"),
        (1, 9, "update", "", "procedure", {"operative_time": 1, "technique": "PVP"}, at("09:04"), 5, "d"),
    ]
    values, set_by = record_state(form, events, subject)
    assert values == {
        ("IG.procedure", None, "IT.procedure.operative_time"): "1",
        ("IG.procedure", None, "IT.procedure.technique"): "PVP",
    }
    assert set_by[("IG.procedure", None, "IT.procedure.operative_time")] == ("USR.3", stamp(at("09:02")), "b")
    assert set_by[("IG.procedure", None, "IT.procedure.technique")] == ("USR.5", stamp(at("09:04")), "d")
