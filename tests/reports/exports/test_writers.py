"""The tabular writers (reports/exports/writers.py): every file is read back by an independent reader (pandas,
openpyxl, pyreadstat) and compared value by value with the rows that went in."""

import datetime
import decimal
import io
import math
import os
import tracemalloc

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from reports.exports.table import Column, ColumnType, Table
from reports.exports.writers import (
    BOM,
    choice_numbers,
    csv_write,
    dta_names,
    dta_write,
    sav_names,
    sav_write,
    sheet_names,
    xlsx_write,
)

SMOKING = Column(
    "smoking",
    {"en": "Smoking", "zh-hans": "吸烟史"},
    ColumnType.CHOICE,
    choices=(
        ("never", {"en": "Never", "zh-hans": "从不吸烟"}),
        ("former", {"en": "Former", "zh-hans": "已戒烟"}),
        ("current", {"en": "Current", "zh-hans": "目前吸烟"}),
    ),
)
COLUMNS = (
    Column("study_id", {"en": "Study ID", "zh-hans": "研究编号"}, ColumnType.STRING),
    Column("age", {"en": "Age", "zh-hans": "年龄"}, ColumnType.INTEGER, unit="years"),
    Column("weight", {"en": "Weight", "zh-hans": "体重"}, ColumnType.DECIMAL, unit="kg"),
    Column("surgery_date", {"en": "Date of surgery", "zh-hans": "手术日期"}, ColumnType.DATE),
    Column("diabetes", {"en": "Diabetes mellitus", "zh-hans": "糖尿病"}, ColumnType.BOOLEAN),
    SMOKING,
    Column("notes", {"en": "Notes", "zh-hans": "备注"}, ColumnType.STRING, free_text=True),
)
ROWS = (
    ("07-0001", 71, 0.1 + 0.2, datetime.date(2024, 3, 1), True, "never", "腰背痛卧床 3 天"),
    ("07-0002", None, 22.5, None, False, "current", 'a "quote", a comma\nand a new line'),
    ("07-0003", 65, decimal.Decimal("58.40"), datetime.date(1999, 12, 31), None, None, None),
    ("07-0004", 80, None, datetime.date(2025, 1, 15), True, "former", "=1+1"),
)
LABELS = {
    "en": {"yes": "yes", "no": "no", "never": "Never", "former": "Former", "current": "Current"},
    "zh-hans": {"yes": "是", "no": "否", "never": "从不吸烟", "former": "已戒烟", "current": "目前吸烟"},
}
TABLE_LABEL = {"en": "Baseline", "zh-hans": "基线"}


def table(rows=ROWS, columns=COLUMNS, name="baseline") -> Table:
    return Table(name=name, columns=columns, rows=iter(rows), label=TABLE_LABEL)


def csv_read(data: bytes) -> pd.DataFrame:
    """The CSV as pandas reads it, every field as its text ('' for an empty one)."""
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def csv_value(column: Column, text: str, labels: dict | None = None):
    """A CSV field back to the value that went in."""
    if text == "":
        return None
    if labels and column.type in (ColumnType.BOOLEAN, ColumnType.CHOICE):
        by_label = {label: key for key, label in labels.items()}
        key = by_label[text]
        return {"yes": True, "no": False}.get(key, key)
    return {
        ColumnType.INTEGER: int,
        ColumnType.DECIMAL: float,
        ColumnType.DATE: datetime.date.fromisoformat,
        ColumnType.BOOLEAN: {"1": True, "0": False}.__getitem__,
    }.get(column.type, str)(text)


def went_in(column: Column, value):
    return float(value) if column.type == ColumnType.DECIMAL and value is not None else value


# CSV


@pytest.mark.parametrize("bom", [False, True])
def test_csv_raw_reads_back_value_by_value(bom):
    out = io.BytesIO()

    assert csv_write(table(), out, bom=bom) == len(ROWS)

    data = out.getvalue()
    assert data.startswith(BOM) is bom
    assert data.removeprefix(BOM).startswith(b"study_id,age,")
    frame = csv_read(data)
    assert list(frame.columns) == [column.name for column in COLUMNS]
    assert len(frame) == len(ROWS)
    for row, read in zip(ROWS, frame.itertuples(index=False), strict=True):
        for column, value, text in zip(COLUMNS, row, read, strict=True):
            assert csv_value(column, text) == went_in(column, value), column.name
    # Numbers without float noise: a float's shortest round-trip text, a Decimal as it was written.
    assert list(frame["weight"]) == ["0.30000000000000004", "22.5", "58.40", ""]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_csv_labels_reads_back_in_the_language(language):
    out = io.BytesIO()

    csv_write(table(), out, labels=True, language=language, bom=True)

    frame = csv_read(out.getvalue())
    assert list(frame.columns) == [column.name for column in COLUMNS]  # the header stays the names
    labels = LABELS[language]
    assert list(frame["diabetes"]) == [labels["yes"], labels["no"], "", labels["yes"]]
    assert list(frame["smoking"]) == [labels["never"], labels["current"], "", labels["former"]]
    for row, read in zip(ROWS, frame.itertuples(index=False), strict=True):
        for column, value, text in zip(COLUMNS, row, read, strict=True):
            assert csv_value(column, text, labels) == went_in(column, value), column.name


