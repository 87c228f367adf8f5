"""Write examples/contacts.csv: the demo's sample import (deterministic; run to regenerate).

2,100 data rows: 1,950 distinct contacts, 80 repeats of earlier contacts (same email or LinkedIn
profile, new position: they update), 40 contacts the demo blacklists (their company domain or
LinkedIn profile), and 30 malformed rows (wrong column count, no identifier, bytes that are not
UTF-8).
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

OUT = Path(__file__).with_name("contacts.csv")
HEADER = [
    "first_name",
    "last_name",
    "company_name",
    "position",
    "work_email",
    "linkedin_id",
    "tags",
    "cf:segment",
]
FIRST = [
    "Ann",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Max",
    "Nia",
    "Oto",
    "Pia",
]
LAST = [
    "Berg",
    "Costa",
    "Diaz",
    "Engel",
    "Fox",
    "Gray",
    "Hale",
    "Ito",
    "Jovanovic",
    "Kim",
    "Lund",
    "Moreau",
    "Novak",
    "Oyelaran",
]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
]
POSITIONS = ["CTO", "VP Sales", "Head of Growth", "RevOps Lead", "Founder", "SDR Manager", "CMO"]
BLOCKED_DOMAIN = "blocked-corp.example"
BLOCKED_LINKEDIN_PREFIX = "https://www.linkedin.com/in/blocked-person-"


def contact(rng: random.Random, i: int, person: tuple[str, str, str]) -> list[str]:
    first, last, company = person
    nick = f"{first}-{last}-{i:05d}".lower()
    email = f"{first}.{last}.{i}@{company.lower()}.example".lower()
    tags = ";".join(rng.sample(["demo", "q4", "priority", "partner", "event"], k=rng.randint(1, 2)))
    return [
        first,
        last,
        company,
        rng.choice(POSITIONS),
        email,
        f"https://www.linkedin.com/in/{nick}",
        tags,
        rng.choice(["smb", "mid", "ent"]),
    ]


def build() -> bytes:
    rng = random.Random(20261127)
    # distinct (first, last, company) per contact: GetSales also deduplicates on name + company
    people = rng.sample(
        [(f, la, c) for f in FIRST for la in LAST for c in COMPANIES], 1950 + 40 + 30
    )
    rows: list[list[str] | bytes] = []
    uniques = [contact(rng, i, people[i]) for i in range(1950)]
    rows.extend(uniques)
    for n in range(80):  # repeats: half by email, half by LinkedIn profile
        base = list(rng.choice(uniques))
        base[3] = "Promoted: " + base[3]
        if n % 2:
            base[5] = ""  # matched by work_email
        else:
            base[4] = ""  # matched by LinkedIn
        rows.append(base)
    for n in range(40):  # blacklisted: 20 by company domain, 20 by LinkedIn profile
        row = contact(rng, 5000 + n, people[1950 + n])
        if n % 2:
            row[4] = f"person{n}@{BLOCKED_DOMAIN}"
            row[2] = "Blocked Corp"
        else:
            row[5] = f"{BLOCKED_LINKEDIN_PREFIX}{n}"
        rows.append(row)
    for n in range(30):  # malformed
        row = contact(rng, 7000 + n, people[1990 + n])
        if n % 3 == 0:
            rows.append(row[:4])  # too few columns
        elif n % 3 == 1:
            rows.append([row[0], "", "", row[3], "", "", "demo", "smb"])  # no identifier
        else:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(row)
            rows.append(
                buf.getvalue().replace(row[1], row[1] + "\udcff").encode("utf-8", "surrogateescape")
            )
    order = list(range(len(rows)))
    rng.shuffle(order)
    out = io.BytesIO()
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(HEADER)
    out.write(text.getvalue().encode())
    for i in order:
        item = rows[i]
        if isinstance(item, bytes):
            out.write(item)
        else:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(item)
            out.write(text.getvalue().encode())
    return out.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"wrote {OUT}")
