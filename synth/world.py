"""The true synthetic Rotterdam: buurten, streets, dwellings, people, owners, and the abuses planted in it.

The world is drawn once per (scale, seed) with one `random.Random`; the writers then render it into each
registry's format, each with its own view and its own noise, and the ground truth records what is really so.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from connectors.identifiers import gs1_check_digit
from synth import names

TODAY = date(2026, 11, 1)
SCALES = {
    # scale: (focus buurten used, dwellings per focus buurt, other buurten, dwellings per other buurt)
    "tiny": (["BU05991082"], 300, 0, 0),
    "focus": (list(names.BUURTEN), 5_800, 0, 0),
    "city": (list(names.BUURTEN), 5_800, 74, 4_000),
}
PERMIT_AREAS = {"BU05991571", "BU05991572", "BU05991082"}  # Tarwewijk, Carnisse, Hillesluis
ABUSES = (
    "overbewoning",
    "niet_ingeschreven",
    "leegstand",
    "huur_te_hoog",
    "recidiverende_eigenaar",
    "arbeidsmigranten_contract",
    "verhuur_zonder_vergunning",
    "verloop",
)


@dataclass(slots=True)
class Buurt:
    code: str
    naam: str
    wijkcode: str
    wijknaam: str
    focus_wijk: str | None
    postcode4: str
    x0: float
    y0: float
    size: float = 1400.0


@dataclass(slots=True)
class Street:
    opr_id: str
    naam: str
    next_number: int = 1


@dataclass(slots=True)
class Dwelling:
    vbo_id: str
    num_id: str
    pand_id: str
    street: Street
    huisnummer: int
    huisletter: str | None
    toevoeging: str | None
    postcode: str
    buurt: Buurt
    x: float
    y: float
    oppervlakte: int
    bouwjaar: int
    woning: bool = True
    gebruiksdoel: str = "woonfunctie"
    owner: Owner | None = None
    corporation: bool = False
    vacant: bool = False
    hidden_occupants: int = 0
    registered: list[Person] = field(default_factory=list)
    abuses: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # abuse -> what was planted, for the ground truth
    permit: bool = False
    tenant_elsewhere: bool = False  # a corporation tenant registered at another address
    ean_elk: str | None = None
    ean_gas: str | None = None
    brk_id: str | None = None
    # borderline cases (synth/borderline.py): indicator -> (side, what was planted); side "boven" should fire,
    # "onder" should not. The grid operator's annual electricity use is then kwh_annual where set, and shows
    # standby use only in the last standby_last_months months (normal use for two people before).
    borderline: dict[str, tuple[str, str]] = field(default_factory=dict)
    kwh_annual: float | None = None
    standby_last_months: int = 0


@dataclass(slots=True)
class Person:
    pid: str
    bsn: str
    anr: str
    given: str
    prefix: str
    surname: str
    birth: tuple[int, int | None, int | None]
    gender: str
    nationality: str
    group: str
    home: Dwelling | None = None
    since: date | None = None
    history: list[tuple[Dwelling, date, date]] = field(default_factory=list)
    twin_of: str | None = None


@dataclass(slots=True)
class Owner:
    oid: str
    kind: str  # person | company | corporation
    person: Person | None = None
    company: str | None = None
    kvk: str | None = None
    rsin: str | None = None
    trade_name: str | None = None  # a person trading as ("h.o.d.n.")
    dwellings: list[Dwelling] = field(default_factory=list)
    brk_id: str = ""


@dataclass
class World:
    scale: str
    seed: int
    buurten: list[Buurt]
    streets: dict[str, Street]
    dwellings: list[Dwelling]
    persons: list[Person]
    owners: list[Owner]
    outsiders: list[Person]  # owners and tenants who live outside the delivered area
    retired: list[Dwelling] = field(default_factory=list)  # ingetrokken in BAG (merged or split up years ago)
    plaatsen: list[Plaats] = field(default_factory=list)  # ligplaatsen (houseboats) and standplaatsen (caravans)


@dataclass(slots=True)
class Plaats:
    """A ligplaats or standplaats: an address without a verblijfsobject, which BAG delivers in LIG and STA files."""

    kind: str  # "02" ligplaats | "03" standplaats
    plaats_id: str
    num_id: str
    street: Street
    huisnummer: int
    postcode: str
    buurt: Buurt
    x: float
    y: float


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of each number, most significant first: shape (width, len(numbers))."""
    out = np.empty((width, numbers.size), dtype=np.int64)
    rest = numbers.copy()
    for i in range(width - 1, -1, -1):
        out[i] = rest % 10
        rest //= 10
    return out