def test_csv_leaves_the_callers_file_open(tmp_path):
    with open(tmp_path / "out.csv", "wb") as out:
        csv_write(table(), out)
        assert not out.closed
        out.write(b"more\r\n")  # the caller may go on writing
    assert (tmp_path / "out.csv").read_bytes().endswith(b"07-0004,80,,2025-01-15,1,former,=1+1\r\nmore\r\n")


def test_a_row_with_a_value_missing_is_refused():
    with pytest.raises(ValueError, match="row 2 has 6 values for 7 columns"):
        csv_write(table(rows=[ROWS[0], ROWS[1][:-1]]), io.BytesIO())


def test_an_unlisted_code_reads_back_as_itself(tmp_path):
    """A code stored under an earlier version of a form: written as itself, or numbered after the listed
    choices and labelled by the code, so nothing is lost and the export does not fail."""
    rows = [(*ROWS[0][:5], "sometimes", None), ROWS[1]]
    out = io.BytesIO()
    csv_write(table(rows=rows), out, labels=True)
    assert pd.read_csv(io.BytesIO(out.getvalue()), dtype=str)["smoking"].tolist() == ["sometimes", "Current"]
    for write, read in ((dta_write, pyreadstat.read_dta), (sav_write, pyreadstat.read_sav)):
        write(table(rows=rows), tmp_path / "t")
        frame, meta = read(str(tmp_path / "t"))
        labels = meta.variable_value_labels["smoking"]
        assert [labels[code] for code in frame["smoking"]] == ["sometimes", "Current"]
        assert labels[4] == "sometimes"  # after the three listed choices
        (tmp_path / "t").unlink()


class OnceOnly:
    """Rows made one at a time (of the table's first, third, fifth and sixth columns) that can be read once: a
    writer reading them twice fails."""

    columns = (COLUMNS[0], COLUMNS[2], COLUMNS[4], COLUMNS[5])

    def __init__(self, count: int):
        self.count = count
        self.read = False

    def __iter__(self):
        assert not self.read, "the rows were read twice"
        self.read = True
        for n in range(self.count):
            yield (f"07-{n:06d}", n / 7, n % 2 == 0, "former")


