"""Output sanitising in one place: inert spreadsheet cells, safe chart text, no personal data.

Three promises rest on this module:

* **No formula from input reaches a spreadsheet.**  :func:`inert_text` prefixes
  text that a spreadsheet would evaluate (``= + - @``, tab, CR; OWASP "CSV
  injection") with ``'``; :func:`inert_frame` applies it to every text cell of a
  table before it is written to CSV or XLSX, and :func:`force_text_cells` makes
  openpyxl store those cells as strings, never as formulas.
* **Chart text from data is literal.**  :func:`mpl_text` escapes ``$`` so a
  campaign called "Save $5 or $10" is not read as matplotlib mathtext.
* **No personal data reaches an output.**  :func:`looks_like_email` /
  :func:`looks_like_phone` recognise contact details in ids and free text;
  ingest pseudonymises such ids and replaces such text (:func:`redact_text`)
  before anything is written to ``processed/``, so notebooks, HTML, logs and
  spreadsheets never see them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import pandas as pd

# characters that make a spreadsheet cell a formula or a DDE call (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# phone numbers: an international prefix (+45 …, 0045 …) or 8–15 digits in 2–4 digit groups.
# Dates (2025-11-01, 01.11.2025) and plain digit strings (card numbers) are not phones.
_PHONE_INTL = r"(?:\+|\b00)\d{1,3}[\s\-./]?\(?\d{1,4}\)?(?:[\s\-./]?\d{2,4}){2,5}\b"
_PHONE_GROUPED = r"\b\d{2,4}(?:[ \-]\d{2,4}){2,5}\b"
PHONE_RE = re.compile(f"{_PHONE_INTL}|{_PHONE_GROUPED}")
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def inert_text(value: object) -> object:
    """``value`` made inert for a spreadsheet: text starting with a formula character gets a ``'``.

    Non-text values are returned unchanged (numbers stay numbers).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) cannot be evaluated as formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(inert_text, na_action="ignore")
    out.columns = [inert_text(str(c)) for c in out.columns]
    return out


def force_text_cells(ws) -> int:
    """Make every text cell of an openpyxl worksheet a string cell (never a formula).

    openpyxl stores any value starting with ``=`` as a formula; after
    :func:`inert_frame` no data value does, and this is the second lock.
    Returns the number of cells changed.
    """
    changed = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (
                isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)
            ):
                cell.value = inert_text(str(cell.value))
                cell.data_type = "s"
                changed += 1
    return changed


def mpl_text(value: object) -> str:
    """Text for a matplotlib label: ``$`` escaped so data never switches on mathtext."""
    return str(value).replace("$", r"\$")


def mpl_texts(values: Iterable[object]) -> list[str]:
    """:func:`mpl_text` over many labels."""
    return [mpl_text(v) for v in values]


def looks_like_email(value: str) -> bool:
    """Whether ``value`` contains an e-mail address."""
    return bool(EMAIL_RE.search(value))


def looks_like_phone(value: str) -> bool:
    """Whether ``value`` contains a phone number (international prefix or grouped digits)."""
    for m in PHONE_RE.finditer(value):
        text = m.group(0).strip()
        digits = re.sub(r"\D", "", text)
        if 8 <= len(digits) <= 15 and not _DATE_LIKE.match(text):
            return True
    return False


def is_personal(value: object) -> bool:
    """Whether a text value carries an e-mail address or a phone number."""
    return isinstance(value, str) and (looks_like_email(value) or looks_like_phone(value))


def pseudonym(value: str, salt: str, prefix: str = "", length: int = 16) -> str:
    """Salted SHA-256 pseudonym of one value: ``prefix`` + ``length`` hex characters.

    The one pseudonym function of the workbook (contact hashes on ingest,
    personal ids, display pseudonyms of top customers).
    """
    return prefix + hashlib.sha256(f"{salt}|{value}".encode()).hexdigest()[:length]


# a superset of what EMAIL_RE / PHONE_RE can match, tested in C++ (RE2) on the whole column first:
# an '@'; or a '+', a '00' prefix or digits split by a separator
_CANDIDATE_SEP = r"\+|(?:^|\W)00\d|\d[\s\-./()]+\d"


def personal_mask(values: pd.Series) -> pd.Series:
    """Boolean mask of the text values that carry an e-mail address or a phone number.

    The column is screened with vectorised Arrow string kernels; only the few
    candidates (an ``@``, a ``+``, a ``00`` prefix or separated digit groups) are checked
    with the exact patterns in Python — ids such as ``T00000001`` never are.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    s = (
        values
        if pd.api.types.is_string_dtype(values)
        else values.map(lambda v: v if v is None or (isinstance(v, float) and v != v) else str(v))
    )
    arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    phone = pc.match_substring_regex(arr, _CANDIDATE_SEP)
    cand = pc.fill_null(pc.or_(pc.match_substring(arr, "@"), phone), False)
    out = pd.Series(cand.to_numpy(zero_copy_only=False), index=values.index)
    if out.any():
        text = pd.Series(s[out].astype(str), index=values.index[out])
        out[out] = text.map(lambda v: looks_like_email(v) or looks_like_phone(v)).to_numpy(bool)
    return out


def pseudonymise_personal_ids(values: pd.Series, salt: str) -> tuple[pd.Series, int]:
    """Ids that are e-mail addresses or phone numbers replaced by ``id-<hash>``.

    The same id always gets the same pseudonym (so references between tables
    still match); other ids are unchanged.  Returns the new values and how many
    were replaced.
    """
    mask = personal_mask(values)
    n = int(mask.sum())
    if not n:
        return values, 0
    out = values.astype(object).copy()
    out[mask] = [pseudonym(str(v).strip().lower(), salt, "id-") for v in out[mask]]
    return out.astype(values.dtype) if values.dtype != object else out, n


def redact_text(values: pd.Series, salt: str) -> tuple[pd.Series, int]:
    """Free text with e-mail addresses and phone numbers replaced by ``[e-mail …]`` / ``[phone …]``."""
    mask = personal_mask(values)
    n = int(mask.sum())
    if not n:
        return values, 0

    def phone_sub(m: re.Match) -> str:
        text = m.group(0)
        digits = re.sub(r"\D", "", text)
        if 8 <= len(digits) <= 15 and not _DATE_LIKE.match(text.strip()):
            return f"[phone {pseudonym(digits, salt)[:8]}]"
        return text

    def one(v: str) -> str:
        v = EMAIL_RE.sub(lambda m: f"[e-mail {pseudonym(m.group(0).lower(), salt)[:8]}]", v)
        return PHONE_RE.sub(phone_sub, v)

    out = values.astype(object).copy()
    out[mask] = [one(str(v)) for v in out[mask]]
    return out.astype(values.dtype) if values.dtype != object else out, n