_ELF_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)[:, None]


def _elfproef_numbers(candidates: np.ndarray) -> np.ndarray:
    """The 9-digit candidates that pass the 11-proef (BSN, RSIN), checked for a whole block at once."""
    return candidates[(_digits(candidates, 9) * _ELF_WEIGHTS).sum(axis=0) % 11 == 0]


def _a_nummers(heads: np.ndarray) -> np.ndarray:
    """Complete 9-digit heads to A-nummers: the last digit makes the weighted sum (weight 2**i, 6 mod 11 for the
    last) divisible by 11 (2 is the inverse of 6 mod 11); keep those that meet the other GBA rules too (first digit
    not zero, no equal neighbours, digit sum 0 or 5 mod 11)."""
    d = _digits(heads, 9)
    weighted = (d * (2 ** np.arange(9, dtype=np.int64))[:, None]).sum(axis=0)
    last = (-2 * weighted) % 11
    digit_sum = (d.sum(axis=0) + last) % 11
    ok = (
        (last < 10)
        & (d[0] != 0)
        & np.all(d[1:] != d[:-1], axis=0)
        & (last != d[8])
        & ((digit_sum == 0) | (digit_sum == 5))
    )
    return heads[ok] * 10 + last[ok]


class _NumberStream:
    """Valid numbers in increasing order from `start`, found a block of candidates at a time with numpy: the city
    needs 700 thousand BSNs and A-nummers, and testing them one by one in Python would take a minute."""

    def __init__(self, start: int, select: Callable[[np.ndarray], np.ndarray], width: int, block: int = 100_000):
        self.next_start, self.select, self.width, self.block = start, select, width, block
        self.buffer: list[int] = []
        self.pos = 0

    def __next__(self) -> str:
        while self.pos >= len(self.buffer):
            candidates = np.arange(self.next_start, self.next_start + self.block, dtype=np.int64)
            self.next_start += self.block
            self.buffer, self.pos = self.select(candidates).tolist(), 0
        self.pos += 1
        return f"{self.buffer[self.pos - 1]:0{self.width}d}"


class Ids:
    """Deterministic identifier factories: BAG ids by type, BSNs and RSINs passing the 11-proef, A-nummers, EANs."""

    def __init__(self, r: random.Random):
        self.r = r
        self.serial = {"01": 0, "10": 0, "20": 0, "30": 0, "02": 0, "03": 0}
        # the 9-range, as test numbers use; the BSN and RSIN ranges do not meet
        self.bsns = _NumberStream(900_000_000 + r.randrange(0, 5_000_000), _elfproef_numbers, 9)
        # heads from 135..., clear of the 100... block where every number has two equal neighbours
        self.a_nummers = _NumberStream(135_000_000 + r.randrange(0, 1_000_000), _a_nummers, 10)
        self.ean_next = r.randrange(10**9, 10**10)
        self.kvk_next = 90_000_000 + r.randrange(0, 1_000_000)
        self.rsins = _NumberStream(800_000_000 + r.randrange(0, 5_000_000), _elfproef_numbers, 9, block=1_000)
        self.brk_next = 59_020_170_000_000 + r.randrange(0, 10_000)

    def bag(self, kind: str) -> str:
        self.serial[kind] += 1
        return f"0599{kind}{self.serial[kind] + 100000:010d}"

    def bsn(self) -> str:
        return next(self.bsns)

    def rsin(self) -> str:
        return next(self.rsins)

    def a_nummer(self) -> str:
        return next(self.a_nummers)

    def ean(self) -> str:
        self.ean_next += 1
        body = f"871687{self.ean_next:011d}"[:17]
        return body + gs1_check_digit(body)

    def kvk(self) -> str:
        self.kvk_next += 1
        return f"{self.kvk_next:08d}"

    def brk(self) -> str:
        self.brk_next += 1
        return str(self.brk_next)


