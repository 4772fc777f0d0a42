"""The study in CDISC ODM 1.3.2 (XML), with every value's audit trail: `odm_write`.

The file is a Snapshot as at the data cut:
- **Study**: GlobalVariables, BasicDefinitions (the units of the fields) and the MetaDataVersion of the
  study's current protocol version: a StudyEventDef for the enrollment forms (the protocol's `forms:`), one
  per scheduled visit that collects forms and one (repeating) for the unscheduled visits; a FormDef per
  form, an ItemGroupDef for its top-level fields and one per repeating group (Repeating="Yes", the group's
  key as the ItemRef with KeySequence 1), ItemDefs with their questions in English and Simplified Chinese
  (xml:lang "en" and "zh-Hans"), units, range checks (hard and soft) and code lists (layout.py, metadata.py).
- **AdminData**: the staff who appear in the audit trail or sign (by user ID), the sites, and a
  SignatureDef per e-signature meaning.
- **ClinicalData**: a SubjectData per participant enrolled by the cut (SubjectKey the study ID, SiteRef the
  site), a StudyEventData per event (the unscheduled visit's code as StudyEventRepeatKey), a FormData per
  record with its signature in force at the cut, ItemGroupData (a repeating group's row keyed by its key,
  the level) and ItemData, each with the AuditRecord of the change that last set its value: user, site,
  time and reason for change (clinical.py).

Choices made where ODM leaves room:
- **Multichoice** fields have no ODM type: each becomes one boolean item per choice (`IT.<form>.<field>.
  <choice>`, named `<field>___<choice>` as REDCap names checkbox columns), "1" chosen and "0" not, written
  for every choice once the field is answered and for none while it is empty. Each Value is then legal for
  its type, an empty answer differs from an unanswered question, it works inside repeating groups (ODM
  item groups do not nest), and each box has the audit record of the change that ticked or unticked it.
- **Choice** items are typed as their codes are (integer, float or text) and reference a CodeList whose
  items decode in both languages; booleans are "1" / "0".
- **Times** are the application's (the record's updated_at as each audit event stored it), in UTC.
- **As at the cut**: a record is its last audit event by the cut, so a value changed since is the one it
  had then; a signature counts if made by the cut and not invalidated by then (only one fits a FormData: the
  latest).
- **De-identified** (`deid`): hashed SubjectKey, every date and time of a participant moved back by their
  shift (intervals kept), free-text items and reasons for change (typed text) left out of ClinicalData; the
  metadata still describes the free-text items.
- Nothing identifying is read: no query touches trial.ParticipantIdentity.

Why lxml and not odmlib: odmlib models a whole ODM document as Python objects and serialises it at the end
(through ElementTree), so the document is in memory at once: at 56,000 participants that is millions of
objects. Here the small parts (Study, AdminData) are built as lxml trees, and ClinicalData is written with
`lxml.etree.xmlfile` one SubjectData at a time; the tests check the result against the official XSD, which
is what odmlib's own validation does too. One dependency (lxml) instead of odmlib and its three.
"""

from .writer import odm_write

__all__ = ["odm_write"]
