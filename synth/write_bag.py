"""Render the synthetic world as an LVBAG 2.0 extract, in the layout and namespaces of Kadaster's files."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from synth.world import World

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<sl-bag-extract:bagStand xmlns:DatatypenNEN3610="www.kadaster.nl/schemas/lvbag/imbag/datatypennen3610/v20200601" xmlns:Objecten="www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:Historie="www.kadaster.nl/schemas/lvbag/imbag/historie/v20200601" xmlns:Objecten-ref="www.kadaster.nl/schemas/lvbag/imbag/objecten-ref/v20200601" xmlns:nen5825="www.kadaster.nl/schemas/lvbag/imbag/nen5825/v20200601" xmlns:KenmerkInOnderzoek="www.kadaster.nl/schemas/lvbag/imbag/kenmerkinonderzoek/v20200601" xmlns:selecties-extract="http://www.kadaster.nl/schemas/lvbag/extract-selecties/v20200601" xmlns:sl-bag-extract="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601" xmlns:sl="http://www.kadaster.nl/schemas/standlevering-generiek/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema">
    <sl-bag-extract:bagInfo>
        <selecties-extract:Gebied-Registratief><selecties-extract:Gebied-GEM><selecties-extract:GemeenteCollectie><selecties-extract:Gemeente><selecties-extract:GemeenteIdentificatie>0599</selecties-extract:GemeenteIdentificatie></selecties-extract:Gemeente></selecties-extract:GemeenteCollectie></selecties-extract:Gebied-GEM></selecties-extract:Gebied-Registratief>
        <selecties-extract:LVC-Extract><selecties-extract:StandTechnischeDatum>2026-11-01</selecties-extract:StandTechnischeDatum></selecties-extract:LVC-Extract>
    </sl-bag-extract:bagInfo>
    <sl:standBestand>
        <sl:dataset>LVBAG</sl:dataset>
        <sl:inhoud><sl:gebied>GEMEENTE</sl:gebied><sl:leveringsId>0000000001</sl:leveringsId><sl:objectTypen><sl:objectType>{kind}</sl:objectType></sl:objectTypen></sl:inhoud>
        <sl:stand>
"""
TAIL = """        </sl:stand>
    </sl:standBestand>
</sl-bag-extract:bagStand>
"""
DOC = """<?xml version="1.0" encoding="UTF-8"?>
<xb:BAG-Extract-Levering xmlns:xb="http://www.kadaster.nl/schemas/lvbag/extract-levering/v20200601" xmlns:selecties-extract="http://www.kadaster.nl/schemas/lvbag/extract-selecties/v20200601">
    <xb:SelectieGegevens>
        <selecties-extract:LVC-Extract><selecties-extract:StandTechnischeDatum>2026-11-01</selecties-extract:StandTechnischeDatum></selecties-extract:LVC-Extract>
        <selecties-extract:Gebied-Registratief><selecties-extract:Gebied-GEM><selecties-extract:GemeenteCollectie><selecties-extract:Gemeente><selecties-extract:GemeenteIdentificatie>0599</selecties-extract:GemeenteIdentificatie><selecties-extract:GemeenteNaam>Rotterdam</selecties-extract:GemeenteNaam></selecties-extract:Gemeente></selecties-extract:GemeenteCollectie></selecties-extract:Gebied-GEM></selecties-extract:Gebied-Registratief>
    </xb:SelectieGegevens>
</xb:BAG-Extract-Levering>
"""


def _voorkomen(n: int, begin: str, end: str | None = None) -> str:
    eind = f"<Historie:eindGeldigheid>{end}</Historie:eindGeldigheid>" if end else ""
    return (
        f"<Objecten:voorkomen><Historie:Voorkomen><Historie:voorkomenidentificatie>{n}</Historie:voorkomenidentificatie>"
        f"<Historie:beginGeldigheid>{begin}</Historie:beginGeldigheid>{eind}"
        f"<Historie:tijdstipRegistratie>{begin}T09:00:00.000</Historie:tijdstipRegistratie>"
        "</Historie:Voorkomen></Objecten:voorkomen>"
    )