def test_csv_streams_the_rows_without_holding_them():
    rows = OnceOnly(200_000)
    tracemalloc.start()
    try:
        with open(os.devnull, "wb") as out:
            count = csv_write(Table(name="big", columns=OnceOnly.columns, rows=rows), out, labels=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    # Held whole, the rows alone would take about 30 MB.
    assert peak < 1_000_000, f"peak {peak} bytes"


# XLSX


def test_xlsx_reads_back_value_by_value(tmp_path):
    path = tmp_path / "export.xlsx"
    visits = (Column("study_id", {"en": "Study ID"}, ColumnType.STRING),)

    counts = xlsx_write(
        [table(), Table(name="visits", columns=visits, rows=iter([("07-0001",), ("07-0002",)]))],
        path,
        language="zh-hans",
    )

    assert counts == {"baseline": len(ROWS), "visits": 2}
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["baseline", "visits"]
    assert list(sheets["visits"]["study_id"]) == ["07-0001", "07-0002"]
    frame = sheets["baseline"]
    assert list(frame.columns) == [column.name for column in COLUMNS]
    for row, read in zip(ROWS, frame.itertuples(index=False), strict=True):
        for column, value, cell in zip(COLUMNS, row, read, strict=True):
            if value is None:
                assert pd.isna(cell), column.name
            elif column.type == ColumnType.DATE:
                assert cell.date() == value
            elif column.type == ColumnType.DECIMAL:
                # Excel keeps 15-16 significant digits (XlsxWriter writes 16): 0.1 + 0.2 reads back as 0.3.
                assert math.isclose(cell, value, rel_tol=1e-15), (cell, value)
            elif column.type == ColumnType.BOOLEAN:
                assert cell == (1 if value else 0)
            else:
                assert cell == value, column.name  # codes, integers and text ("=1+1" stays text)


def test_xlsx_cells_are_typed_the_header_frozen_and_labelled(tmp_path):
    path = tmp_path / "export.xlsx"
    xlsx_write([table()], path, language="zh-hans")

    sheet = openpyxl.load_workbook(path)["baseline"]
    assert sheet.freeze_panes == "A2"
    header = list(sheet[1])
    assert [cell.value for cell in header] == [column.name for column in COLUMNS]
    assert [cell.comment.text for cell in header] == [column.label["zh-hans"] for column in COLUMNS]
    age, weight, surgery, diabetes, smoking = (sheet.cell(row=2, column=n) for n in range(2, 7))
    assert surgery.is_date and surgery.number_format == "yyyy-mm-dd"
    assert surgery.value == datetime.datetime(2024, 3, 1)
    assert (age.data_type, weight.data_type, diabetes.data_type) == ("n", "n", "n")
    assert (smoking.data_type, smoking.value) == ("s", "never")
    assert sheet.cell(row=5, column=7).data_type == "s"  # "=1+1": text, never a formula


def test_xlsx_asks_for_each_table_once_the_one_before_is_written(tmp_path):
    events = []

    def rows(name):
        yield ("07-0001",)
        events.append(f"{name} read")

    def tables():
        for name in ("baseline", "visits"):
            events.append(f"{name} given")
            yield Table(name=name, columns=COLUMNS[:1], rows=rows(name))

    assert xlsx_write(tables(), tmp_path / "lazy.xlsx") == {"baseline": 1, "visits": 1}
    # The runner's tables come from one database snapshot, each opening its query when it is asked for.
    assert events == ["baseline given", "baseline read", "visits given", "visits read"]


def test_sheet_names_are_legal_short_and_unique(tmp_path):
    names = ["a/b:c*d?[e]", "x" * 40, "x" * 40 + "y", "History", "'quoted'", "Baseline", "baseline"]

    written = sheet_names(names)

    assert list(written) == names
    assert written == sheet_names(names)  # deterministic
    for name in written.values():
        assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\") and name[0] != "'" and name[-1] != "'"
    assert len({name.casefold() for name in written.values()}) == len(names)
    assert written["a/b:c*d?[e]"] == "a_b_c_d__e_"
    assert (written["x" * 40], written["x" * 40 + "y"]) == ("x" * 31, "x" * 29 + "~2")
    assert (written["Baseline"], written["baseline"]) == ("Baseline", "baseline~2")
    # Excel (and XlsxWriter) accept them all.
    path = tmp_path / "names.xlsx"
    column = (Column("n", {"en": "N"}, ColumnType.INTEGER),)
    xlsx_write([Table(name=name, columns=column, rows=iter([(1,)])) for name in names], path)
    assert openpyxl.load_workbook(path).sheetnames == list(written.values())


def test_xlsx_memory_stays_flat_in_the_number_of_rows(tmp_path):
    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            big = Table(name="big", columns=OnceOnly.columns, rows=OnceOnly(count))
            xlsx_write([big], tmp_path / f"{count}.xlsx")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2_000), peak(16_000)

    assert large < small * 1.5 + 200_000, (small, large)  # eight times the rows, about the same memory


# Stata .dta and SPSS .sav

