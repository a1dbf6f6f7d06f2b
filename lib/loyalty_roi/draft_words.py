"""Header and code words of the six languages, for :mod:`loyalty_roi.draft`.

Normalised as :func:`loyalty_roi.draft.norm` does: lower case, accents folded,
letters and digits only.  An empty list takes the words of the table that owns
the column (``customer_id`` from customers, and so on).
"""

# fmt: off
WORDS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "customer_id": [
            "customerid", "customer", "kunde", "kundeid", "kundenr", "kundenummer", "kundennummer",
            "kundnr", "kundnummer", "kund", "klant", "klantnummer", "klantnr", "klantid",
            "medlemsnr", "medlemsnummer", "memberid", "householdkey", "household", "kortnr",
            "kaartnummer", "cardnumber"
        ],
        "first_seen": [
            "firstseen", "created", "oprettet", "erstkauf", "forstakop", "forstakoep",
            "eersteaankoop", "forstekjop", "registered", "registreret", "registriert", "firstvisit",
            "firstpurchase", "angelegt", "opprettet", "skapad"
        ],
        "is_member": [
            "ismember", "member", "medlem", "mitglied", "lid", "loyaltymember", "medlemskap",
            "lidmaatschap", "mitgliedschaft"
        ],
        "enrolled_at": [
            "enrolledat", "enrolled", "joindate", "joined", "indmeldt", "innmeldt", "eintritt",
            "lidsinds", "medlemsedan", "membersince", "mitgliedseit", "medlemsiden", "indmeldelse",
            "enrollment"
        ],
        "tier": ["tier", "niveau", "niva", "level", "stufe", "status", "klasse"],
        "store": [
            "store", "butik", "butikk", "filiale", "filiaal", "winkel", "homestore", "shop",
            "vestiging", "hjemmebutik"
        ],
        "marketing_consent": [
            "marketingconsent", "consent", "samtykke", "samtycke", "toestemming", "werbung",
            "optin", "einwilligung", "marketing", "nyhedsbrev", "newsletter"
        ],
    },
    "transactions": {
        "transaction_id": [
            "transactionid", "receipt", "receiptid", "bon", "bonnr", "bonnummer", "kvitto",
            "kvittonr", "kvittering", "beleg", "belegnummer", "belegnr", "basketid", "basket",
            "orderid", "ordernr", "transaktion", "bonid"
        ],
        "customer_id": [

        ],
        "ts": [
            "ts", "time", "tid", "tidspunkt", "zeitpunkt", "datum", "date", "timestamp", "soldat",
            "dato", "datetime", "kaufdatum", "tidpunkt", "transdate", "day", "dag", "tag", "dato",
            "dag"
        ],
        "store": [

        ],
        "channel": ["channel", "kanal", "kanaal", "vertriebskanal", "saleschannel"],
        "gross_amount": [
            "grossamount", "brutto", "gross", "amount", "bedrag", "betrag", "belob", "belopp",
            "total", "sum", "umsatz", "omsaetning", "bruttobelob"
        ],
        "discount": ["discount", "rabat", "rabatt", "korting", "nachlass", "disc"],
        "net_amount": ["netamount", "netto", "net", "salesvalue", "paid", "betalt", "nettobelob"],
        "is_return": ["isreturn", "return", "retur", "refund", "storno", "retour", "returnering"],
    },
    "campaigns": {
        "campaign_id": [
            "campaignid", "campaign", "campagneid", "campagne", "kampagne", "kampagneid", "kampanj",
            "kampanjid", "kampanje"
        ],
        "name": ["name", "naam", "navn", "namn", "bezeichnung", "titel", "title"],
        "type": ["type", "soort", "typ", "art", "kind"],
        "start": ["start", "startdatum", "startdate", "beginn", "begin", "fra", "fran", "von"],
        "end": ["end", "einddatum", "enddate", "slut", "ende", "til", "till", "bis", "slutdato"],
        "cost": [
            "cost", "kosten", "kostnad", "kostnader", "omkostning", "omkostninger", "kostnad",
            "costs"
        ],
    },
    "campaign_contacts": {
        "campaign_id": [

        ],
        "customer_id": [

        ],
        "is_holdout": [
            "isholdout", "holdout", "kontrolgruppe", "kontrollgrupp", "controlegroep",
            "kontrollgruppe", "control"
        ],
    },
    "coupon_redemptions": {
        "customer_id": [

        ],
        "date": ["date", "datum", "dato", "redeemed"],
        "coupon_id": ["couponid", "coupon", "kupon", "kupong", "gutschein", "kortingsbon"],
        "campaign_id": [

        ],
        "discount": ["discount", "rabat", "rabatt", "korting", "amount", "belopp", "betrag"],
        "transaction_id": [

        ],
    },
    "points_ledger": {
        "customer_id": [

        ],
        "date": ["date", "datum", "dato", "booked"],
        "type": ["type", "typ", "soort", "art", "buchungsart"],
        "points": ["points", "point", "punkte", "punten", "poeng", "poang", "point", "bonus"],
        "transaction_id": [

        ],
        "campaign_id": [

        ],
    },
    "tier_history": {
        "customer_id": [

        ],
        "date": ["date", "datum", "dato", "changed"],
        "from_tier": ["fromtier", "from", "fra", "fran", "von", "van", "oldtier"],
        "to_tier": ["totier", "to", "til", "till", "nach", "naar", "newtier"],
    },
    "program_costs": {
        "month": ["month", "monat", "maned", "manad", "maand", "periode", "period"],
        "category": ["category", "kategorie", "kategori", "categorie", "art", "type"],
        "amount": ["amount", "betrag", "belob", "belopp", "bedrag", "beloep", "cost", "kosten"],
    },
    "surveys": {
        "customer_id": [

        ],
        "date": ["date", "datum", "dato"],
        "nps": ["nps", "recommend", "anbefale", "rekommendera", "aanbevelen", "weiterempfehlen"],
        "csat": ["csat", "satisfaction", "tilfredshed", "nojdhet", "tevredenheid", "zufriedenheit"],
    },
}

