"""Exports in other systems' styles than the demo's, each with the mapping that reads it.

Real exports differ from the contract in ways the mapping must absorb without
editing the files.  Each shape here writes the same synthetic program the way
another kind of system would, plus a ``mapping.yml`` that uses only the mapping
language (constants, expressions, line-item aggregation, sheets):

* ``line_items`` — a basket/line-item export (English, ``,``-separated), loyalty and
  coupon discounts in separate columns, amounts as paid, no channel, no return flag;
* ``no_enrollment_dates`` — a German export whose customers file says who is a member
  but not since when, and has no tier;
* ``no_channel_returns`` — a Dutch till export with one amount column, no channel,
  no discount and no return flag (returns are negative amounts);
* ``excel_workbook`` — one Swedish workbook with a sheet per table;
* ``members_only`` — a Norwegian program that knows only its members: non-members'
  receipts are anonymous.

``tests/test_foreign_exports.py`` ingests each through its mapping alone and checks
the KPIs against the generator's canonical tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import safety
from .export import decimal_comma
from .params import SynthData

SHAPES = (
    "line_items",
    "no_enrollment_dates",
    "no_channel_returns",
    "excel_workbook",
    "members_only",
)


def _split_lines(tx: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Receipts → line items: amounts (in cents) split at random over 1–5 lines."""
    k = np.minimum(1 + rng.poisson(1.3, len(tx)), 5)
    rows = tx.loc[tx.index.repeat(k)].reset_index(drop=True)
    line = rows.groupby("transaction_id", sort=False).cumcount().to_numpy()
    k_rep = np.repeat(k, k)
    share = rng.dirichlet(np.ones(5), len(tx))
    share_rep = np.repeat(share, k, axis=0)[np.arange(len(rows)), line]
    share_rep = share_rep / np.repeat(
        np.array([s[:n].sum() for s, n in zip(share, k, strict=True)]), k
    )
    out = {}
    for col in ("gross_amount", "discount"):
        cents = np.round(tx[col].to_numpy() * 100).astype(np.int64)
        part = np.floor(np.repeat(cents, k) * share_rep).astype(np.int64)
        last = line == k_rep - 1
        tot = pd.Series(part).groupby(rows["transaction_id"], sort=False).transform("sum")
        part[last] += (np.repeat(cents, k) - tot.to_numpy())[last]  # cents add up exactly
        out[col] = part
    retail = np.floor(out["discount"] * rng.uniform(0, 1, len(rows))).astype(np.int64)
    rows["retail_disc"] = retail / 100
    rows["coupon_disc"] = (out["discount"] - retail) / 100
    rows["sales_value"] = (out["gross_amount"] - out["discount"]) / 100
    rows["product_id"] = rng.integers(100000, 999999, len(rows))
    rows["quantity"] = np.where(rows["gross_amount"] < 0, -1, 1)
    return rows