def _buurten(scale: str) -> list[Buurt]:
    focus, _, n_other, _ = SCALES[scale]
    out = []
    for i, code in enumerate(focus):
        naam, wijkcode, wijknaam, focus_wijk, pc4 = names.BUURTEN[code]
        out.append(
            Buurt(code, naam, wijkcode, wijknaam, focus_wijk, pc4, 91_000 + (i % 3) * 1500, 432_000 + (i // 3) * 1500)
        )
    for j in range(n_other):
        # Synthetic codes for the rest of the city, in wijken 80-92 (a range CBS does not use for Rotterdam):
        # BU0599 + wijk (2 digits) + buurt (2 digits), so every buurt nests under its WK0599 + wijk.
        code = f"BU0599{80 + j // 6:02d}{j % 6:02d}"
        out.append(
            Buurt(
                code,
                f"Buurt {j + 1}",
                f"WK0599{80 + j // 6:02d}",
                f"Wijk {j // 6 + 1}",
                None,
                str(3010 + (j % 60)),
                86_000 + (j % 10) * 1500,
                436_000 + (j // 10) * 1500,
            )
        )
    return out


def _birth(r: random.Random, age_min: int, age_max: int) -> tuple[int, int | None, int | None]:
    y = TODAY.year - r.randint(age_min, age_max)
    m, d = r.randint(1, 12), r.randint(1, 28)
    roll = r.random()
    if roll < 0.004:
        return (y, None, None)  # only the year is known
    if roll < 0.012:
        return (y, m, None)
    return (y, m, d)


def _group(r: random.Random) -> str:
    x = r.random()
    for name, (weight, _, _) in names.GROUPS.items():
        x -= weight
        if x <= 0:
            return name
    return "dutch"


def _units(r: random.Random) -> list[tuple[str | None, str | None]]:
    """The (huisletter, huisnummertoevoeging) of the units in one building: 12, 12A/12B, 12-hs/12-1, 12-01..12-08,
    12A-01 or 12b2, and the odd 12 bis; letters are sometimes lower case, as BAG allows."""
    layout = r.random()
    if layout < 0.24:
        return [(None, None)]
    if layout < 0.46:
        letters = "abcd" if r.random() < 0.1 else "ABCD"
        return [(None, None)] + [(c, None) for c in letters[: r.randint(1, 3)]]
    if layout < 0.68:
        return [(None, t) for t in ("hs", "1", "2", "3")][: r.randint(2, 4)]
    if layout < 0.94:
        return [(None, f"{k:02d}") for k in range(1, r.randint(3, 9))]
    if layout < 0.98:
        letter = r.choice(["A", "B", "b"])
        flats = [f"{k:02d}" for k in range(1, 4)] if letter.isupper() else [str(k) for k in range(1, 4)]
        return [(letter, t) for t in flats[: r.randint(2, 3)]]
    return [(None, None), (None, "bis")]


def _area(r: random.Random, gebruiksdoel: str) -> int:
    if gebruiksdoel != "woonfunctie":
        return r.randint(30, 240)
    roll = r.random()
    if roll < 0.3:
        return r.randint(20, 45)
    if roll < 0.92:
        return r.randint(45, 100)
    return r.randint(100, 150)


class WorldBuilder:
    def __init__(self, scale: str, seed: int):
        self.scale = scale
        self.r = random.Random(f"rgw-synth/{scale}/{seed}")
        self.ids = Ids(self.r)
        self.persons: list[Person] = []
        self.outsiders: list[Person] = []
        self.owners: list[Owner] = []
        self.streets: dict[str, Street] = {}
        self.retired: list[Dwelling] = []
        self.n_non_residential: list[str] = []
        self.n_twins = 0
        self.plaatsen: list[Plaats] = []

    def person(
        self,
        group: str | None = None,
        age: tuple[int, int] = (18, 85),
        surname: tuple[str, str] | None = None,
        outsider: bool = False,
    ) -> Person:
        r = self.r
        group = group or _group(r)
        _, surnames, givens = names.GROUPS[group]
        prefix, sur = surname or r.choice(surnames)
        p = Person(
            pid=f"P{len(self.persons) + len(self.outsiders) + 1:07d}",
            bsn=self.ids.bsn(),
            anr=self.ids.a_nummer(),
            given=r.choice(givens) + (f" {r.choice(givens)}" if r.random() < 0.3 else ""),
            prefix=prefix,
            surname=sur,
            birth=_birth(r, *age),
            gender=r.choice("MV"),
            nationality=r.choice(names.NATIONALITY_CODES),
            group=group,
        )
        (self.outsiders if outsider else self.persons).append(p)
        return p

    def street(self, naam: str) -> Street:
        if naam not in self.streets:
            self.streets[naam] = Street(self.ids.bag("30"), naam)
        return self.streets[naam]

    def dwellings(self, buurten: list[Buurt]) -> list[Dwelling]:
        """Streets of buildings (panden), each with one to eight units addressed the ways Rotterdam's BAG does."""
        r = self.r
        _, per_focus, _, per_other = SCALES[self.scale]
        out: list[Dwelling] = []
        for b in buurten:
            target = per_focus if b.focus_wijk else per_other
            street_names = names.STREETS.get(b.code) or sorted(
                {f"{r.choice(names.OTHER_STREET_STEMS)}{r.choice(names.OTHER_STREET_PARTS).lower()}" for _ in range(12)}
            )
            letters = iter([f"{a}{c}" for a in "ABCDEFGHJKLMNPRSTVWXZ" for c in "ABCDEFGHJKLMNPRSTVWXZ"])
            street_pc = {s: next(letters) for s in street_names}
            count = 0
            row = 0
            while count < target:
                for si, sname in enumerate(street_names):
                    if count >= target:
                        break
                    st = self.street(sname)
                    nr = st.next_number
                    st.next_number += r.choice((1, 2))
                    units = _units(r)
                    pand = self.ids.bag("10")
                    bouwjaar = r.choice([1905, 1912, 1925, 1931, 1938, 1955, 1962, 1970, 1985, 2005])
                    pc = f"{b.postcode4}{street_pc[sname]}"
                    x = b.x0 + 20 + ((nr * 7 + row * 13) % int(b.size - 40))
                    y = b.y0 + 20 + ((si * 97 + row * 31) % int(b.size - 40))
                    for k, (letter, toev) in enumerate(units):
                        doel = "woonfunctie"
                        if (
                            k == 0 and len(units) > 2 and (r.random() < 0.12 or len(self.n_non_residential) < 2)
                        ):  # a shop or office on the ground floor
                            kinds = ["kantoorfunctie", "winkelfunctie"]  # each at least once, then mostly shops
                            doel = (
                                kinds[len(self.n_non_residential)]
                                if len(self.n_non_residential) < 2
                                else ("winkelfunctie" if r.random() < 0.7 else "kantoorfunctie")
                            )
                            self.n_non_residential.append(doel)
                        out.append(
                            Dwelling(
                                self.ids.bag("01"),
                                self.ids.bag("20"),
                                pand,
                                st,
                                nr,
                                letter,
                                toev,
                                pc,
                                b,
                                round(x + k * 0.5, 3),
                                round(y, 3),
                                _area(r, doel),
                                bouwjaar,
                                woning=doel == "woonfunctie",
                                gebruiksdoel=doel,
                            )
                        )
                        count += 1
                    if r.random() < 0.01 or len(self.retired) < 2:  # a unit merged away years ago
                        self.retired.append(
                            Dwelling(
                                self.ids.bag("01"),
                                self.ids.bag("20"),
                                pand,
                                st,
                                nr,
                                None,
                                "bis" if r.random() < 0.5 else "99",
                                pc,
                                b,
                                round(x + 0.25, 3),
                                round(y, 3),
                                r.randint(20, 40),
                                bouwjaar,
                            )
                        )
                row += 1
            self._plaatsen(b, street_names)
        return out

    def _plaatsen(self, b: Buurt, street_names: list[str]) -> None:
        """Two houseboats on the buurt's first street and, in focus buurten, one caravan pitch."""
        st = self.street(street_names[0])
        for k, kind in enumerate(["02", "02", "03"] if b.focus_wijk else ["02"]):
            self.plaatsen.append(
                Plaats(
                    kind,
                    self.ids.bag(kind),
                    self.ids.bag("20"),
                    st,
                    900 + k,
                    f"{b.postcode4}ZZ",
                    b,
                    b.x0 + 5 + 3 * k,
                    b.y0 + 5,
                )
            )

    def owners_for(self, dwellings: list[Dwelling]) -> None:
        """Corporations own about a third, whole buildings at a time; a few private landlords own 20-80 dwellings,
        more own a handful; the rest is rented out by small landlords or lived in by its owner."""
        r = self.r
        corps = [
            Owner(f"O{i + 1:06d}", "corporation", company=name, kvk=kvk, rsin=self.ids.rsin())
            for i, (name, kvk) in enumerate(names.CORPORATIONS)
        ]
        self.owners.extend(corps)
        n = len(dwellings)
        big = [self._landlord(company=r.random() < 0.6) for _ in range(max(2, round(n * 0.12 / 50)))]
        big_weights = [r.uniform(0.5, 1.5) for _ in big]
        medium = [self._landlord(company=r.random() < 0.3) for _ in range(max(4, round(n * 0.10 / 8)))]
        by_pand: dict[str, list[Dwelling]] = {}
        for d in dwellings:
            by_pand.setdefault(d.pand_id, []).append(d)
        for units in by_pand.values():
            roll = r.random()
            if roll < 0.35:
                owner = r.choice(corps)
                for d in units:
                    d.corporation = True
            elif roll < 0.47:
                owner = r.choices(big, weights=big_weights)[0]
            elif roll < 0.57:
                owner = r.choice(medium)
            else:
                owner = None  # single owners per dwelling below
            for d in units:
                if owner is None:
                    o = self._landlord(company=r.random() < 0.1) if r.random() < 0.5 else None
                    d.owner = o  # None: owner-occupied, settled when residents exist
                else:
                    d.owner = owner
                if d.owner:
                    d.owner.dwellings.append(d)

    def _landlord(self, company: bool) -> Owner:
        r = self.r
        oid = f"O{len(self.owners) + 1:06d}"
        if company:
            stem = r.choice(names.COMPANY_STEMS)
            o = Owner(
                oid,
                "company",
                company=f"{stem} {r.choice(names.COMPANY_KINDS)}",
                kvk=self.ids.kvk(),
                rsin=self.ids.rsin(),
            )
        else:
            p = self.person(outsider=True, age=(30, 80))
            o = Owner(oid, "person", person=p)
            if r.random() < 0.3:
                o.trade_name = f"{p.surname} {r.choice(['Verhuur', 'Vastgoed', 'Woningen'])}"
        self.owners.append(o)
        return o

    def residents(self, dwellings: list[Dwelling]) -> None:
        r = self.r
        homes = [d for d in dwellings if d.woning]
        for d in homes:
            if r.random() < 0.03:
                d.vacant = True
                continue
            size = r.choices([1, 2, 3, 4, 5, 6], weights=[30, 30, 17, 13, 8, 2])[0]
            size = max(1, min(size, d.oppervlakte // 15))  # households fit their homes; overcrowding is planted
            lead = self.person()
            household = [lead]
            for _ in range(size - 1):
                if r.random() < 0.7:
                    household.append(self.person(group=lead.group, surname=(lead.prefix, lead.surname), age=(0, 60)))
                else:
                    household.append(self.person(group=lead.group))
            sibling = next((m for m in reversed(household[1:]) if m.surname == lead.surname), None)
            room = size >= 3 and d.oppervlakte >= 15 * (size + 1)
            if sibling and room and (r.random() < 0.05 or self.n_twins < 2):
                # twins: same surname, same birth date, same address; only the first names (and BSNs) differ
                twin = self.person(group=lead.group, surname=(lead.prefix, lead.surname))
                twin.birth = sibling.birth
                twin.twin_of = sibling.pid
                while twin.given == sibling.given:
                    twin.given = r.choice(names.GROUPS[twin.group][2])
                household.append(twin)
                self.n_twins += 1
            since = TODAY - timedelta(days=r.randint(30, 25 * 365))
            for p in household:
                self._move_in(p, d, since)
            if d.owner is None and not d.corporation:
                o = Owner(f"O{len(self.owners) + 1:06d}", "person", person=lead, dwellings=[d])
                self.owners.append(o)
                d.owner = o
        for d in dwellings:
            if d.owner is None and not d.corporation:
                d.owner = self._landlord(company=False)
                d.owner.dwellings.append(d)
        # moves: a share of residents lived elsewhere in the area before
        for p in self.persons:
            if p.home is not None and r.random() < 0.35:
                start = p.since
                for _ in range(r.randint(1, 2)):
                    earlier = r.choice(homes)
                    begin = start - timedelta(days=r.randint(200, 3000))
                    p.history.append((earlier, begin, start))
                    start = begin

    def _move_in(self, p: Person, d: Dwelling, since: date) -> None:
        p.home, p.since = d, since
        d.registered.append(p)

    def plant(self, dwellings: list[Dwelling]) -> None:
        """Plant each abuse the programme pursues, at least twice, more at larger scales."""
        r = self.r
        focus = [d for d in dwellings if d.woning and d.buurt.focus_wijk]
        per = max(2, len(focus) // 400)
        private = [d for d in focus if not d.corporation and d.owner and d.owner.kind != "corporation" and not d.vacant]
        r.shuffle(private)
        pool = iter(private)

        def take(pred=lambda d: True) -> Dwelling:
            for d in pool:
                if not d.abuses and pred(d):
                    return d
            raise RuntimeError("the synthetic area is too small to plant every abuse")

        for _ in range(per):
            d = take(lambda d: d.oppervlakte < 60)
            d.oppervlakte = r.randint(28, 45)
            for p in list(d.registered):
                self._leave(p)
            lead = self.person(group=r.choice(names.EU_MIGRANT_GROUPS + ("dutch", "moroccan")))
            self._move_in(lead, d, TODAY - timedelta(days=r.randint(60, 900)))
            for _ in range(r.randint(6, 9)):
                self._move_in(self.person(group=lead.group), d, TODAY - timedelta(days=r.randint(60, 900)))
            d.abuses.append("overbewoning")
            d.details["overbewoning"] = f"{len(d.registered)} ingeschreven op {d.oppervlakte} m2"
        for _ in range(per):
            d = take(lambda d: len(d.registered) <= 2)  # one or two registered, a crowd actually living there
            d.hidden_occupants = r.randint(4, 7)
            d.abuses.append("niet_ingeschreven")
            d.details["niet_ingeschreven"] = (
                f"{len(d.registered)} ingeschreven, {len(d.registered) + d.hidden_occupants} wonen er (energieverbruik)"
            )
        for _ in range(per):
            d = take()
            for p in list(d.registered):
                self._leave(p, moved_out=TODAY - timedelta(days=r.randint(240, 600)))
            d.vacant = True
            d.abuses.append("leegstand")
            d.details["leegstand"] = "niemand ingeschreven sinds 8-20 maanden, verbruik bijna nul"
        corp = [d for d in focus if d.corporation and d.registered and not d.abuses]
        for d in r.sample(corp, min(per, len(corp))):
            d.tenant_elsewhere = True
            d.abuses.append("niet_ingeschreven")
            d.details["niet_ingeschreven"] = "huurder van de corporatie staat op een ander adres ingeschreven"
        for _ in range(per):
            d = take()
            d.abuses.append("huur_te_hoog")
            d.details["huur_te_hoog"] = "twee meldingen ongewenst verhuurgedrag (borg, servicekosten of geen contract)"
        for _ in range(per):
            d = take()
            for p in list(d.registered):
                self._leave(p)
            for k in range(r.randint(6, 9)):
                p = self.person(group=r.choice(names.EU_MIGRANT_GROUPS), age=(20, 45))
                self._move_in(p, d, TODAY - timedelta(days=r.randint(20, 340)))
                if k % 2 == 0:  # they came and went within the year
                    p.history.append((d, TODAY - timedelta(days=r.randint(350, 364)), p.since))
            d.abuses.append("arbeidsmigranten_contract")
            d.details["arbeidsmigranten_contract"] = (
                f"{len(d.registered)} EU-arbeidsmigranten ingeschreven, meldingen over contract aan werk gekoppeld"
            )
        for _ in range(per):
            d = take()
            leaving = list(d.registered)[:3]
            for p in leaving:
                self._leave(p, moved_out=TODAY - timedelta(days=r.randint(20, 300)))
            for _ in range(2):
                p = self.person()
                self._move_in(p, d, TODAY - timedelta(days=r.randint(10, 300)))
            for _ in range(2):  # came and went within the year
                p = self.person()
                end = TODAY - timedelta(days=r.randint(20, 150))
                p.history.append((d, end - timedelta(days=r.randint(40, 180)), end))
                p.home, p.since = None, end
            d.abuses.append("verloop")
            d.details["verloop"] = f"4 vestigingen en {len(leaving) + 2} vertrekken in 12 maanden"
        # recurring owners: a big private landlord with signals at several of his dwellings
        landlords = sorted(
            {id(d.owner): d.owner for d in private if len(d.owner.dwellings) >= 6}.values(), key=lambda o: o.oid
        )
        for o in landlords[: max(2, per // 2)]:
            for d in [x for x in o.dwellings if x.woning and x.buurt.focus_wijk][:4]:
                d.abuses.append("recidiverende_eigenaar")
                d.details["recidiverende_eigenaar"] = (
                    f"eigenaar met {len(o.dwellings)} woningen; meldingen, waarschuwing en stopgesprek op 4 ervan"
                )
        # permits: private rentals in permit areas hold one, except the planted ones
        for d in dwellings:
            if (
                d.buurt.code in PERMIT_AREAS
                and d.woning
                and not d.corporation
                and d.owner
                and (d.owner.person is None or d.owner.person.home is not d)
            ):
                d.permit = True
        for _ in range(per):
            d = take(lambda d: d.buurt.code in PERMIT_AREAS and d.permit)
            d.permit = False
            d.abuses.append("verhuur_zonder_vergunning")
            d.details["verhuur_zonder_vergunning"] = (
                f"particulier verhuurd in {d.buurt.naam} (vergunninggebied), geen vergunning"
            )

    def _leave(self, p: Person, moved_out: date | None = None) -> None:
        d = p.home
        if d is None:
            return
        d.registered.remove(p)
        end = moved_out or TODAY - timedelta(days=self.r.randint(30, 700))
        p.history.insert(0, (d, min(p.since, end - timedelta(days=30)), end))
        # they moved somewhere outside the area: no current address in this delivery's dwellings
        p.home, p.since = None, end


def build(scale: str, seed: int) -> World:
    from synth.borderline import plant_borderline

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    b = WorldBuilder(scale, seed)
    buurten = _buurten(scale)
    dwellings = b.dwellings(buurten)
    b.owners_for(dwellings)
    b.residents(dwellings)
    b.plant(dwellings)
    plant_borderline(b, dwellings)
    for o in b.owners:
        o.brk_id = f"7{int(o.oid[1:]):07d}"
    for d in dwellings:
        d.brk_id = b.ids.brk()
        if d.woning:
            d.ean_elk = b.ids.ean()
            d.ean_gas = b.ids.ean() if b.r.random() < 0.85 else None
    return World(scale, seed, buurten, b.streets, dwellings, b.persons, b.owners, b.outsiders, b.retired, b.plaatsen)


def buildings_only(scale: str, seed: int) -> World:
    """The world's streets, dwellings and places without people or owners: enough to write its BAG, and much
    cheaper than `build` (the BAG benchmarks and connector tests need nothing else)."""
    b = WorldBuilder(scale, seed)
    buurten = _buurten(scale)
    dwellings = b.dwellings(buurten)
    return World(scale, seed, buurten, b.streets, dwellings, [], [], [], b.retired, b.plaatsen)
