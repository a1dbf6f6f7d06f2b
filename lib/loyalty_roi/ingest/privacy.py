"""Personal data in an ingest, kept out of every output.

Ids that are e-mails or phone numbers are pseudonymised, contact details in
free text are redacted, and quarantined rows are shown without them.
"""

from __future__ import annotations

import pandas as pd

from .. import sanitize
from ..parsing import as_text


def protect_personal_text(frame: pd.DataFrame, spec, salt: str) -> dict[str, str]:
    """Pseudonymise ids that are e-mails/phones, redact contact details in free text (in place)."""
    notes = {}
    for col in spec.columns:
        if col.kind != "str" or col.allowed or col.pii or col.name not in frame:
            continue
        if col.name.endswith("_id"):
            frame[col.name], n = sanitize.pseudonymise_personal_ids(frame[col.name], salt)
            if n:
                notes[f"{col.name} personal"] = (
                    f"WARNING: {n:,} {col.name} values are e-mail addresses or phone numbers; "
                    "they were pseudonymised (use a customer number as the id)"
                )
        else:
            frame[col.name], n = sanitize.redact_text(frame[col.name], salt)
            if n:
                notes[f"{col.name} personal"] = (
                    f"{n:,} {col.name} values contained an e-mail address or phone number; "
                    "those parts were replaced by pseudonyms"
                )
    return notes


def quarantine_rows(rows: pd.DataFrame, cols: dict[str, str], tm, salt: str) -> pd.DataFrame:
    """Rejected source rows for the quarantine file: mapped columns only, personal values hidden."""
    mapped = list(dict.fromkeys(s for c, s in cols.items() if s in rows.columns))
    q = rows[mapped].astype(object).copy()
    for c in mapped:
        text = as_text(q[c])
        q[c], _ = sanitize.redact_text(text.where(text != "", None), salt)
    return q


def pseudonymise(values: pd.Series, salt: str, kind: str) -> pd.Series:
    """Salted SHA-256 pseudonym (16 hex chars) of e-mail / name / phone; missing stays missing.

    Values are normalised first (e-mail lower-cased, phone digits only, names
    case-folded with single spaces) so the same person gets the same pseudonym.
    """
    t = as_text(values)
    if kind == "email_hash":
        t = t.str.lower()
    elif kind == "phone_hash":
        t = t.str.replace(r"\D", "", regex=True)
    else:
        t = t.str.casefold().str.replace(r"\s+", " ", regex=True)
    out = [sanitize.pseudonym(v, salt) if v else None for v in t]
    return pd.Series(out, index=values.index, dtype="str")
