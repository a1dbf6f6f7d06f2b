"""A corpus of malformed inputs: each gets a clear, located error or quarantine reason.

Every case checks that the message names the file, the column, the line(s),
the rule and the fix, and that the raw files are byte-identical afterwards.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pytest

from loyalty_roi import ingest
from loyalty_roi.errors import DataError

from .conftest import RUN_DATE, SALT

TX, CU, SU = "transactions.csv", "customers.csv", "surveys.csv"


def _edit(path, fn, encoding="latin-1"):
    lines = path.read_text(encoding=encoding).splitlines()
    lines = fn(lines)
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def set_field(file, line, col, value, sep=";", encoding="latin-1"):
    """Set field ``col`` of file line ``line`` (header = line 1)."""

    def fn(raw):
        def f(lines):
            parts = lines[line - 1].split(sep)
            parts[col] = value
            lines[line - 1] = sep.join(parts)
            return lines

        _edit(raw / file, f, encoding)

    return fn


def set_all(file, col, value, sep=";", encoding="latin-1"):
    def fn(raw):
        def f(lines):
            out = [lines[0]]
            for ln in lines[1:]:
                parts = ln.split(sep)
                parts[col] = value
                out.append(sep.join(parts))
            return out

        _edit(raw / file, f, encoding)

    return fn


def drop_column(file, col, sep=",", encoding="utf-8"):
    def fn(raw):
        _edit(
            raw / file,
            lambda lines: [
                sep.join(p for i, p in enumerate(ln.split(sep)) if i != col) for ln in lines
            ],
            encoding,
        )

    return fn


def duplicate_line(file, line):
    def fn(raw):
        _edit(raw / file, lambda lines: lines + [lines[line - 1]])

    return fn


def mapping_replace(old, new):
    def fn(raw):
        p = raw / "mapping.yml"
        p.write_text(p.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")

    return fn


def write_bytes(file, data):
    def fn(raw):
        (raw / file).write_bytes(data)

    return fn


def header_only(file):
    def fn(raw):
        first = (raw / file).read_bytes().splitlines()[0]
        (raw / file).write_bytes(first + b"\n")

    return fn


def to_commas(file):
    def fn(raw):
        p = raw / file
        p.write_bytes(p.read_bytes().replace(b";", b","))
        m = raw / "mapping.yml"
        m.write_text(
            m.read_text(encoding="utf-8").replace(
                "    file: customers.csv", '    file: customers.csv\n    delimiter: ";"', 1
            ),
            encoding="utf-8",
        )

    return fn


def append_utf8_line(file):
    def fn(raw):
        p = raw / file
        last = p.read_bytes().splitlines()[-1].decode("latin-1").split(";")
        last[0] = "C999999"
        last[1] = "Øystein Ærø"
        p.write_bytes(p.read_bytes() + ";".join(last).encode("utf-8") + b"\n")

    return fn


def extra_field(file, line):
    def fn(raw):
        _edit(
            raw / file,
            lambda lines: lines[: line - 1] + [lines[line - 1] + ";extra;fields"] + lines[line:],
        )

    return fn


def delete(file):
    def fn(raw):
        (raw / file).unlink()

    return fn


@dataclass
class Case:
    id: str
    mutate: Callable
    kind: str  # "error" or "quarantine"
    file: str
    column: str | None
    line: int | None
    rule: str


CASES = [
    Case(
        "missing required column",
        drop_column(SU, 2),
        "error",
        SU,
        "nps",
        1,
        "required column is missing",
    ),
    Case(
        "mapping names a missing column",
        mapping_replace("gross_amount: Brutto", "gross_amount: Brutt0"),
        "error",
        TX,
        "Brutt0",
        1,
        "no such column",
    ),
    Case(
        "non-numeric amount",
        set_field(TX, 4, 5, "12,5O"),
        "quarantine",
        TX,
        "Brutto",
        4,
        "not a number",
    ),
    Case(
        "wrong type in a whole column",
        set_all(TX, 5, "n/a"),
        "error",
        TX,
        "Brutto",
        2,
        "not a number",
    ),
    Case(
        "unparseable date",
        set_field(TX, 6, 2, "32.13.2025 10:00:00"),
        "quarantine",
        TX,
        "Tidspunkt",
        6,
        "unparseable date",
    ),
    Case(
        "negative amount on a sale",
        set_field(TX, 7, 5, "-5,00"),
        "quarantine",
        TX,
        "Brutto",
        7,
        "sale with zero or negative amount",
    ),
    Case(
        "duplicate ids",
        duplicate_line(TX, 9),
        "quarantine",
        TX,
        "Bonnr",
        None,
        "exact duplicate row",
    ),
    Case(
        "orphan customer id",
        set_field(TX, 10, 1, "C777777"),
        "quarantine",
        TX,
        "customer_id",
        10,
        "not in customers",
    ),
    Case("empty file", write_bytes(TX, b""), "error", TX, None, None, "empty (0 bytes)"),
    Case("header only", header_only(CU), "error", CU, None, None, "no data rows"),
    Case("wrong delimiter", to_commas(CU), "error", CU, None, 1, "wrong delimiter"),
    Case("mixed encodings", append_utf8_line(CU), "error", CU, None, None, "mixed encodings"),
    Case(
        "future date",
        set_field(TX, 11, 2, "01.01.2031 10:00:00"),
        "quarantine",
        TX,
        "Tidspunkt",
        11,
        "date in the future",
    ),
    Case(
        "unknown code",
        set_field(CU, 12, 5, "Maybe"),
        "quarantine",
        CU,
        "Medlem",
        12,
        "value not in the mapping's codes",
    ),
    Case(
        "extra fields in a row",
        extra_field(TX, 13),
        "error",
        TX,
        None,
        13,
        "wrong number of fields",
    ),
    Case(
        "nps out of range",
        set_field(SU, 3, 2, "11", sep=",", encoding="utf-8"),
        "quarantine",
        SU,
        "nps",
        3,
        "above the maximum 10",
    ),
    Case(
        "net differs from gross minus discount",
        set_field(TX, 14, 7, "1,00"),
        "quarantine",
        TX,
        "Netto",
        14,
        "net amount ≠ gross amount − discount",
    ),
    Case("required file missing", delete(TX), "error", TX, None, None, "file not found"),
    Case(
        "invalid mapping YAML",
        mapping_replace("tables:", "tables: ["),
        "error",
        "mapping.yml",
        None,
        None,
        "not valid YAML",
    ),
    Case(
        "empty required value",
        set_field(TX, 15, 0, ""),
        "quarantine",
        TX,
        "Bonnr",
        15,
        "required value is empty",
    ),
]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_gets_a_located_message_with_a_fix(case, small_raw, tmp_path):
    case.mutate(small_raw)
    before = {p.name: ingest.sha256_file(p) for p in small_raw.iterdir()}
    out = tmp_path / "processed"
    if case.kind == "error":
        with pytest.raises(DataError) as exc:
            ingest.ingest(small_raw, small_raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE)
        msg = str(exc.value)
        assert "Traceback" not in msg
        issue = next(i for i in exc.value.issues if case.rule in i.rule)
        assert not out.exists() or not list(out.glob("*.parquet")), (
            "a failed ingest must not write tables"
        )
    else:
        res = ingest.ingest(small_raw, small_raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE)
        issue = next(i for i in res.issues if case.rule in i.rule)
        msg = issue.describe()
        table = next(t for t, r in res.quality.set_index("file").iterrows() if t == case.file)
        q = pd.read_csv(
            out / "quarantine" / f"{res.quality.set_index('file').loc[table, 'table']}.csv"
        )
        assert len(q) >= 1 and q["_reasons"].str.len().gt(0).all()
        if case.line:
            assert case.line in q["_line"].tolist()
    assert issue.file == case.file and case.file in msg
    if case.column:
        assert issue.column == case.column and f"'{case.column}'" in msg
    if case.line:
        assert case.line in issue.rows and str(case.line) in msg
    assert case.rule in msg and "fix:" in msg and issue.fix
    after = {p.name: ingest.sha256_file(p) for p in small_raw.iterdir()}
    assert after == before, "raw files must never be modified"


def test_the_message_for_a_typo_suggests_the_right_column(small_raw):
    mapping_replace("gross_amount: Brutto", "gross_amount: Brutt0")(small_raw)
    with pytest.raises(DataError, match="did you mean 'Brutto'"):
        ingest.ingest(small_raw, small_raw / "mapping.yml", None, salt=SALT, run_date=RUN_DATE)
