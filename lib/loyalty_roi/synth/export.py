"""Write a synthetic program as source exports, the way real systems export them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import safety
from .params import SynthData

# ---------------------------------------------------------------------------
_YN_DA = {True: "J", False: "N"}
_TIER_DA = {"bronze": "Bronze", "silver": "Sølv", "gold": "Guld"}
_CTYPE_NL = {
    "double_points": "dubbele punten",
    "coupon": "kortingsbon",
    "email": "e-mail",
    "event": "evenement",
    "partner": "partner",
    "other": "overig",
}
_COST_DE = {
    "platform": "Plattform",
    "marketing": "Marketing",
    "staff": "Personal",
    "rewards": "Prämien",
    "other": "Sonstiges",
}


def decimal_comma(x: pd.Series) -> pd.Series:
    """Amounts as a European export writes them: ``1234,50``; missing → empty."""
    return x.map(lambda v: f"{v:.2f}".replace(".", ",") if pd.notna(v) else "")


def _ddmmyyyy(x: pd.Series, with_time: bool = False) -> pd.Series:
    fmt = "%d.%m.%Y %H:%M:%S" if with_time else "%d.%m.%Y"
    return x.dt.strftime(fmt).fillna("")


MAPPING_YAML = """\
# Mapping of the demo exports onto the canonical tables (see README: "Bring your own data").
# For each canonical table: the source file, how to read it, and which source column
# holds each canonical column. `values` translate source codes; `pii` lists the source
# columns with direct identifiers, which are replaced by salted hashes on ingest.
tables:
  customers:
    file: customers.csv          # ';'-separated, decimal comma, latin-1 (detected)
    date_format: "%d.%m.%Y"
    columns:
      customer_id: KundeID
      first_seen: Oprettet
      is_member: Medlem
      enrolled_at: Indmeldt
      tier: Niveau
      store: Butik
      marketing_consent: Samtykke
    pii:
      name_hash: Navn
      email_hash: Email
      phone_hash: Telefon
    values:
      is_member: {J: true, N: false}
      marketing_consent: {Ja: true, Nej: false}
      tier: {Bronze: bronze, Sølv: silver, Guld: gold}
  transactions:
    file: transactions.csv
    date_format: "%d.%m.%Y %H:%M:%S"
    columns:
      transaction_id: Bonnr
      customer_id: KundeID
      ts: Tidspunkt
      store: Butik
      channel: Kanal
      gross_amount: Brutto
      discount: Rabat
      net_amount: Netto
      is_return: Retur
    values:
      channel: {Butik: store, Online: online}
      is_return: {J: true, N: false}
  points_ledger:
    file: points_ledger.parquet
  tier_history:
    file: tier_history.parquet
  campaigns:
    file: campaigns.xlsx
    columns:
      campaign_id: Campagne ID
      name: Naam
      type: Soort
      start: Startdatum
      end: Einddatum
      cost: Kosten
    values:
      type: {dubbele punten: double_points, kortingsbon: coupon, e-mail: email, evenement: event, partner: partner, overig: other}
  campaign_contacts:
    file: campaign_contacts.parquet
  coupon_redemptions:
    file: kuponger.csv            # Swedish export: ';', decimal comma, day-first dates
    date_format: "%d/%m/%Y"
    columns:
      customer_id: Kundnummer
      date: Datum
      coupon_id: Kupong
      campaign_id: Kampanj
      discount: Rabatt
      transaction_id: Kvitto
  program_costs:
    file: program_costs.csv       # UTF-8 with BOM, ';', decimal comma
    columns:
      month: Monat
      category: Kategorie
      amount: Betrag
    values:
      category: {Plattform: platform, Marketing: marketing, Personal: staff, Prämien: rewards, Sonstiges: other}
  surveys:
    file: surveys.csv             # plain comma-separated UTF-8
