"""The Study element (GlobalVariables, BasicDefinitions, MetaDataVersion) and the AdminData element, built
from the layout: small and bounded by the protocol and the forms, not by the data, so each is built whole and
written at once."""

import datetime

from django.utils import translation
from lxml import etree

from crf.engine.definitions import TEXT_MAX_LENGTH
from crf.models import SignatureMeaning
from trial.i18n import LANGUAGES

from .layout import Item, Layout, xml_text

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGE_TAGS = {"en": "en", "zh-hans": "zh-Hans"}  # BCP 47, as xml:lang wants them
LEGAL_REASON = (
    "21 CFR 11.50 and 11.70: the signer's password entered again, printed name, time and meaning, linked to "
    "the signed version of the record and a hash of its data"
)


def q(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def el(parent, tag: str, text: str | None = None, **attrib) -> etree._Element:
    """A child element of `parent` (a new root when None); attributes whose value is None are left out."""
    attrib = {key: xml_text(value) for key, value in attrib.items() if value is not None}
    node = (
        etree.Element(q(tag), attrib, nsmap={None: ODM_NS})
        if parent is None
        else etree.SubElement(parent, q(tag), attrib)
    )
    if text is not None:
        node.text = xml_text(text)
    return node


def translated(parent, tag: str, texts: dict) -> etree._Element:
    """<tag><TranslatedText xml:lang="en">...</TranslatedText><TranslatedText xml:lang="zh-Hans">..."""
    node = el(parent, tag)
    for language in LANGUAGES:
        if texts.get(language):
            el(node, "TranslatedText", texts[language]).set(XML_LANG, LANGUAGE_TAGS[language])
    return node


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _range_checks(parent, item: Item, layout: Layout) -> None:
    spec = item.field
    for bound, comparator, soft_hard in (
        (spec.min, "GE", "Hard"),
        (spec.max, "LE", "Hard"),
        (spec.soft_min, "GE", "Soft"),
        (spec.soft_max, "LE", "Soft"),
    ):
        if bound is None:
            continue
        check = el(parent, "RangeCheck", Comparator=comparator, SoftHard=soft_hard)
        el(check, "CheckValue", _number(bound))
        if spec.unit:
            el(check, "MeasurementUnitRef", MeasurementUnitOID=layout.units[spec.unit])


def _item_def(parent, item: Item, layout: Layout) -> None:
    spec = item.field
    node = el(
        parent,
        "ItemDef",
        OID=item.oid,
        Name=item.name,
        DataType=item.data_type,
        Length=str(TEXT_MAX_LENGTH) if item.data_type == "text" and spec.type == "text" else None,
        SignificantDigits=str(spec.decimals)
        if spec.type == "decimal" and spec.decimals is not None
        else None,
    )
    if spec.help:
        translated(node, "Description", spec.help)
    if item.choice is None:
        translated(node, "Question", spec.label)
    else:  # one box of a multichoice: "Prior treatment: Denosumab"
        label = item.choice_label or {}
        translated(
            node,
            "Question",
            {lang: f"{text}: {label.get(lang, item.choice)}" for lang, text in spec.label.items()},
        )
    if spec.unit:
        el(node, "MeasurementUnitRef", MeasurementUnitOID=layout.units[spec.unit])
    if item.choice is None:
        _range_checks(node, item, layout)
    if item.codelist:
        el(node, "CodeListRef", CodeListOID=item.codelist)
    if spec.derivation is not None:
        name, arguments = spec.derivation
        args = ", ".join(f"{key}={value}" for key, value in sorted(arguments.items()))
        el(node, "Alias", Context="SpineTrial:derived", Name=f"{name}({args})")
    if item.choice is not None:
        el(node, "Alias", Context="SpineTrial:multichoice", Name=f"{spec.code} = {item.choice}")


def _code_list(parent, item: Item) -> None:
    node = el(parent, "CodeList", OID=item.codelist, Name=item.field.code, DataType=item.data_type)
    for order, choice in enumerate(item.field.choices, start=1):
        entry = el(node, "CodeListItem", CodedValue=choice.code, OrderNumber=str(order))
        translated(entry, "Decode", choice.label)


def study_element(*, layout: Layout, study, version) -> etree._Element:
    """Study: GlobalVariables, BasicDefinitions (the fields' units) and the MetaDataVersion of the protocol
    version (its events, the forms, item groups, items and code lists, texts in both languages)."""
    study_node = el(None, "Study", OID=layout.study_oid)
    variables = el(study_node, "GlobalVariables")
    el(variables, "StudyName", study.code)
    el(variables, "StudyDescription", study.title.get("en") or study.code)
    el(variables, "ProtocolName", f"{study.code} {version.label}")
    basics = el(study_node, "BasicDefinitions")
    for unit, oid in layout.units.items():
        measurement = el(basics, "MeasurementUnit", OID=oid, Name=unit)
        el(el(measurement, "Symbol"), "TranslatedText", unit)  # a unit's symbol is the same in every language
    forms = list(layout.forms.values())
    mdv = el(
        study_node,
        "MetaDataVersion",
        OID=layout.mdv_oid,
        Name=f"{study.code} protocol {version.label}",
        Description="Forms: " + ", ".join(f"{f.definition.code} {f.definition.version}" for f in forms),
    )
    protocol = el(mdv, "Protocol")
    translated(protocol, "Description", study.title)
    for order, event in enumerate(layout.events, start=1):
        mandatory = "No" if event.repeating else "Yes"
        el(protocol, "StudyEventRef", StudyEventOID=event.oid, OrderNumber=str(order), Mandatory=mandatory)
    for event in layout.events:
        node = el(
            mdv, "StudyEventDef", OID=event.oid, Name=event.label.get("en") or event.oid,
            Repeating="Yes" if event.repeating else "No", Type=event.type,
        )  # fmt: skip
        translated(node, "Description", event.label)
        for order, code in enumerate(event.forms, start=1):
            el(node, "FormRef", FormOID=layout.forms[code].oid, OrderNumber=str(order), Mandatory="No")
    for form in forms:
        node = el(mdv, "FormDef", OID=form.oid, Name=form.definition.title["en"], Repeating="No")
        translated(node, "Description", form.definition.title)
        for order, group in enumerate(form.groups, start=1):
            el(node, "ItemGroupRef", ItemGroupOID=group.oid, OrderNumber=str(order), Mandatory="No")
        el(node, "Alias", Context="SpineTrial:form", Name=f"{form.definition.code} {form.definition.version}")
    for form in forms:
        for group in form.groups:
            node = el(
                mdv, "ItemGroupDef", OID=group.oid, Name=group.label.get("en") or group.oid,
                Repeating="Yes" if group.repeating else "No",
            )  # fmt: skip
            translated(node, "Description", group.label)
            for order, item in enumerate(group.items, start=1):
                key = group.repeating and item.field.code == group.group.key and item.choice is None
                el(
                    node, "ItemRef", ItemOID=item.oid, OrderNumber=str(order),
                    KeySequence="1" if key else None,
                    Mandatory="Yes" if key or (item.field.required and item.choice is None) else "No",
                )  # fmt: skip
    items = [item for form in forms for group in form.groups for item in group.items]
    for item in items:
        _item_def(mdv, item, layout)
    for item in items:
        if item.codelist:
            _code_list(mdv, item)
    return study_node


def admin_element(*, layout: Layout, users: list, sites: list, effective: datetime.date) -> etree._Element:
    """AdminData: the staff who appear in the audit trail or sign (by user ID: staff, never patients), the
    sites, and one SignatureDef per e-signature meaning (its wording in both languages)."""
    admin = el(None, "AdminData", StudyOID=layout.study_oid)
    for user_id, username, full_name in users:
        node = el(admin, "User", OID=f"USR.{user_id}")
        if username:
            el(node, "LoginName", username)
        if full_name:
            el(node, "FullName", full_name)
    for site in sites:
        node = el(
            admin,
            "Location",
            OID=f"LOC.{site.code}",
            Name=site.name.get("en") or site.code,
            LocationType="Site",
        )
        el(
            node, "MetaDataVersionRef", StudyOID=layout.study_oid, MetaDataVersionOID=layout.mdv_oid,
            EffectiveDate=effective.isoformat(),
        )  # fmt: skip
    for meaning in SignatureMeaning:
        words = []
        for language in LANGUAGES:
            with translation.override(language):
                words.append(str(meaning.label))
        node = el(admin, "SignatureDef", OID=f"SD.{meaning.value}", Methodology="Electronic")
        el(node, "Meaning", " / ".join(dict.fromkeys(words)))
        el(node, "LegalReason", LEGAL_REASON)
    return admin