def _line_items(data: SynthData, out: Path, rng) -> str:
    t = data.tables
    c = t["customers"]
    pd.DataFrame(
        {
            "household_key": c["customer_id"],
            "loyalty_member": c["is_member"].map({True: "Y", False: "N"}),
            "join_date": c["enrolled_at"].dt.strftime("%Y-%m-%d").fillna(""),
            "tier": c["tier"].fillna(""),
            "first_visit": c["first_seen"].dt.strftime("%Y-%m-%d"),
            "home_store": c["store"],
            "opt_in": c["marketing_consent"].map({True: "1", False: "0"}),
        }
    ).to_csv(out / "hh_loyalty.csv", index=False)
    lines = _split_lines(t["transactions"], rng)
    pd.DataFrame(
        {
            "basket_id": lines["transaction_id"],
            "household_key": lines["customer_id"].fillna(""),
            "day": lines["ts"].dt.strftime("%Y-%m-%d"),
            "trans_time": lines["ts"].dt.strftime("%H:%M:%S"),
            "store_id": lines["store"],
            "product_id": lines["product_id"],
            "quantity": lines["quantity"],
            "sales_value": lines["sales_value"].map("{:.2f}".format),
            "retail_disc": lines["retail_disc"].map("{:.2f}".format),
            "coupon_disc": lines["coupon_disc"].map("{:.2f}".format),
        }
    ).to_csv(out / "transaction_data.csv", index=False)
    return """\
# A basket export: one row per line item; amounts as paid, discounts in two columns.
tables:
  customers:
    file: hh_loyalty.csv
    columns:
      customer_id: household_key
      is_member: loyalty_member
      enrolled_at: join_date
      first_seen: first_visit
      store: home_store
      marketing_consent: opt_in
    values:
      is_member: {Y: true, N: false}
  transactions:
    file: transaction_data.csv
    aggregate: {by: basket_id}          # line items -> one row per receipt
    columns:
      transaction_id: basket_id
      customer_id: household_key
      ts: {expr: "day || ' ' || trans_time"}
      store: store_id
      channel: {value: store}           # the export has no channel: every sale in a store
      gross_amount: {expr: "sales_value + retail_disc + coupon_disc"}
      discount: {expr: "retail_disc + coupon_disc"}
      net_amount: sales_value
      # no return flag: receipts with a negative total are returns
"""


def _no_enrollment_dates(data: SynthData, out: Path, rng) -> str:
    t = data.tables
    c = t["customers"]
    pd.DataFrame(
        {
            "Kundennummer": c["customer_id"],
            "Erstkauf": c["first_seen"].dt.strftime("%d.%m.%Y"),
            "Mitglied": c["is_member"].map({True: "Ja", False: "Nein"}),
            "Filiale": c["store"],
            "Werbung": c["marketing_consent"].map({True: "Ja", False: "Nein"}),
        }
    ).to_csv(out / "kunden.csv", sep=";", index=False, encoding="utf-8")
    x = t["transactions"]
    pd.DataFrame(
        {
            "Belegnummer": x["transaction_id"],
            "Kundennummer": x["customer_id"].fillna(""),
            "Zeitpunkt": x["ts"].dt.strftime("%d.%m.%Y %H:%M"),
            "Filiale": x["store"],
            "Kanal": x["channel"].map({"store": "Filiale", "online": "Online"}),
            "Betrag": decimal_comma(x["gross_amount"]),
            "Rabatt": decimal_comma(x["discount"]),
            "Storno": x["is_return"].map({True: "Ja", False: "Nein"}),
        }
    ).to_csv(out / "belege.csv", sep=";", index=False, encoding="utf-8")
    return """\
# A German export: members are flagged, but the enrollment date and tier are not exported.
tables:
  customers:
    file: kunden.csv
    columns:
      customer_id: Kundennummer
      first_seen: Erstkauf
      is_member: Mitglied
      store: Filiale
      marketing_consent: Werbung
  transactions:
    file: belege.csv
    date_format: "%d.%m.%Y %H:%M"
    columns:
      transaction_id: Belegnummer
      customer_id: Kundennummer
      ts: Zeitpunkt
      store: Filiale
      channel: Kanal
      gross_amount: Betrag
      discount: Rabatt
      is_return: Storno
    values:
      channel: {Filiale: store, Online: online}
"""


