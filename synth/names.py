"""Name and street lists for the synthetic Rotterdam. All invented combinations; no real person is described.

The mix follows what the registries of Rotterdam-Zuid hold: Dutch names with tussenvoegsels, Turkish, Moroccan,
Surinamese, Cape Verdean and Antillean names, and EU labour migrants (Polish, Romanian, Bulgarian) with diacritics.
Street names are the public street names of the five focus neighbourhoods (public facts, no personal data).
"""

from __future__ import annotations

DUTCH_SURNAMES = [
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Jong"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("van den", "Berg"),
    ("van der", "Meer"),
    ("", "Jansen"),
    ("", "Janssen"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Kok"),
    ("van der", "Linden"),
    ("", "Verhoeven"),
    ("van den", "Broek"),
    ("", "Koster"),
    ("van", "Vliet"),
    ("ter", "Horst"),
    ("", "Schouten"),
    ("van", "Rijn"),
    ("den", "Hartog"),
    ("in 't", "Veld"),
    ("van 't", "Hul"),
    ("", "Willemsen"),
    ("", "Kramer"),
    ("van", "Beek"),
]
DUTCH_GIVEN = [
    "Jan",
    "Pieter",
    "Kees",
    "Willem",
    "Johannes",
    "Hendrik",
    "Anna",
    "Maria",
    "Johanna",
    "Cornelia",
    "Sanne",
    "Daan",
    "Sem",
    "Lotte",
    "Emma",
    "Noah",
    "Lucas",
    "Julia",
    "Tess",
    "Bram",
    "Ruben",
    "Femke",
    "Inge",
    "Marloes",
]
TURKISH = (
    ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan", "Doğan"],
    ["Mehmet", "Ayşe", "Fatma", "Mustafa", "Emine", "Hüseyin", "Zeynep", "Murat", "Elif", "Burak"],
)
MOROCCAN = (
    ["El Amrani", "Bouzid", "El Idrissi", "Benali", "Ouali", "Azzouzi", "El Khatib", "Boukhari", "Haddou"],
    ["Mohamed", "Fatima", "Youssef", "Khadija", "Ahmed", "Nora", "Soufiane", "Samira", "Bilal", "Imane"],
)
SURINAMESE = (
    ["Sital", "Ramdin", "Kartosen", "Pinas", "Doelwijt", "Biharie", "Soekhoe", "Vervuurt", "Lachmon"],
    ["Rishi", "Shanti", "Ravi", "Anjali", "Kevin", "Sharon", "Dewi", "Romano", "Priya"],
)
CAPE_VERDEAN = (
    ["Lopes", "Fortes", "Tavares", "Monteiro", "Semedo", "Gomes", "Delgado", "Rodrigues"],
    ["João", "Maria", "Antónia", "Manuel", "Lúcia", "Dário", "Edna", "Nélson"],
)
POLISH = (
    ["Wiśniewski", "Kowalczyk", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Dąbrowski"],
    ["Łukasz", "Paweł", "Małgorzata", "Agnieszka", "Krzysztof", "Michał", "Joanna", "Tomasz"],
)
ROMANIAN = (
    ["Popescu", "Ionescu", "Rădulescu", "Stănescu", "Dumitrescu", "Constantinescu", "Munteanu"],
    ["Ștefan", "Ioana", "Andrei", "Mădălina", "Mihai", "Elena", "Răzvan", "Cătălina"],
)
BULGARIAN = (
    ["Dimitrov", "Georgiev", "Petrov", "Ivanova", "Todorov", "Stoyanov", "Nikolova"],
    ["Georgi", "Ivan", "Desislava", "Nikolay", "Petya", "Dimitar", "Radostina"],
)
# origin group -> (weight in Rotterdam-Zuid, surname list with prefixes, given names, nationality codes to draw from)
GROUPS = {
    "dutch": (0.45, DUTCH_SURNAMES, DUTCH_GIVEN),
    "turkish": (0.12, [("", s) for s in TURKISH[0]], TURKISH[1]),
    "moroccan": (0.12, [("", s) for s in MOROCCAN[0]], MOROCCAN[1]),
    "surinamese": (0.09, [("", s) for s in SURINAMESE[0]], SURINAMESE[1]),
    "capeverdean": (0.05, [("", s) for s in CAPE_VERDEAN[0]], CAPE_VERDEAN[1]),
    "polish": (0.09, [("", s) for s in POLISH[0]], POLISH[1]),
    "romanian": (0.05, [("", s) for s in ROMANIAN[0]], ROMANIAN[1]),
    "bulgarian": (0.03, [("", s) for s in BULGARIAN[0]], BULGARIAN[1]),
}
EU_MIGRANT_GROUPS = ("polish", "romanian", "bulgarian")
# Nationality codes (BRP tabel 32) drawn independently of everything the indicators look at: it is in the registry,
# and the test data must show that the hub never uses it.
NATIONALITY_CODES = ["0001", "0001", "0001", "0001", "0052", "0264", "0339", "0094", "0052", "0062", "0057"]

STREETS = {
    "BU05991081": [
        "Bloemhofstraat",
        "Dahliastraat",
        "Lupinestraat",
        "Asterstraat",
        "Violierstraat",
        "Resedaplein",
        "Groene Hilledijk",
        "Oranjeboomstraat",
        "Ericastraat",
        "Heliotroopstraat",
    ],
    "BU05991082": [
        "Putselaan",
        "Hillevliet",
        "Beijerlandselaan",
        "Hilledijk",
        "Riederlaan",
        "Lange Hilleweg",
        "Vaanweg",
        "Slaghekstraat",
        "Burgemeester Roosstraat",
        "Mijnsherenlaan",
        "Sandelingstraat",
    ],
    "BU05991571": [
        "Wolphaertsbocht",
        "Brielselaan",
        "Mijnsherenlaan",
        "Tarwestraat",
        "Pleinweg",
        "Dorpsweg",
        "Boergoensestraat",
        "Katendrechtse Lagedijk",
        "Millinxstraat",
        "Gerststraat",
        "Pretorialaan",
    ],
    "BU05991572": [
        "Carnisselaan",
        "Zuidwijkdreef",
        "Wuyslaan",
        "Carnissesingel",
        "Hoogenboomlaan",
        "Mr. Wilhelmina Rosestraat",
        "Kapelstraat",
        "Meeuwenstraat",
        "Zwanenstraat",
        "Pleinweg",
    ],
    "BU05991573": [
        "Slinge",
        "Zuiderparkweg",
        "Tjalklaan",
        "Smeetslandseweg",
        "Zuidwijkdreef",
        "Kotterstraat",
        "Schouw",
        "Sloeplaan",
        "Botter",
    ],
    "BU05991577": [
        "Plantageweg",
        "Slinge",
        "Zuiderparkweg",
        "Pendrechtstraat",
        "Oldegaarde",
        "Krabbendijkestraat",
        "Middelharnisstraat",
        "Rhoonsestraat",
        "Baarlandhof",
        "Zierikzeestraat",
    ],
}
BUURTEN = {
    "BU05991081": ("Bloemhof", "WK059910", "Feijenoord", "Bloemhof", "3073"),
    "BU05991082": ("Hillesluis", "WK059910", "Feijenoord", "Hillesluis", "3074"),
    "BU05991571": ("Tarwewijk", "WK059915", "Charlois", "Tarwewijk", "3083"),
    "BU05991572": ("Carnisse", "WK059915", "Charlois", "Carnisse", "3084"),
    "BU05991573": ("Zuidwijk", "WK059915", "Charlois", "Pendrecht-Zuidwijk", "3085"),
    "BU05991577": ("Pendrecht", "WK059915", "Charlois", "Pendrecht-Zuidwijk", "3086"),
}
OTHER_STREET_PARTS = ["Kade", "Laan", "Straat", "Weg", "Singel", "Plein", "Dreef", "Hof", "Dijk", "Park"]
OTHER_STREET_STEMS = [
    "Noord",
    "Zuid",
    "West",
    "Oost",
    "Linden",
    "Eiken",
    "Beuken",
    "Wilgen",
    "Populier",
    "Kastanje",
    "Esdoorn",
    "Rozen",
    "Tulpen",
    "Lelie",
    "Jasmijn",
    "Vlinder",
    "Zwaluw",
    "Merel",
    "Lijster",
    "Reiger",
    "Haven",
    "Schie",
    "Maas",
    "Rotte",
    "Delft",
    "Gouda",
    "Breda",
    "Tilburg",
    "Zwolle",
    "Arnhem",
    "Kralingse",
    "Crooswijkse",
]
CORPORATIONS = [("Woonstad Rotterdam", "24267837"), ("Havensteder", "24270213"), ("Vestia Zuid", "27108436")]
COMPANY_STEMS = [
    "Zuidhaven",
    "Maasoever",
    "Hillestein",
    "Charlois",
    "Pleinweg",
    "Rivierstad",
    "Katendrecht",
    "Feijenoord",
    "Tarwe",
    "Bloemhof",
    "Waalhaven",
    "Carnisse",
]
COMPANY_KINDS = ["Vastgoed B.V.", "Beheer B.V.", "Holding B.V.", "Verhuur B.V.", "Onroerend Goed B.V.", "Invest B.V."]
