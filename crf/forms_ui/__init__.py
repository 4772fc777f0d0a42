"""The CRF pages' side of a form: POST parsed into the engine's data shape, and the view of every field.

Nothing here judges a value: the engine and the services do, and their messages (keyed by engine paths such as
"operative_time" or "levels[L1].cement_volume") are placed back on the inputs they name. Input names are the
field code at the top level and "<group>-<index>-<code>" in a repeating group, so a browser without
JavaScript posts the same shape as one that adds rows by cloning the row <template>.

By part: labels (statuses, paths as anchors and labels), post (POST -> data and back), view_model and entry
(the view of a form), forms (the small Django forms of the life cycle and queries), filters (the query list).
Callers import from here: `from crf.forms_ui import entry_view, parse_entry`.
"""

from .entry import BLANK_ROWS, changes_by_path, entry_view, value_text
from .filters import ALL, LIVE, QueryPageFilter
from .forms import QueryRaiseForm, QueryStepForm, ReasonForm, SignForm, UnlockForm
from .labels import (
    NOT_STARTED,
    SEPARATOR,
    STATUS_LABELS,
    anchor_of,
    path_label,
    row_label,
    row_prefix,
    spec_of,
    split_path,
    status_label,
)
from .post import MAX_ROW_INDEX_DIGITS, parse_entry, parse_version, values_from_data
from .view_model import RADIO_CHOICES, TEMPLATE_INDEX, EntryView, FieldView, GroupView, Option, RowView

__all__ = [
    "ALL",
    "BLANK_ROWS",
    "LIVE",
    "MAX_ROW_INDEX_DIGITS",
    "NOT_STARTED",
    "RADIO_CHOICES",
    "SEPARATOR",
    "STATUS_LABELS",
    "TEMPLATE_INDEX",
    "EntryView",
    "FieldView",
    "GroupView",
    "Option",
    "QueryPageFilter",
    "QueryRaiseForm",
    "QueryStepForm",
    "ReasonForm",
    "RowView",
    "SignForm",
    "UnlockForm",
    "anchor_of",
    "changes_by_path",
    "entry_view",
    "parse_entry",
    "parse_version",
    "path_label",
    "row_label",
    "row_prefix",
    "spec_of",
    "split_path",
    "status_label",
    "value_text",
    "values_from_data",
]