FORMATS = {
    "dta": (dta_write, pyreadstat.read_dta, dta_names, "%td"),
    "sav": (sav_write, pyreadstat.read_sav, sav_names, "DATE11"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", ["dta", "sav"])
def test_stata_and_spss_read_back_with_their_labels(kind, language, tmp_path):
    write, read, names, date_format = FORMATS[kind]
    path = tmp_path / f"baseline.{kind}"

    assert write(table(), path, language=language) == len(ROWS)

    frame, meta = read(path)
    assert list(frame.columns) == [column.name for column in COLUMNS]
    assert names(COLUMNS) == {column.name: column.name for column in COLUMNS}  # legal names kept
    for row, read_row in zip(ROWS, frame.itertuples(index=False), strict=True):
        for column, value, cell in zip(COLUMNS, row, read_row, strict=True):
            if value is None:
                assert cell == "" if column.type == ColumnType.STRING else pd.isna(cell), column.name
            elif column.type == ColumnType.CHOICE:
                assert cell == choice_numbers(column)[value]
            elif column.type == ColumnType.BOOLEAN:
                assert cell == (1 if value else 0)
            else:
                assert cell == went_in(column, value), column.name  # doubles exact: 0.30000000000000004
    labels = LABELS[language]
    assert meta.file_label == TABLE_LABEL[language]
    assert meta.column_names_to_labels == {column.name: column.label[language] for column in COLUMNS}
    assert meta.variable_value_labels == {
        "diabetes": {1: labels["yes"], 0: labels["no"]},
        "smoking": {1: labels["never"], 2: labels["former"], 3: labels["current"]},
    }
    assert meta.original_variable_types["surgery_date"] == date_format
    assert choice_numbers(SMOKING) == {"never": 1, "former": 2, "current": 3}


def test_the_stata_file_reads_the_same_in_pandas(tmp_path):
    """pandas' Stata reader shares no code with pyreadstat's (readstat): a second, independent reading."""
    path = tmp_path / "baseline.dta"
    dta_write(table(), path, language="zh-hans")

    with pd.io.stata.StataReader(path) as reader:
        frame = reader.read(convert_categoricals=False)
        assert reader.data_label == TABLE_LABEL["zh-hans"]
        assert reader.variable_labels() == {column.name: column.label["zh-hans"] for column in COLUMNS}
        assert sorted(reader.value_labels().values(), key=len) == [
            {1: "是", 0: "否"},
            {1: "从不吸烟", 2: "已戒烟", 3: "目前吸烟"},
        ]
    for row, read_row in zip(ROWS, frame.itertuples(index=False), strict=True):
        for column, value, cell in zip(COLUMNS, row, read_row, strict=True):
            if value is None:
                assert cell == "" if column.type == ColumnType.STRING else pd.isna(cell), column.name
            elif column.type == ColumnType.DATE:
                assert cell.date() == value
            elif column.type in (ColumnType.CHOICE, ColumnType.BOOLEAN):
                assert cell == (choice_numbers(column)[value] if column.type == ColumnType.CHOICE else value)
            else:
                assert cell == went_in(column, value), column.name


@pytest.mark.parametrize("kind", ["dta", "sav"])
def test_an_empty_table_and_columns_with_no_value(kind, tmp_path):
    write, read, _names, date_format = FORMATS[kind]
    path = tmp_path / f"empty.{kind}"
    blank = tuple(None for _ in COLUMNS)

    assert write(table(rows=[blank, blank]), path) == 2
    frame, meta = read(path)
    assert frame["study_id"].tolist() == ["", ""]
    assert frame.drop(columns=["study_id", "notes"]).isna().all().all()
    assert meta.original_variable_types["surgery_date"] == date_format  # still a date column

    assert write(table(rows=[]), path) == 0
    assert len(read(path)[0]) == 0
    assert xlsx_write([table(rows=[])], tmp_path / "empty.xlsx") == {"baseline": 0}
    assert csv_write(table(rows=[]), io.BytesIO()) == 0


def flag(name: str) -> Column:
    return Column(name, {"en": name}, ColumnType.BOOLEAN)


def test_long_and_illegal_names_are_shortened_uniquely_for_stata(tmp_path):
    long = "fracture_level_" + "x" * 30
    columns = (
        flag("odi_11"),  # the 1st labelled column: value-label set odi_110
        *(flag(f"b{n}") for n in range(1, 10)),
        flag("odi_1"),  # the 11th: odi_1 + 10 would be odi_110 again
        flag("z" * 32),  # a legal name, but its value-label set z...z11 would have 34 characters
        Column(long + "_height", {"en": "Height"}, ColumnType.DECIMAL),
        Column(long + "_weight", {"en": "Weight"}, ColumnType.DECIMAL),  # the same first 32 characters
        Column("if", {"en": "Reserved"}, ColumnType.INTEGER),
        Column("str12", {"en": "A Stata type"}, ColumnType.INTEGER),
        Column("年龄", {"en": "Age"}, ColumnType.INTEGER),
        Column("_n", {"en": "Reserved"}, ColumnType.INTEGER),
    )
    row = (True,) * 12 + (1.5, 2.5, 3, 4, 5, 6)

    names = dta_names(columns)

    assert names == dta_names(columns)  # the same on every run
    assert list(names) == [column.name for column in columns]
    assert len(set(names.values())) == len(columns)
    assert names["odi_11"] == "odi_11" and names["odi_1"] != "odi_1"
    assert len(names["z" * 32]) == 30 and names["z" * 32].startswith("z" * 25)
    assert all(names[f"b{n}"] == f"b{n}" for n in range(1, 10))
    assert names[long + "_height"] == (long + "_height")[:32]
    assert names[long + "_weight"].startswith((long + "_weight")[:27])
    assert names["if"] != "if" and names["str12"] != "str12" and names["_n"] != "_n"
    path = tmp_path / "names.dta"
    dta_write(table(rows=[row], columns=columns), path)
    frame, meta = pyreadstat.read_dta(path)
    assert meta.column_names == list(names.values())
    assert all(len(name) <= 32 for name in meta.column_names)
    assert frame.iloc[0].tolist() == [1] * 12 + [1.5, 2.5, 3, 4, 5, 6]
    label_sets = list(meta.variable_to_label.values())
    assert len(label_sets) == 12 and len(set(label_sets)) == 12
    assert all(len(label_set) <= 32 for label_set in label_sets)


def test_long_names_are_shortened_uniquely_for_spss(tmp_path):
    long = "visit_" + "y" * 60
    columns = (
        Column(long + "_odi", {"en": "ODI"}, ColumnType.INTEGER),
        Column(long + "_vas", {"en": "VAS"}, ColumnType.INTEGER),  # the same first 64 bytes
        Column("Age", {"en": "Age"}, ColumnType.INTEGER),
        Column("age", {"en": "Age again"}, ColumnType.INTEGER),  # the same name to SPSS
        Column("all", {"en": "Reserved"}, ColumnType.INTEGER),
        Column("2nd_visit", {"en": "Starts with a digit"}, ColumnType.INTEGER),
    )

    names = sav_names(columns)

    assert names == sav_names(columns)
    assert names[long + "_odi"] == (long + "_odi")[:64]
    assert names[long + "_vas"].startswith((long + "_vas")[:59]) and len(names[long + "_vas"]) <= 64
    assert names["Age"] == "Age" and names["age"].casefold() != "age"
    assert names["all"] != "all" and names["2nd_visit"][0].isalpha()
    assert len({name.casefold() for name in names.values()}) == len(columns)
    path = tmp_path / "names.sav"
    sav_write(table(rows=[(1, 2, 3, 4, 5, 6)], columns=columns), path)
    frame, meta = pyreadstat.read_sav(path)
    assert meta.column_names == list(names.values())
    assert frame.iloc[0].tolist() == [1, 2, 3, 4, 5, 6]


def ends_whole(data: bytes, text: str, kept: int) -> bool:
    """Whether the file holds `text`'s first `kept` characters and no piece of the next one after them (a
    reader may quietly drop a broken character; SPSS and Stata need not)."""
    head = text[:kept].encode()
    end = data.index(head) + len(head)
    return data[end] != text[kept].encode()[0]


def test_labels_are_cut_to_each_formats_limit_never_inside_a_character(tmp_path):
    long_label = "长" * 100  # 3 bytes each in UTF-8
    long_choice = "a" + "选" * 50  # so that 120 bytes end inside a character
    columns = (
        Column(
            "level", {"zh-hans": long_label}, ColumnType.CHOICE, choices=(("t12", {"zh-hans": long_choice}),)
        ),
    )
    for write, path in ((dta_write, tmp_path / "t.dta"), (sav_write, tmp_path / "t.sav")):
        write(
            Table(name="t", columns=columns, rows=iter([("t12",)]), label={"zh-hans": long_label}),
            path,
            language="zh-hans",
        )

    _frame, stata = pyreadstat.read_dta(tmp_path / "t.dta")
    assert stata.column_names_to_labels["level"] == "长" * 80  # Stata: 80 characters
    assert stata.file_label == "长" * 80
    assert stata.variable_value_labels["level"] == {1: long_choice}  # Stata's value labels hold 32,000
    _frame, spss = pyreadstat.read_sav(tmp_path / "t.sav")
    assert spss.column_names_to_labels["level"] == "长" * 85  # SPSS: 256 bytes, so 85 whole characters
    assert spss.file_label == "长" * 21  # 64 bytes
    assert spss.variable_value_labels["level"] == {1: long_choice[:40]}  # 120 bytes: "a" and 39 characters
    data = (tmp_path / "t.sav").read_bytes()
    assert ends_whole(data, long_label, 85) and ends_whole(data, long_label, 21)
    assert ends_whole(data, long_choice, 40)
