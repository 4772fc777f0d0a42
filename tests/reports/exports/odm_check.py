"""Reading an ODM file back, independently of the writer: the official XSD (lxml), then what the schema
cannot say: every OID reference resolves to its definition, every ItemData belongs to its item group and
its Value is legal for its DataType and code list."""

import datetime
import decimal
from functools import cache
from pathlib import Path

from lxml import etree

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
XSD = Path(__file__).resolve().parents[2] / "standards" / "odm-1.3.2" / "ODM1-3-2.xsd"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _legal(value: str, data_type: str) -> bool:
    try:
        if data_type == "integer":
            int(value)
            return value.strip() == value and "." not in value
        if data_type == "float":
            decimal.Decimal(value)
            return "e" not in value.lower()
        if data_type == "date":
            datetime.date.fromisoformat(value)
            return len(value) == 10
        if data_type == "boolean":
            return value in ("0", "1", "true", "false")
        return data_type in ("text", "string")
    except (ValueError, decimal.InvalidOperation):
        return False


def odm_read(content: bytes) -> etree._ElementTree:
    """The parsed file, after checking it against the XSD and the references; AssertionError otherwise."""
    tree = etree.ElementTree(etree.fromstring(content, etree.XMLParser(huge_tree=True)))
    schema().assertValid(tree)
    root = tree.getroot()

    def oids(path: str) -> set[str]:
        return {node.get("OID") for node in root.iterfind(path, NS)}

    def refs(attribute: str) -> set[str]:
        return {node.get(attribute) for node in root.iter() if node.get(attribute) is not None}

    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    events, forms = oids(".//odm:StudyEventDef"), oids(".//odm:FormDef")
    groups, items = oids(".//odm:ItemGroupDef"), oids(".//odm:ItemDef")
    assert refs("StudyEventOID") <= events
    assert refs("FormOID") <= forms
    assert refs("ItemGroupOID") <= groups
    assert refs("ItemOID") <= items
    assert refs("CodeListOID") <= oids(".//odm:CodeList")
    assert refs("MeasurementUnitOID") <= oids(".//odm:MeasurementUnit")
    assert refs("UserOID") <= oids("odm:AdminData/odm:User")
    assert refs("LocationOID") <= oids("odm:AdminData/odm:Location")
    assert refs("SignatureOID") <= oids("odm:AdminData/odm:SignatureDef")
    clinical = root.find("odm:ClinicalData", NS)
    assert clinical.get("StudyOID") == root.find("odm:Study", NS).get("OID")
    assert clinical.get("MetaDataVersionOID") == mdv.get("OID")
    # Each data element sits where the metadata puts it.
    event_forms = {
        node.get("OID"): {ref.get("FormOID") for ref in node.iterfind("odm:FormRef", NS)}
        for node in mdv.iterfind("odm:StudyEventDef", NS)
    }
    form_groups = {
        node.get("OID"): {ref.get("ItemGroupOID") for ref in node.iterfind("odm:ItemGroupRef", NS)}
        for node in mdv.iterfind("odm:FormDef", NS)
    }
    group_defs = {node.get("OID"): node for node in mdv.iterfind("odm:ItemGroupDef", NS)}
    group_items = {
        oid: {ref.get("ItemOID") for ref in node.iterfind("odm:ItemRef", NS)}
        for oid, node in group_defs.items()
    }
    item_defs = {node.get("OID"): node for node in mdv.iterfind("odm:ItemDef", NS)}
    code_lists = {
        node.get("OID"): {item.get("CodedValue") for item in node.iterfind("odm:CodeListItem", NS)}
        for node in mdv.iterfind("odm:CodeList", NS)
    }
    repeating_events = {node.get("OID") for node in mdv.iterfind("odm:StudyEventDef[@Repeating='Yes']", NS)}
    for event in clinical.iterfind("odm:SubjectData/odm:StudyEventData", NS):
        assert (event.get("StudyEventRepeatKey") is not None) == (
            event.get("StudyEventOID") in repeating_events
        )
        for form in event.iterfind("odm:FormData", NS):
            assert form.get("FormOID") in event_forms[event.get("StudyEventOID")]
            for group in form.iterfind("odm:ItemGroupData", NS):
                oid = group.get("ItemGroupOID")
                assert oid in form_groups[form.get("FormOID")]
                repeating = group_defs[oid].get("Repeating") == "Yes"
                assert (group.get("ItemGroupRepeatKey") is not None) == repeating
                for item in group.iterfind("odm:ItemData", NS):
                    assert item.get("ItemOID") in group_items[oid]
                    definition = item_defs[item.get("ItemOID")]
                    value = item.get("Value")
                    assert _legal(value, definition.get("DataType")), (item.get("ItemOID"), value)
                    code_list = definition.find("odm:CodeListRef", NS)
                    if code_list is not None:
                        assert value in code_lists[code_list.get("CodeListOID")], (item.get("ItemOID"), value)
    return tree


def clinical_values(tree) -> dict:
    """{(subject, event OID, event repeat key, form OID, group OID, group repeat key, item OID): Value}."""
    values = {}
    for subject in tree.getroot().iterfind("odm:ClinicalData/odm:SubjectData", NS):
        for event in subject.iterfind("odm:StudyEventData", NS):
            for form in event.iterfind("odm:FormData", NS):
                for group in form.iterfind("odm:ItemGroupData", NS):
                    for item in group.iterfind("odm:ItemData", NS):
                        key = (
                            subject.get("SubjectKey"),
                            event.get("StudyEventOID"),
                            event.get("StudyEventRepeatKey"),
                            form.get("FormOID"),
                            group.get("ItemGroupOID"),
                            group.get("ItemGroupRepeatKey"),
                            item.get("ItemOID"),
                        )
                        assert key not in values
                        values[key] = item.get("Value")
    return values


def item_audits(tree) -> dict:
    """The same keys, each to (user OID, location OID, time, reason or None) of its AuditRecord."""
    audits = {}
    for subject in tree.getroot().iterfind("odm:ClinicalData/odm:SubjectData", NS):
        for event in subject.iterfind("odm:StudyEventData", NS):
            for form in event.iterfind("odm:FormData", NS):
                for group in form.iterfind("odm:ItemGroupData", NS):
                    for item in group.iterfind("odm:ItemData", NS):
                        record = item.find("odm:AuditRecord", NS)
                        reason = record.find("odm:ReasonForChange", NS)
                        audits[
                            (
                                subject.get("SubjectKey"),
                                event.get("StudyEventOID"),
                                event.get("StudyEventRepeatKey"),
                                form.get("FormOID"),
                                group.get("ItemGroupOID"),
                                group.get("ItemGroupRepeatKey"),
                                item.get("ItemOID"),
                            )
                        ] = (
                            record.find("odm:UserRef", NS).get("UserOID"),
                            record.find("odm:LocationRef", NS).get("LocationOID"),
                            record.findtext("odm:DateTimeStamp", namespaces=NS),
                            None if reason is None else reason.text,
                        )
    return audits


def typed(value: str, data_type: str):
    """A Value read back as its ItemDef's DataType says."""
    return {
        "integer": int,
        "float": decimal.Decimal,
        "date": datetime.date.fromisoformat,
        "boolean": lambda text: text in ("1", "true"),
    }.get(data_type, str)(value)


def file_values(tree) -> dict:
    """clinical_values with each Value read as its ItemDef's DataType says."""
    types = {
        node.get("OID"): node.get("DataType")
        for node in tree.getroot().iterfind(".//odm:MetaDataVersion/odm:ItemDef", NS)
    }
    return {key: typed(value, types[key[-1]]) for key, value in clinical_values(tree).items()}