"""


def write_raw(data: SynthData, out_dir: str | Path, fmt: str = "export") -> Path:
    """Write the synthetic program as source exports plus ``mapping.yml`` and ``truth.json``.

    Parameters
    ----------
    fmt
        ``"export"``: mixed real-world formats (latin-1 ``;`` CSV with decimal commas,
        Parquet, Excel).  ``"parquet"``: canonical Parquet files only (fast, for
        benchmark-scale data); the mapping is then the identity.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = data.tables
    if fmt == "parquet":
        for name, df in t.items():
            df2 = df.merge(data.pii, on="customer_id", how="left") if name == "customers" else df
            if name == "customers":
                df2 = df2.drop(columns=["email_hash", "name_hash", "phone_hash"])
            df2.to_parquet(out / f"{name}.parquet", index=False)
        mapping = "tables:\n" + "".join(
            f"  {n}:\n    file: {n}.parquet\n"
            + (
                "    pii:\n      name_hash: name\n      email_hash: email\n      phone_hash: phone\n"
                if n == "customers"
                else ""
            )
            for n in t
        )
        (out / "mapping.yml").write_text(mapping, encoding="utf-8")
    else:
        c = t["customers"].merge(data.pii, on="customer_id", how="left")
        cust = pd.DataFrame(
            {
                "KundeID": c["customer_id"],
                "Navn": c["name"],
                "Email": c["email"],
                "Telefon": c["phone"],
                "Oprettet": _ddmmyyyy(c["first_seen"]),
                "Medlem": c["is_member"].map(_YN_DA),
                "Indmeldt": _ddmmyyyy(c["enrolled_at"]),
                "Niveau": c["tier"].map(_TIER_DA).fillna(""),
                "Butik": c["store"],
                "Samtykke": c["marketing_consent"].map({True: "Ja", False: "Nej"}),
            }
        )
        cust.to_csv(out / "customers.csv", sep=";", index=False, encoding="latin-1")
        x = t["transactions"]
        tx = pd.DataFrame(
            {
                "Bonnr": x["transaction_id"],
                "KundeID": x["customer_id"].fillna(""),
                "Tidspunkt": _ddmmyyyy(x["ts"], with_time=True),
                "Butik": x["store"],
                "Kanal": x["channel"].map({"store": "Butik", "online": "Online"}),
                "Brutto": decimal_comma(x["gross_amount"]),
                "Rabat": decimal_comma(x["discount"]),
                "Netto": decimal_comma(x["net_amount"]),
                "Retur": x["is_return"].map(_YN_DA),
            }
        )
        tx.to_csv(out / "transactions.csv", sep=";", index=False, encoding="latin-1")
        t["points_ledger"].to_parquet(out / "points_ledger.parquet", index=False)
        t["tier_history"].to_parquet(out / "tier_history.parquet", index=False)
        cp = t["campaigns"]
        pd.DataFrame(
            {
                "Campagne ID": cp["campaign_id"],
                "Naam": cp["name"],
                "Soort": cp["type"].map(_CTYPE_NL),
                "Startdatum": cp["start"],
                "Einddatum": cp["end"],
                "Kosten": cp["cost"],
            }
        ).to_excel(out / "campaigns.xlsx", index=False, sheet_name="Campagnes")
        t["campaign_contacts"].to_parquet(out / "campaign_contacts.parquet", index=False)
        cr = t["coupon_redemptions"]
        pd.DataFrame(
            {
                "Kundnummer": cr["customer_id"],
                "Datum": cr["date"].dt.strftime("%d/%m/%Y"),
                "Kupong": cr["coupon_id"],
                "Kampanj": cr["campaign_id"],
                "Rabatt": decimal_comma(cr["discount"]),
                "Kvitto": cr["transaction_id"],
            }
        ).to_csv(out / "kuponger.csv", sep=";", index=False, encoding="utf-8")
        pc = t["program_costs"]
        pd.DataFrame(
            {
                "Monat": pc["month"].dt.strftime("%Y-%m"),
                "Kategorie": pc["category"].map(_COST_DE),
                "Betrag": decimal_comma(pc["amount"]),
            }
        ).to_csv(out / "program_costs.csv", sep=";", index=False, encoding="utf-8-sig")
        s = t["surveys"]
        s.assign(date=s["date"].dt.strftime("%Y-%m-%d")).to_csv(
            out / "surveys.csv", index=False, encoding="utf-8"
        )
        (out / "mapping.yml").write_text(MAPPING_YAML, encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(data.truth, indent=2, default=str), encoding="utf-8")
    (out / safety.DEMO_MARKER).write_text(
        "Synthetic exports written by loyalty_roi.synth; the generator may overwrite this folder.\n",
        encoding="utf-8",
    )
    return out