def _no_channel_returns(data: SynthData, out: Path, rng) -> str:
    t = data.tables
    c = t["customers"]
    pd.DataFrame(
        {
            "Klantnummer": c["customer_id"],
            "Eerste aankoop": c["first_seen"].dt.strftime("%d-%m-%Y"),
            "Lid": c["is_member"].map({True: "ja", False: "nee"}),
            "Lid sinds": c["enrolled_at"].dt.strftime("%d-%m-%Y").fillna(""),
            "Niveau": c["tier"].fillna(""),
            "Filiaal": c["store"],
            "Toestemming": c["marketing_consent"].map({True: "ja", False: "nee"}),
        }
    ).to_csv(out / "klanten.csv", sep=";", index=False, encoding="utf-8")
    x = t["transactions"]
    pd.DataFrame(
        {
            "Bonnummer": x["transaction_id"],
            "Klantnummer": x["customer_id"].fillna(""),
            "Datum": x["ts"].dt.strftime("%d-%m-%Y %H:%M:%S"),
            "Filiaal": x["store"],
            "Bedrag": decimal_comma(x["net_amount"]),
        }
    ).to_csv(out / "transacties.csv", sep=";", index=False, encoding="utf-8")
    return """\
# A Dutch till export: one amount as paid; no channel, no discount, no return flag.
tables:
  customers:
    file: klanten.csv
    date_format: "%d-%m-%Y"
    columns:
      customer_id: Klantnummer
      first_seen: Eerste aankoop
      is_member: Lid
      enrolled_at: Lid sinds
      tier: Niveau
      store: Filiaal
      marketing_consent: Toestemming
  transactions:
    file: transacties.csv
    date_format: "%d-%m-%Y %H:%M:%S"
    columns:
      transaction_id: Bonnummer
      customer_id: Klantnummer
      ts: Datum
      store: Filiaal
      channel: {value: store}
      gross_amount: Bedrag
"""


def _excel_workbook(data: SynthData, out: Path, rng) -> str:
    t = data.tables
    c, x, cp, pc = t["customers"], t["transactions"], t["campaigns"], t["program_costs"]
    with pd.ExcelWriter(out / "lojalitet.xlsx") as w:
        pd.DataFrame(
            {
                "Kundnr": c["customer_id"],
                "Första köp": c["first_seen"],
                "Medlem": c["is_member"].map({True: "Ja", False: "Nej"}),
                "Medlem sedan": c["enrolled_at"],
                "Nivå": c["tier"].map({"bronze": "Brons", "silver": "Silver", "gold": "Guld"}),
                "Butik": c["store"],
                "Samtycke": c["marketing_consent"].map({True: "Ja", False: "Nej"}),
            }
        ).to_excel(w, sheet_name="Kunder", index=False)
        pd.DataFrame(
            {
                "Kvitto": x["transaction_id"],
                "Kundnr": x["customer_id"],
                "Tid": x["ts"],
                "Butik": x["store"],
                "Kanal": x["channel"].map({"store": "Butik", "online": "Webb"}),
                "Brutto": x["gross_amount"],
                "Rabatt": x["discount"],
                "Netto": x["net_amount"],
                "Retur": x["is_return"].map({True: "Ja", False: "Nej"}),
            }
        ).to_excel(w, sheet_name="Kvitton", index=False)
        pd.DataFrame(
            {
                "Kampanj": cp["campaign_id"],
                "Namn": cp["name"],
                "Typ": cp["type"],
                "Start": cp["start"],
                "Slut": cp["end"],
                "Kostnad": cp["cost"],
            }
        ).to_excel(w, sheet_name="Kampanjer", index=False)
        pd.DataFrame(
            {"Månad": pc["month"], "Kategori": pc["category"], "Belopp": pc["amount"]}
        ).to_excel(w, sheet_name="Kostnader", index=False)
    return """\
# One Swedish workbook, a sheet per table.
tables:
  customers:
    file: lojalitet.xlsx
    sheet: Kunder
    columns:
      customer_id: Kundnr
      first_seen: Första köp
      is_member: Medlem
      enrolled_at: Medlem sedan
      tier: Nivå
      store: Butik
      marketing_consent: Samtycke
    values:
      tier: {Brons: bronze, Silver: silver, Guld: gold}
  transactions:
    file: lojalitet.xlsx
    sheet: Kvitton
    columns:
      transaction_id: Kvitto
      customer_id: Kundnr
      ts: Tid
      store: Butik
      channel: Kanal
      gross_amount: Brutto
      discount: Rabatt
      net_amount: Netto
      is_return: Retur
    values:
      channel: {Butik: store, Webb: online}
  campaigns:
    file: lojalitet.xlsx
    sheet: Kampanjer
    columns: {campaign_id: Kampanj, name: Namn, type: Typ, start: Start, end: Slut, cost: Kostnad}
  program_costs:
    file: lojalitet.xlsx
    sheet: Kostnader
    columns: {month: Månad, category: Kategori, amount: Belopp}
"""


