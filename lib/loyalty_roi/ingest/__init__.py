"""Ingest source exports into the canonical tables.

Reads CSV (delimiter, decimal comma, encoding and BOM detected), Parquet and
Excel; a YAML mapping turns source column names and value codes into the
canonical schema (:mod:`loyalty_roi.schema`); every row is validated (types,
keys, ranges, dates, orphans, duplicates).  Bad rows go to a quarantine file
with their reason — nothing is dropped silently — and a table whose share of
bad rows exceeds ``max_reject_share`` stops the run with a :class:`DataError`
naming file, column, lines, rule and fix.  Direct identifiers (e-mail, name,
phone) are replaced by salted hashes; raw values never reach
``data/processed/``.  Outputs are written atomically (temp file + rename) and
raw files are only ever opened for reading.

The package is split at its seams: ``parse`` (one export → one table),
``derive`` (constants, expressions, line items), ``rules`` (row rules per
table), ``crossref`` (rules across tables), ``privacy`` (personal data),
``blocks`` (large exports read in blocks), ``quality`` (the quality report)
and ``run`` (the whole ingest).
The processed folder itself is :mod:`loyalty_roi.processed`.
"""

from __future__ import annotations

from ..sources import load_mapping, sha256_file
from .parse import TableResult, parse_table
from .privacy import pseudonymise
from .quality import (
    assumptions_markdown,
    coverage_sentence,
    issues_frame,
    monthly_coverage,
    not_available,
    quality_table,
)
from .run import IngestResult, ingest, ingest_from_config

__all__ = [
    "IngestResult",
    "TableResult",
    "assumptions_markdown",
    "coverage_sentence",
    "ingest",
    "ingest_from_config",
    "issues_frame",
    "load_mapping",
    "monthly_coverage",
    "not_available",
    "parse_table",
    "pseudonymise",
    "quality_table",
    "sha256_file",
]