FILE_WORDS = {
    "customers": [
        "customer", "kunde", "kunder", "kund", "klant", "klanten", "member", "medlem", "mitglied",
        "leden", "hh", "household", "crm"
    ],
    "transactions": [
        "transaction", "transaktion", "receipt", "bon", "bonner", "kvitto", "kvitton", "kvittering",
        "beleg", "belege", "sales", "salg", "verkauf", "transacties", "orders", "bestellingen",
        "umsatz", "kassen"
    ],
    "campaigns": ["campaign", "campagne", "kampagne", "kampanj", "kampanje", "aktion"],
    "campaign_contacts": ["contact", "kontakt", "contacten", "audience", "selection", "udsendelse"],
    "coupon_redemptions": ["coupon", "kupon", "kupong", "gutschein", "kortingsbon"],
    "points_ledger": ["point", "punkte", "punten", "poeng", "poang", "ledger", "bonus"],
    "tier_history": ["tier", "niveau", "level", "stufe", "historie", "history"],
    "program_costs": ["cost", "kosten", "kostnad", "omkostning", "budget", "expense"],
    "surveys": ["survey", "nps", "umfrage", "enquete", "undersogelse", "feedback"],
}

# canonical codes by their words
CODE_WORDS = {
    "channel": {
        "store": [
            "butik", "butikk", "store", "filiale", "winkel", "laden", "shop", "kasse", "pos",
            "offline"
        ],
        "online": ["online", "web", "webb", "nett", "internet", "webshop", "app", "ecom"],
    },
    "tier": {
        "bronze": ["bronze", "brons", "bronse", "brons"],
        "silver": ["silver", "solv", "silber", "zilver", "sølv"],
        "gold": ["gold", "guld", "goud", "gull"],
    },
    "type": {
        "earn": ["earn", "optjent", "intjanat", "opptjent", "verdiend", "gesammelt", "gutschrift"],
        "redeem": ["redeem", "indlost", "inlost", "innlost", "ingewisseld", "eingelost"],
        "expire": ["expire", "udlobet", "utgangen", "utlopt", "verlopen", "verfallen"],
        "adjust": ["adjust", "justering", "correctie", "korrektur"],
    },
    "campaign_type": {
        "double_points": [
            "doublepoints", "dubbelepunten", "dobbeltpoint", "dubbelpoang", "doppeltepunkte",
            "dobbeltpoeng"
        ],
        "coupon": ["coupon", "kortingsbon", "kupon", "kupong", "gutschein", "rabattkupong"],
        "email": ["email", "mail", "nyhedsbrev", "nyhetsbrev", "newsletter", "nieuwsbrief"],
        "event": ["event", "evenement", "arrangement", "veranstaltung", "evenemang"],
        "partner": ["partner"],
        "other": ["other", "overig", "andet", "ovrigt", "annet", "sonstiges"],
    },
    "category": {
        "platform": ["platform", "plattform", "platforme"],
        "marketing": ["marketing", "markedsforing", "marknadsforing"],
        "staff": ["staff", "personal", "personale", "personeel", "medarbejdere"],
        "rewards": ["rewards", "pramien", "beloningen", "beloninger", "beloningar"],
        "other": ["other", "sonstiges", "overig", "andet", "ovrigt", "annet"],
    },
}

TIME_WORDS = ["time", "tid", "zeit", "uhrzeit", "tijd", "klokkeslet", "klokkeslett", "klockslag"]
PII_WORDS = {
    "email_hash": ["email", "mail", "epost", "emailadresse"],
    "phone_hash": ["phone", "telefon", "tlf", "mobil", "telefoon", "mobile", "tel"],
    "name_hash": ["name", "navn", "naam", "namn", "fullname", "kundenname"],
}
# fmt: on

_SHARED = {
    "customer_id": ("customers", "customer_id"),
    "store": ("customers", "store"),
    "campaign_id": ("campaigns", "campaign_id"),
    "transaction_id": ("transactions", "transaction_id"),
}
for _cols in WORDS.values():
    for _c, _ws in _cols.items():
        if not _ws and _c in _SHARED:
            _cols[_c] = WORDS[_SHARED[_c][0]][_SHARED[_c][1]]
