"""De-identification, as REDCap offers it: hashed study IDs, dates shifted per participant, free text removed.

- **Study IDs** become HMAC-SHA256(salt, study ID), 16 hex digits: the same participant has the same hash in
  every table of one export, and a different one in another export (the salt is drawn per export and kept
  with its job, so the data manager can re-link if ever needed).
- **Dates** of a participant move back by the same number of days, 0 to 364, drawn from the salt and the
  study ID: intervals between a participant's dates are kept (days to event, visit windows).
- **Free text** columns are left out (Column.free_text).
"""

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

SALT_BYTES = 16
SHIFT_DAYS = 365  # shifts are 0..364


def salt_new() -> str:
    return secrets.token_hex(SALT_BYTES)


@dataclass(frozen=True)
class Deidentifier:
    salt: str

    def _digest(self, study_id: str) -> bytes:
        return hmac.new(bytes.fromhex(self.salt), study_id.encode(), hashlib.sha256).digest()

    def study_id(self, study_id: str) -> str:
        return self._digest(study_id).hex()[:16]

    def shift_days(self, study_id: str) -> int:
        """The participant's shift, 0..364 days back (from digest bytes the hashed ID does not show)."""
        return int.from_bytes(self._digest(study_id)[16:24], "big") % SHIFT_DAYS

    def date(self, study_id: str, value: datetime.date | None) -> datetime.date | None:
        return None if value is None else value - datetime.timedelta(days=self.shift_days(study_id))


def table_deidentify(table, deid: Deidentifier):
    """The table with its study IDs hashed (the first column), its dates shifted per participant and its
    free-text columns left out. Streams: each row is changed as it passes."""
    from .table import ColumnType, Table

    if not table.columns or table.columns[0].name != "study_id":
        raise ValueError(f"table {table.name}: the first column must be the study ID")
    kept = [i for i, column in enumerate(table.columns) if not column.free_text]
    dates = [i for i in kept if table.columns[i].type == ColumnType.DATE]
    keys = [i for i in kept if table.columns[i].key]
    columns = tuple(
        replace(table.columns[i], type=ColumnType.STRING) if table.columns[i].key else table.columns[i]
        for i in kept
    )

    def rows():
        for row in table.rows:
            study_id = row[0]
            shift = datetime.timedelta(days=deid.shift_days(study_id))
            changed = list(row)
            changed[0] = deid.study_id(study_id)
            for i in dates:
                if changed[i] is not None:
                    changed[i] -= shift
            for i in keys:
                if changed[i] is not None:
                    changed[i] = deid.study_id(f"{table.columns[i].name}:{changed[i]}")
            yield tuple(changed[i] for i in kept)

    return Table(table.name, columns, rows(), table.label)


def salted_order(salt: str | None, study_id_path: str, then: str):
    """ORDER BY for a stream of participants' rows: study IDs' own order, or with a de-identification salt an
    order drawn from it (md5 of salt and study ID), never the IDs' order that would let row k be matched to
    the k-th study ID, or to row k of another export. `then` (the participant's id) keeps each participant's
    rows together in the same sequence in every stream, so streams merge by equality."""
    from django.db.models import CharField, F, Value
    from django.db.models.functions import MD5, Concat

    if not salt:
        return (then,)
    return (MD5(Concat(Value(salt), F(study_id_path), output_field=CharField())), then)