def _wrap(obj: str) -> str:
    return f"            <sl-bag-extract:bagObject>{obj}</sl-bag-extract:bagObject>\n"


def _num(d, n: int = 1, begin: str = "2010-01-01", end: str | None = None, postcode: str | None = None) -> str:
    letter = f"<Objecten:huisletter>{d.huisletter}</Objecten:huisletter>" if d.huisletter else ""
    toev = f"<Objecten:huisnummertoevoeging>{d.toevoeging}</Objecten:huisnummertoevoeging>" if d.toevoeging else ""
    return _wrap(
        f'<Objecten:Nummeraanduiding><Objecten:identificatie domein="NL.IMBAG.Nummeraanduiding">{d.num_id}</Objecten:identificatie>'
        f"<Objecten:huisnummer>{d.huisnummer}</Objecten:huisnummer>{letter}{toev}"
        f"<Objecten:postcode>{postcode or d.postcode}</Objecten:postcode>"
        "<Objecten:typeAdresseerbaarObject>Verblijfsobject</Objecten:typeAdresseerbaarObject>"
        f"<Objecten:status>Naamgeving uitgegeven</Objecten:status><Objecten:geconstateerd>N</Objecten:geconstateerd>"
        f"{_voorkomen(n, begin, end)}"
        f'<Objecten:ligtAan><Objecten-ref:OpenbareRuimteRef domein="NL.IMBAG.Openbareruimte">{d.street.opr_id}'
        "</Objecten-ref:OpenbareRuimteRef></Objecten:ligtAan></Objecten:Nummeraanduiding>"
    )


def _vbo(d, n: int = 1, begin: str = "2010-01-01", end: str | None = None, oppervlakte: int | None = None) -> str:
    doel = "woonfunctie" if d.woning else "winkelfunctie"
    return _wrap(
        f'<Objecten:Verblijfsobject><Objecten:heeftAlsHoofdadres><Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">'
        f"{d.num_id}</Objecten-ref:NummeraanduidingRef></Objecten:heeftAlsHoofdadres>{_voorkomen(n, begin, end)}"
        f'<Objecten:identificatie domein="NL.IMBAG.Verblijfsobject">{d.vbo_id}</Objecten:identificatie>'
        f'<Objecten:geometrie><Objecten:punt><gml:Point srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="3">'
        f"<gml:pos>{d.x} {d.y} 0.0</gml:pos></gml:Point></Objecten:punt></Objecten:geometrie>"
        f"<Objecten:gebruiksdoel>{doel}</Objecten:gebruiksdoel><Objecten:oppervlakte>{oppervlakte or d.oppervlakte}"
        "</Objecten:oppervlakte><Objecten:status>Verblijfsobject in gebruik</Objecten:status>"
        "<Objecten:geconstateerd>N</Objecten:geconstateerd>"
        f'<Objecten:maaktDeelUitVan><Objecten-ref:PandRef domein="NL.IMBAG.Pand">{d.pand_id}</Objecten-ref:PandRef>'
        "</Objecten:maaktDeelUitVan></Objecten:Verblijfsobject>"
    )


def _pnd(pand_id: str, bouwjaar: int, x: float, y: float) -> str:
    ring = f"{x - 5} {y - 5} {x + 5} {y - 5} {x + 5} {y + 5} {x - 5} {y + 5} {x - 5} {y - 5}"
    return _wrap(
        f'<Objecten:Pand><Objecten:identificatie domein="NL.IMBAG.Pand">{pand_id}</Objecten:identificatie>'
        f'<Objecten:geometrie><gml:Polygon srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="2"><gml:exterior>'
        f'<gml:LinearRing><gml:posList count="5">{ring}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>'
        f"</Objecten:geometrie><Objecten:oorspronkelijkBouwjaar>{bouwjaar}</Objecten:oorspronkelijkBouwjaar>"
        f"<Objecten:status>Pand in gebruik</Objecten:status><Objecten:geconstateerd>N</Objecten:geconstateerd>"
        f"{_voorkomen(1, f'{bouwjaar}-01-01')}</Objecten:Pand>"
    )


