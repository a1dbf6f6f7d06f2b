"""A corpus of malformed inputs: each gets a clear, located error or quarantine reason.

Every case checks that the message names the file, the column, the line(s),
the rule and the fix, and that the raw files are byte-identical afterwards.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pytest

from loyalty_roi import ingest
from loyalty_roi.errors import DataError

from .conftest import RUN_DATE, SALT

TX, CU, SU, PC = "transactions.csv", "customers.csv", "surveys.csv", "program_costs.csv"
MAP = "mapping.yml"


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
    ingest_kw: dict = field(default_factory=dict)


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
        "sale with a negative amount",
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
        {"max_reject_share": 0.5},
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


# --- more mutations --------------------------------------------------------------------------
def mapping_set(table, key_line):
    """Add ``key_line`` (e.g. 'decimal: ","') under ``table:`` in the mapping."""

    def fn(raw):
        p = raw / MAP
        text = p.read_text(encoding="utf-8")
        text = text.replace(f"  {table}:\n", f"  {table}:\n    {key_line}\n", 1)
        p.write_text(text, encoding="utf-8")

    return fn


def mapping_file(table, new_file):
    def fn(raw):
        p = raw / MAP
        lines = p.read_text(encoding="utf-8").splitlines()
        i = lines.index(f"  {table}:")
        lines[i + 1] = f"    file: {new_file}"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return fn


def both(*fns):
    def fn(raw):
        for f in fns:
            f(raw)

    return fn


def make_dir(name):
    def fn(raw):
        (raw / name).mkdir()

    return fn


def symlink_out(name, target="/etc/hostname"):
    def fn(raw):
        (raw / name).symlink_to(target)

    return fn


def prepend_bom(file):
    def fn(raw):
        p = raw / file
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())

    return fn


def rename_header(file, old, new, sep=";", encoding="latin-1"):
    def fn(raw):
        def f(lines):
            lines[0] = sep.join(new if h == old else h for h in lines[0].split(sep))
            return lines

        _edit(raw / file, f, encoding)

    return fn


def costs_with_days(bad_line):
    """program_costs with full dates; line ``bad_line`` on the 15th instead of the 1st."""

    def fn(raw):
        def f(lines):
            out = [lines[0]]
            for i, ln in enumerate(lines[1:], start=2):
                parts = ln.split(";")
                parts[0] = parts[0] + ("-15" if i == bad_line else "-01")
                out.append(";".join(parts))
            return out

        _edit(raw / PC, f, "utf-8-sig")

    return fn


def quoted_newline_then_bad(file, text_line, bad_line, bad_col, value):
    """A name with a line break in quotes on ``text_line``; a bad value on physical ``bad_line``."""

    def fn(raw):
        def f(lines):
            lines[bad_line - 2] = _set(lines[bad_line - 2], bad_col, value)
            lines[text_line - 1] = _set(lines[text_line - 1], 1, '"Anne\nMarie"')
            return lines

        _edit(raw / file, f)

    return fn


def _set(line, col, value, sep=";"):
    parts = line.split(sep)
    parts[col] = value
    return sep.join(parts)


def insert_blank_lines(file, before_line, n=2):
    def fn(raw):
        _edit(
            raw / file, lambda lines: lines[: before_line - 1] + [""] * n + lines[before_line - 1 :]
        )

    return fn


def crlf(file):
    def fn(raw):
        p = raw / file
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))

    return fn


def parquet_edit(file, fn_df):
    def fn(raw):
        df = pd.read_parquet(raw / file)
        fn_df(df).to_parquet(raw / file, index=False)

    return fn


def excel_edit(file, fn_df):
    def fn(raw):
        df = pd.read_excel(raw / file)
        fn_df(df).to_excel(raw / file, index=False)

    return fn


def excel_duplicate_header(file):
    def fn(raw):
        from openpyxl import load_workbook

        wb = load_workbook(raw / file)
        wb.active.cell(row=1, column=3).value = "Naam"
        wb.save(raw / file)

    return fn


def member_line(raw):
    """The first customers.csv line of a member."""
    lines = (raw / CU).read_text(encoding="latin-1").splitlines()
    return next(i for i, ln in enumerate(lines, start=1) if i > 1 and ln.split(";")[5] == "J")


def sentinel_enrollment(raw):
    line = member_line(raw)
    set_field(CU, line, 6, "01.01.1900")(raw)


def truncate_last_line(file):
    def fn(raw):
        _edit(raw / file, lambda lines: lines[:-1] + [";".join(lines[-1].split(";")[:4])])

    return fn


def contact_padded_twice(df):
    extra = df.iloc[[0]].copy()
    extra["campaign_id"] = " " + extra["campaign_id"] + " "
    extra["is_holdout"] = ~extra["is_holdout"]
    return pd.concat([df, extra], ignore_index=True)


def earn_negative(df):
    i = df.index[df["type"] == "earn"][0]
    df.loc[i, "points"] = -5
    return df


def campaign_backwards(df):
    df.loc[0, "Einddatum"] = df.loc[0, "Startdatum"] - pd.Timedelta(days=3)
    return df


def reject_customer_with_sales(raw):
    """Quarantine a customer who has sales (bad consent code): their sales must say why."""
    tx = (raw / TX).read_text(encoding="latin-1").splitlines()
    cid = next(ln.split(";")[1] for ln in tx[1:] if ln.split(";")[1])
    lines = (raw / CU).read_text(encoding="latin-1").splitlines()
    line = next(i for i, ln in enumerate(lines, start=1) if ln.startswith(cid + ";"))
    set_field(CU, line, 9, "Vielleicht")(raw)


MORE_CASES = [
    # --- mapping ------------------------------------------------------------------------------
    Case(
        "mapping entry is not a mapping",
        mapping_replace("  surveys:\n    file: surveys.csv", "  surveys: surveys.csv"),
        "error",
        MAP,
        None,
        None,
        "must be a mapping",
    ),
    Case(
        "mapping file is a folder",
        both(make_dir("exports"), mapping_file("surveys", "exports")),
        "error",
        "exports",
        None,
        None,
        "is a folder",
    ),
    Case(
        "mapping path climbs out of raw",
        mapping_file("surveys", "../../../../etc/passwd"),
        "error",
        MAP,
        None,
        None,
        "outside the raw data folder",
    ),
    Case(
        "mapping path is absolute",
        mapping_file("surveys", "/etc/passwd"),
        "error",
        MAP,
        None,
        None,
        "outside the raw data folder",
    ),
    Case(
        "mapping path is a symlink out",
        both(symlink_out("link.csv"), mapping_file("surveys", "link.csv")),
        "error",
        MAP,
        None,
        None,
        "outside the raw data folder",
    ),
    Case(
        "mapped code is not an allowed value",
        mapping_replace("Guld: gold", "Guld: platinum"),
        "error",
        MAP,
        None,
        None,
        "is not allowed",
    ),
    Case(
        "yes/no code that is not yes/no",
        mapping_replace("{Ja: true, Nej: false}", '{Ja: true, Nej: "maybe"}'),
        "error",
        MAP,
        None,
        None,
        "is not yes/no",
    ),
    Case(
        "unknown table name",
        mapping_replace("  surveys:", "  survey:"),
        "error",
        MAP,
        None,
        None,
        "did you mean 'surveys'",
    ),
    Case(
        "unknown mapping key",
        mapping_set("surveys", "colums: {nps: nps}"),
        "error",
        MAP,
        None,
        None,
        "unknown keys",
    ),
    Case(
        "invalid decimal setting",
        mapping_set("surveys", 'decimal: ";"'),
        "error",
        MAP,
        None,
        None,
        "decimal ';' is not one of",
    ),
    Case(
        "pii onto a non-hash column",
        mapping_replace("      phone_hash: Telefon", "      phone: Telefon"),
        "error",
        MAP,
        None,
        None,
        "are not hash columns",
    ),
    Case(
        "values for an unknown column",
        mapping_set("surveys", "values: {mood: {a: b}}"),
        "error",
        MAP,
        None,
        None,
        "not a canonical column",
    ),
    Case(
        "entry without file",
        mapping_replace("  surveys:\n    file: surveys.csv", "  surveys:\n    format: csv"),
        "error",
        MAP,
        None,
        None,
        "needs exactly one of 'file'",
    ),
    Case(
        "empty mapping",
        write_bytes(MAP, b"# nothing here\n"),
        "error",
        MAP,
        None,
        None,
        "no 'tables:' section",
    ),
    Case(
        "mapping is a list",
        write_bytes(MAP, b"- customers\n- transactions\n"),
        "error",
        MAP,
        None,
        None,
        "no 'tables:' section",
    ),
    Case(
        "required table not mapped",
        mapping_replace("  transactions:\n", "  transactions_old:\n"),
        "error",
        MAP,
        None,
        None,
        "did you mean 'transactions'",
    ),
    Case(
        "unknown encoding",
        mapping_set("surveys", "encoding: klingon-8"),
        "error",
        SU,
        None,
        None,
        "unknown encoding",
    ),
    # --- files and encodings ------------------------------------------------------------------
    Case("BOM then latin-1 body", prepend_bom(CU), "error", CU, None, None, "mixed encodings"),
    Case(
        "duplicate CSV header",
        rename_header(TX, "Kanal", "Butik"),
        "error",
        TX,
        "Butik",
        1,
        "duplicate column name",
    ),
    Case(
        "duplicate Excel header",
        excel_duplicate_header("campaigns.xlsx"),
        "error",
        "campaigns.xlsx",
        "Naam",
        1,
        "duplicate column name",
    ),
    Case(
        "garbage Excel",
        write_bytes("campaigns.xlsx", b"PK\x03\x04 not really a zip"),
        "error",
        "campaigns.xlsx",
        None,
        None,
        "not a readable Excel",
    ),
    Case(
        "garbage Parquet",
        write_bytes("points_ledger.parquet", b"PAR1garbagePAR1"),
        "error",
        "points_ledger.parquet",
        None,
        None,
        "not a readable Parquet",
    ),
    Case(
        "only blank lines", write_bytes(SU, b"\n\n  \n"), "error", SU, None, None, "no header line"
    ),
    Case(
        "binary junk",
        write_bytes(SU, bytes(range(1, 9)) + b"\n" + bytes(range(14, 30))),
        "error",
        SU,
        None,
        None,
        "required column is missing",
    ),
    # --- numbers --------------------------------------------------------------------------------
    Case(
        "infinite amount", set_field(TX, 4, 5, "inf"), "quarantine", TX, "Brutto", 4, "not a number"
    ),
    Case("NaN amount", set_field(TX, 5, 5, "NaN"), "quarantine", TX, "Brutto", 5, "not a number"),
    Case(
        "currency sign in amount",
        set_field(TX, 6, 5, "12,50 kr"),
        "quarantine",
        TX,
        "Brutto",
        6,
        "not a number",
    ),
    Case(
        "minority row in the other number style",
        set_field(TX, 7, 5, "12.50"),
        "quarantine",
        TX,
        "Brutto",
        7,
        "other decimal style",
    ),
    Case(
        "thousands groups of two digits",
        set_field(TX, 8, 5, "1.29,50"),
        "quarantine",
        TX,
        "Brutto",
        8,
        "not a number",
    ),
    Case(
        "whole amounts with a dot could be thousands",
        set_all(PC, 2, "1.299", encoding="utf-8-sig"),
        "error",
        PC,
        "Betrag",
        2,
        "can be read two ways",
    ),
    Case(
        "whole amounts with a comma could be decimals",
        set_all(PC, 2, "4,500", encoding="utf-8-sig"),
        "error",
        PC,
        "Betrag",
        2,
        "can be read two ways",
    ),
    Case(
        "negative discount",
        set_field(TX, 9, 6, "-2,00"),
        "quarantine",
        TX,
        "Rabat",
        9,
        "below the minimum 0",
    ),
    Case(
        "fractional score",
        set_field(SU, 4, 2, "7.5", sep=",", encoding="utf-8"),
        "quarantine",
        SU,
        "nps",
        4,
        "not a whole number",
    ),
    Case(
        "csat out of range",
        set_field(SU, 5, 3, "9.5", sep=",", encoding="utf-8"),
        "quarantine",
        SU,
        "csat",
        5,
        "above the maximum",
    ),
    # --- dates ----------------------------------------------------------------------------------
    Case(
        "ambiguous day/month order",
        set_all(SU, 1, "11/01/2026", sep=",", encoding="utf-8"),
        "error",
        SU,
        "date",
        2,
        "day and month order cannot be told apart",
    ),
    Case(
        "month is not the first of a month",
        costs_with_days(3),
        "quarantine",
        PC,
        "Monat",
        3,
        "not the first day of a month",
    ),
    Case(
        "1900 sentinel enrollment date",
        sentinel_enrollment,
        "quarantine",
        CU,
        "Indmeldt",
        None,
        "implausible date before 1990-01-01",
    ),
    Case(
        "epoch sentinel sale date",
        set_field(TX, 10, 2, "01.01.1970 00:00:00"),
        "quarantine",
        TX,
        "Tidspunkt",
        10,
        "implausible date",
    ),
    Case(
        "far-future date",
        set_field(TX, 11, 2, "01.01.2999 10:00:00"),
        "quarantine",
        TX,
        "Tidspunkt",
        11,
        "date in the future",
    ),
    Case(
        "one ISO date among another format",
        set_field(SU, 6, 1, "06.03.2026", sep=",", encoding="utf-8"),
        "quarantine",
        SU,
        "date",
        6,
        "unparseable date",
    ),
    # --- codes, keys and references --------------------------------------------------------------
    Case(
        "unknown return code",
        set_field(TX, 12, 8, "Maybe"),
        "quarantine",
        TX,
        "Retur",
        12,
        "value not in the mapping's codes",
    ),
    Case(
        "unknown channel code",
        set_field(TX, 13, 4, "Telefon"),
        "quarantine",
        TX,
        "Kanal",
        13,
        "value not in the mapping's codes",
    ),
    Case(
        "key duplicated after trimming spaces",
        lambda raw: _edit(raw / TX, lambda ls: ls + [" " + ls[8]]),
        "quarantine",
        TX,
        "Bonnr",
        None,
        "duplicate",
    ),
    Case(
        "contact key duplicated after trimming",
        parquet_edit("campaign_contacts.parquet", contact_padded_twice),
        "quarantine",
        "campaign_contacts.parquet",
        "campaign_id, customer_id",
        None,
        "duplicate key with different values",
    ),
    Case(
        "earned points negative",
        parquet_edit("points_ledger.parquet", earn_negative),
        "quarantine",
        "points_ledger.parquet",
        "points",
        None,
        "earned points must be positive",
    ),
    Case(
        "campaign ends before it starts",
        excel_edit("campaigns.xlsx", campaign_backwards),
        "quarantine",
        "campaigns.xlsx",
        "Einddatum",
        2,
        "campaign ends before it starts",
        {"max_reject_share": 0.5},
    ),
    Case(
        "sales of a quarantined customer say why",
        reject_customer_with_sales,
        "quarantine",
        TX,
        "customer_id",
        None,
        "row was quarantined",
    ),
    # --- line numbers ---------------------------------------------------------------------------
    Case(
        "quoted line break keeps physical line numbers",
        quoted_newline_then_bad(CU, 3, 12, 5, "Vielleicht"),
        "quarantine",
        CU,
        "Medlem",
        12,
        "value not in the mapping's codes",
        {"max_reject_share": 0.5},
    ),
    Case(
        "blank lines keep physical line numbers",
        both(insert_blank_lines(TX, 5), set_field(TX, 9, 5, "x")),
        "quarantine",
        TX,
        "Brutto",
        9,
        "not a number",
    ),
    Case(
        "CRLF line endings",
        both(set_field(TX, 14, 5, "abc"), crlf(TX)),
        "quarantine",
        TX,
        "Brutto",
        14,
        "not a number",
    ),
    Case(
        "truncated last line",
        truncate_last_line(TX),
        "quarantine",
        TX,
        None,
        None,
        "required value is empty",
    ),
    # --- whole-run rules --------------------------------------------------------------------------
    Case(
        "every sale rejected",
        set_all(TX, 8, "Maybe"),
        "error",
        TX,
        None,
        None,
        "no transactions row passed the checks",
        {"max_reject_share": 1.0},
    ),
    Case(
        "every transaction a return",
        set_all(TX, 8, "J"),
        "error",
        TX,
        None,
        None,
        "every kept transaction is a return",
        {"max_reject_share": 1.0},
    ),
]
CASES = CASES + MORE_CASES


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_gets_a_located_message_with_a_fix(case, small_raw, tmp_path):
    case.mutate(small_raw)
    before = {p.name: ingest.sha256_file(p) for p in small_raw.iterdir() if p.is_file()}
    out = tmp_path / "processed"
    if case.kind == "error":
        with pytest.raises(DataError) as exc:
            ingest.ingest(
                small_raw,
                small_raw / "mapping.yml",
                out,
                salt=SALT,
                run_date=RUN_DATE,
                **case.ingest_kw,
            )
        msg = str(exc.value)
        assert "Traceback" not in msg
        issue = next((i for i in exc.value.issues if case.rule in i.rule), None)
        assert issue is not None, msg
        assert not out.exists() or not list(out.glob("*.parquet")), (
            "a failed ingest must not write tables"
        )
    else:
        res = ingest.ingest(
            small_raw,
            small_raw / "mapping.yml",
            out,
            salt=SALT,
            run_date=RUN_DATE,
            **case.ingest_kw,
        )
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
    after = {p.name: ingest.sha256_file(p) for p in small_raw.iterdir() if p.is_file()}
    assert after == before, "raw files must never be modified"


def test_the_message_for_a_typo_suggests_the_right_column(small_raw):
    mapping_replace("gross_amount: Brutto", "gross_amount: Brutt0")(small_raw)
    with pytest.raises(DataError, match="did you mean 'Brutto'"):
        ingest.ingest(small_raw, small_raw / "mapping.yml", None, salt=SALT, run_date=RUN_DATE)