def _members_only(data: SynthData, out: Path, rng) -> str:
    t = data.tables
    c = t["customers"]
    m = c[c["is_member"]]
    pd.DataFrame(
        {
            "Medlemsnr": m["customer_id"],
            "Innmeldt": m["enrolled_at"].dt.strftime("%d.%m.%Y"),
            "Første kjøp": m["first_seen"].dt.strftime("%d.%m.%Y"),
            "Nivå": m["tier"].map({"bronze": "Bronse", "silver": "Sølv", "gold": "Gull"}),
            "Butikk": m["store"],
            "Samtykke": m["marketing_consent"].map({True: "Ja", False: "Nei"}),
        }
    ).to_csv(out / "medlemmer.csv", sep=";", index=False, encoding="utf-8")
    x = t["transactions"]
    member_ids = set(m["customer_id"])
    pd.DataFrame(
        {
            "Kvittering": x["transaction_id"],
            "Medlemsnr": x["customer_id"].where(x["customer_id"].isin(member_ids), ""),
            "Tid": x["ts"].dt.strftime("%d.%m.%Y %H:%M:%S"),
            "Butikk": x["store"],
            "Kanal": x["channel"].map({"store": "Butikk", "online": "Nett"}),
            "Brutto": decimal_comma(x["gross_amount"]),
            "Rabatt": decimal_comma(x["discount"]),
            "Retur": x["is_return"].map({True: "Ja", False: "Nei"}),
        }
    ).to_csv(out / "kvitteringer.csv", sep=";", index=False, encoding="utf-8")
    return """\
# A Norwegian members-only export: the program knows only its members; other receipts are anonymous.
tables:
  customers:
    file: medlemmer.csv
    date_format: "%d.%m.%Y"
    columns:
      customer_id: Medlemsnr
      is_member: {value: true}          # the file lists members only
      enrolled_at: Innmeldt
      first_seen: Første kjøp
      tier: Nivå
      store: Butikk
      marketing_consent: Samtykke
    values:
      tier: {Bronse: bronze, Sølv: silver, Gull: gold}
  transactions:
    file: kvitteringer.csv
    date_format: "%d.%m.%Y %H:%M:%S"
    columns:
      transaction_id: Kvittering
      customer_id: Medlemsnr
      ts: Tid
      store: Butikk
      channel: Kanal
      gross_amount: Brutto
      discount: Rabatt
      is_return: Retur
    values:
      channel: {Butikk: store, Nett: online}
"""


_WRITERS = {
    "line_items": _line_items,
    "no_enrollment_dates": _no_enrollment_dates,
    "no_channel_returns": _no_channel_returns,
    "excel_workbook": _excel_workbook,
    "members_only": _members_only,
}


def write_shape(data: SynthData, out_dir: str | Path, shape: str, seed: int = 0) -> Path:
    """Write ``data`` as export ``shape`` (see :data:`SHAPES`) with its ``mapping.yml``."""
    if shape not in _WRITERS:
        raise ValueError(f"shape '{shape}' is not one of {', '.join(SHAPES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mapping = _WRITERS[shape](data, out, np.random.default_rng(seed))
    (out / "mapping.yml").write_text(mapping, encoding="utf-8")
    (out / safety.DEMO_MARKER).write_text(
        f"Synthetic '{shape}' export written by loyalty_roi.synth.foreign.\n", encoding="utf-8"
    )
    return out