def _opr(opr_id: str, naam: str) -> str:
    short = ""
    if len(naam) > 24:
        short = (
            f"<Objecten:verkorteNaam><nen5825:VerkorteNaamOpenbareRuimte><nen5825:verkorteNaam>{escape(naam[:24])}"
            "</nen5825:verkorteNaam></nen5825:VerkorteNaamOpenbareRuimte></Objecten:verkorteNaam>"
        )
    return _wrap(
        f'<Objecten:OpenbareRuimte><Objecten:identificatie domein="NL.IMBAG.Openbareruimte">{opr_id}</Objecten:identificatie>'
        f"<Objecten:naam>{escape(naam)}</Objecten:naam><Objecten:type>Weg</Objecten:type>"
        "<Objecten:status>Naamgeving uitgegeven</Objecten:status><Objecten:geconstateerd>N</Objecten:geconstateerd>"
        '<Objecten:ligtIn><Objecten-ref:WoonplaatsRef domein="NL.IMBAG.Woonplaats">3086</Objecten-ref:WoonplaatsRef>'
        f"</Objecten:ligtIn>{_voorkomen(1, '1950-01-01')}{short}</Objecten:OpenbareRuimte>"
    )


def write_bag(world: World, folder: Path) -> dict[str, int]:
    """Write the NUM, VBO, PND, OPR, WPL, LIG and STA files and the delivery document; returns object counts."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = "01112026"
    counts = {}

    def open_kind(kind: str):
        f = open(folder / f"0599{kind}{stamp}-000001.xml", "w", encoding="utf-8")
        f.write(HEAD.format(kind=kind))
        return f

    with open_kind("NUM") as num, open_kind("VBO") as vbo:
        for i, d in enumerate(world.dwellings):
            if i % 97 == 0:  # some objects carry history: an older version with an end date, then the current one
                num.write(_num(d, 1, "2001-05-01", "2012-03-01", postcode=d.postcode[:4] + "ZZ"))
                vbo.write(_vbo(d, 1, "2001-05-01", "2012-03-01", oppervlakte=d.oppervlakte + 10))
                num.write(_num(d, 2, "2012-03-01"))
                vbo.write(_vbo(d, 2, "2012-03-01"))
            else:
                num.write(_num(d))
                vbo.write(_vbo(d))
        num.write(TAIL)
        vbo.write(TAIL)
    counts["nummeraanduiding"] = counts["verblijfsobject"] = len(world.dwellings)
    panden: dict[str, tuple[int, float, float]] = {}
    for d in world.dwellings:
        panden.setdefault(d.pand_id, (d.bouwjaar, d.x, d.y))
    with open_kind("PND") as f:
        for pid, (bj, x, y) in panden.items():
            f.write(_pnd(pid, bj, x, y))
        f.write(TAIL)
    counts["pand"] = len(panden)
    with open_kind("OPR") as f:
        for st in world.streets.values():
            f.write(_opr(st.opr_id, st.naam))
        f.write(TAIL)
    counts["openbare_ruimte"] = len(world.streets)
    with open_kind("WPL") as f:
        f.write(
            _wrap(
                '<Objecten:Woonplaats><Objecten:identificatie domein="NL.IMBAG.Woonplaats">3086</Objecten:identificatie>'
                "<Objecten:naam>Rotterdam</Objecten:naam><Objecten:status>Woonplaats aangewezen</Objecten:status>"
                f"<Objecten:geconstateerd>N</Objecten:geconstateerd>{_voorkomen(1, '1900-01-01')}</Objecten:Woonplaats>"
            )
        )
        f.write(TAIL)
    counts["woonplaats"] = 1
    for kind in ("LIG", "STA"):
        with open_kind(kind) as f:
            f.write(TAIL)
    (folder / "Leveringsdocument-BAG-Extract.xml").write_text(DOC, encoding="utf-8")
    return counts
