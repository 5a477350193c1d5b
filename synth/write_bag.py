"""Render the synthetic world as an LVBAG 2.0 extract, in the layout and namespaces of Kadaster's files.

The layout follows the real extract in shared/fixtures/real/bag/nlextract: one `sl:stand` per `bagObject`, the
elements of each object in Kadaster's order, every version (`Voorkomen`) with its registration times and
`BeschikbaarLV`, geometries with a `gml:id`. Some objects carry an older, ended version; a few are ingetrokken
(units merged away years ago); LIG and STA hold a few houseboats and caravan pitches with their own addresses.
Files are written object by object, so the city scale streams without holding the XML in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

from synth.world import Dwelling, Plaats, World

STAMP = "01112026"
NAMESPACES = (
    'xmlns:DatatypenNEN3610="www.kadaster.nl/schemas/lvbag/imbag/datatypennen3610/v20200601" '
    'xmlns:Objecten="www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601" '
    'xmlns:gml="http://www.opengis.net/gml/3.2" '
    'xmlns:Historie="www.kadaster.nl/schemas/lvbag/imbag/historie/v20200601" '
    'xmlns:Objecten-ref="www.kadaster.nl/schemas/lvbag/imbag/objecten-ref/v20200601" '
    'xmlns:nen5825="www.kadaster.nl/schemas/lvbag/imbag/nen5825/v20200601" '
    'xmlns:KenmerkInOnderzoek="www.kadaster.nl/schemas/lvbag/imbag/kenmerkinonderzoek/v20200601" '
    'xmlns:selecties-extract="http://www.kadaster.nl/schemas/lvbag/extract-selecties/v20200601" '
    'xmlns:sl-bag-extract="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601" '
    'xmlns:sl="http://www.kadaster.nl/schemas/standlevering-generiek/1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xsi:schemaLocation="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601 '
    "http://www.kadaster.nl/schemas/bag-verstrekkingen/extract-deelbestand-lvc/v20200601/"
    'BagvsExtractDeelbestandExtractLvc-2.1.0.xsd"'
)
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<sl-bag-extract:bagStand {namespaces}>
    <sl-bag-extract:bagInfo>
        <selecties-extract:Gebied-Registratief>
            <selecties-extract:Gebied-GEM>
                <selecties-extract:GemeenteCollectie>
                    <selecties-extract:Gemeente>
                        <selecties-extract:GemeenteIdentificatie>0599</selecties-extract:GemeenteIdentificatie>
                    </selecties-extract:Gemeente>
                </selecties-extract:GemeenteCollectie>
            </selecties-extract:Gebied-GEM>
        </selecties-extract:Gebied-Registratief>
        <selecties-extract:LVC-Extract>
            <selecties-extract:StandTechnischeDatum>2026-11-01</selecties-extract:StandTechnischeDatum>
        </selecties-extract:LVC-Extract>
    </sl-bag-extract:bagInfo>
    <sl:standBestand>
        <sl:dataset>LVBAG</sl:dataset>
        <sl:inhoud>
            <sl:gebied>GEMEENTE</sl:gebied>
            <sl:leveringsId>0000000001</sl:leveringsId>
            <sl:objectTypen>
                <sl:objectType>{kind}</sl:objectType>
            </sl:objectTypen>
        </sl:inhoud>
"""
TAIL = """    </sl:standBestand>
</sl-bag-extract:bagStand>
"""
DOC = """<?xml version="1.0" encoding="UTF-8"?>
<xb:BAG-Extract-Levering
        xsi:schemaLocation="http://www.kadaster.nl/schemas/bag-verstrekkingen/extract-levering/v20200601 http://www.kadaster.nl/schemas/bag-verstrekkingen/extract-levering/v20200601/BagvsExtractLeveringsdocument-2.1.0.xsd"
        xmlns:xb="http://www.kadaster.nl/schemas/lvbag/extract-levering/v20200601" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xmlns:selecties-extract="http://www.kadaster.nl/schemas/lvbag/extract-selecties/v20200601">
    <xb:SelectieGegevens>
        <selecties-extract:LVC-Extract>
            <selecties-extract:StandTechnischeDatum>2026-11-01</selecties-extract:StandTechnischeDatum>
        </selecties-extract:LVC-Extract>
        <selecties-extract:Gebied-Registratief>
            <selecties-extract:Gebied-GEM>
                <selecties-extract:GemeenteCollectie>
                    <selecties-extract:Gemeente>
                        <selecties-extract:GemeenteIdentificatie>0599</selecties-extract:GemeenteIdentificatie>
                        <selecties-extract:GemeenteNaam>Rotterdam</selecties-extract:GemeenteNaam>
                    </selecties-extract:Gemeente>
                </selecties-extract:GemeenteCollectie>
            </selecties-extract:Gebied-GEM>
        </selecties-extract:Gebied-Registratief>
    </xb:SelectieGegevens>
    <xb:SchemaInfo>
        <xb:naam>BagvsExtractDeelbestandExtractLvc-2.1.0.xsd</xb:naam>
        <xb:versie>20200601</xb:versie>
    </xb:SchemaInfo>
</xb:BAG-Extract-Levering>
"""
HISTORY_EVERY = 97  # every 97th dwelling carries an older, ended version (other postcode letters, other area)
OLD_BEGIN, OLD_END = "2001-05-01", "2012-03-01"


def _voorkomen(n: int, begin: str, end: str | None = None) -> str:
    """One version: validity, registration times and when it became available in the LV, as Kadaster writes it."""
    eind = f"<Historie:eindGeldigheid>{end}</Historie:eindGeldigheid>" if end else ""
    eind_reg = f"<Historie:eindRegistratie>{end}T09:00:00.000</Historie:eindRegistratie>" if end else ""
    eind_lv = (
        f"<Historie:tijdstipEindRegistratieLV>{end}T09:15:00.000</Historie:tijdstipEindRegistratieLV>" if end else ""
    )
    return (
        f"<Objecten:voorkomen><Historie:Voorkomen><Historie:voorkomenidentificatie>{n}</Historie:voorkomenidentificatie>"
        f"<Historie:beginGeldigheid>{begin}</Historie:beginGeldigheid>{eind}"
        f"<Historie:tijdstipRegistratie>{begin}T09:00:00.000</Historie:tijdstipRegistratie>{eind_reg}"
        f"<Historie:BeschikbaarLV><Historie:tijdstipRegistratieLV>{begin}T09:15:00.000</Historie:tijdstipRegistratieLV>"
        f"{eind_lv}</Historie:BeschikbaarLV></Historie:Voorkomen></Objecten:voorkomen>"
    )


def _document(begin: str, prefix: str, serial: str) -> str:
    return (
        "<Objecten:geconstateerd>N</Objecten:geconstateerd>"
        f"<Objecten:documentdatum>{begin}</Objecten:documentdatum>"
        f"<Objecten:documentnummer>{prefix}{serial[-8:]}</Objecten:documentnummer>"
    )


def _stand(obj: str) -> str:
    return f"        <sl:stand>\n            <sl-bag-extract:bagObject>{obj}</sl-bag-extract:bagObject>\n        </sl:stand>\n"


def _num(
    num_id: str,
    street_id: str,
    huisnummer: int,
    huisletter: str | None,
    toevoeging: str | None,
    postcode: str,
    n: int = 1,
    begin: str = "2010-01-01",
    end: str | None = None,
    kind: str = "Verblijfsobject",
    status: str = "Naamgeving uitgegeven",
) -> str:
    letter = f"<Objecten:huisletter>{huisletter}</Objecten:huisletter>" if huisletter else ""
    toev = f"<Objecten:huisnummertoevoeging>{toevoeging}</Objecten:huisnummertoevoeging>" if toevoeging else ""
    return _stand(
        f'<Objecten:Nummeraanduiding><Objecten:identificatie domein="NL.IMBAG.Nummeraanduiding">{num_id}'
        f"</Objecten:identificatie><Objecten:huisnummer>{huisnummer}</Objecten:huisnummer>{letter}{toev}"
        f"<Objecten:postcode>{postcode}</Objecten:postcode>"
        f"<Objecten:typeAdresseerbaarObject>{kind}</Objecten:typeAdresseerbaarObject>"
        f"<Objecten:status>{status}</Objecten:status>{_document(begin, 'BAG/NUM', num_id)}"
        f"{_voorkomen(n, begin, end)}"
        f'<Objecten:ligtAan><Objecten-ref:OpenbareRuimteRef domein="NL.IMBAG.Openbareruimte">{street_id}'
        "</Objecten-ref:OpenbareRuimteRef></Objecten:ligtAan></Objecten:Nummeraanduiding>"
    )


def _dwelling_num(
    d: Dwelling,
    n: int = 1,
    begin: str = "2010-01-01",
    end: str | None = None,
    postcode: str | None = None,
    status: str = "Naamgeving uitgegeven",
) -> str:
    pc = postcode or d.postcode
    return _num(d.num_id, d.street.opr_id, d.huisnummer, d.huisletter, d.toevoeging, pc, n, begin, end, status=status)


def _vbo(
    d: Dwelling,
    n: int = 1,
    begin: str = "2010-01-01",
    end: str | None = None,
    oppervlakte: int | None = None,
    status: str = "Verblijfsobject in gebruik",
) -> str:
    stamp = begin.replace("-", "")
    return _stand(
        "<Objecten:Verblijfsobject><Objecten:heeftAlsHoofdadres>"
        f'<Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">{d.num_id}'
        f"</Objecten-ref:NummeraanduidingRef></Objecten:heeftAlsHoofdadres>{_voorkomen(n, begin, end)}"
        f'<Objecten:identificatie domein="NL.IMBAG.Verblijfsobject">{d.vbo_id}</Objecten:identificatie>'
        '<Objecten:geometrie><Objecten:punt><gml:Point srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="3" '
        f'gml:id="VBO_{d.vbo_id}_{n}_{stamp}"><gml:pos>{d.x} {d.y} 0.0</gml:pos></gml:Point></Objecten:punt>'
        f"</Objecten:geometrie><Objecten:gebruiksdoel>{d.gebruiksdoel}</Objecten:gebruiksdoel>"
        f"<Objecten:oppervlakte>{oppervlakte or d.oppervlakte}</Objecten:oppervlakte>"
        f"<Objecten:status>{status}</Objecten:status>{_document(begin, 'BAG/VBO', d.vbo_id)}"
        f'<Objecten:maaktDeelUitVan><Objecten-ref:PandRef domein="NL.IMBAG.Pand">{d.pand_id}</Objecten-ref:PandRef>'
        "</Objecten:maaktDeelUitVan></Objecten:Verblijfsobject>"
    )


def _ring(x: float, y: float, half: float) -> str:
    x0, x1, y0, y1 = round(x - half, 3), round(x + half, 3), round(y - half, 3), round(y + half, 3)
    return f"{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1} {x0} {y0}"


def _polygon(tag: str, obj_id: str, ring: str, begin: str, dim: int = 2) -> str:
    stamp = begin.replace("-", "")
    return (
        f'<gml:Polygon srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="{dim}" gml:id="{tag}_{obj_id}_1_{stamp}">'
        f'<gml:exterior><gml:LinearRing><gml:posList count="{ring.count(" ") // 2 + 1}">{ring}</gml:posList>'
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


def _pnd(pand_id: str, bouwjaar: int, x: float, y: float) -> str:
    begin = f"{max(bouwjaar, 1990)}-01-01"
    return _stand(
        f'<Objecten:Pand><Objecten:identificatie domein="NL.IMBAG.Pand">{pand_id}</Objecten:identificatie>'
        f"<Objecten:geometrie>{_polygon('PND', pand_id, _ring(x, y, 5), begin)}</Objecten:geometrie>"
        f"<Objecten:oorspronkelijkBouwjaar>{bouwjaar}</Objecten:oorspronkelijkBouwjaar>"
        f"<Objecten:status>Pand in gebruik</Objecten:status>{_document(begin, 'BAG/PND', pand_id)}"
        f"{_voorkomen(1, begin)}</Objecten:Pand>"
    )


def _opr(opr_id: str, naam: str) -> str:
    short = ""
    if len(naam) > 24:
        short = (
            f"<Objecten:verkorteNaam><nen5825:VerkorteNaamOpenbareRuimte><nen5825:verkorteNaam>{escape(naam[:24])}"
            "</nen5825:verkorteNaam></nen5825:VerkorteNaamOpenbareRuimte></Objecten:verkorteNaam>"
        )
    return _stand(
        f'<Objecten:OpenbareRuimte><Objecten:identificatie domein="NL.IMBAG.Openbareruimte">{opr_id}'
        f"</Objecten:identificatie><Objecten:naam>{escape(naam)}</Objecten:naam><Objecten:type>Weg</Objecten:type>"
        f"<Objecten:status>Naamgeving uitgegeven</Objecten:status>{_document('1950-01-01', 'BAG/OBR', opr_id)}"
        '<Objecten:ligtIn><Objecten-ref:WoonplaatsRef domein="NL.IMBAG.Woonplaats">3086</Objecten-ref:WoonplaatsRef>'
        f"</Objecten:ligtIn>{_voorkomen(1, '1950-01-01')}{short}</Objecten:OpenbareRuimte>"
    )


def _wpl(world: World) -> str:
    """Woonplaats Rotterdam, its polygon the bounding box of every buurt written."""
    x0 = min(b.x0 for b in world.buurten) - 100
    y0 = min(b.y0 for b in world.buurten) - 100
    x1 = max(b.x0 + b.size for b in world.buurten) + 100
    y1 = max(b.y0 + b.size for b in world.buurten) + 100
    ring = f"{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1} {x0} {y0}"
    return _stand(
        '<Objecten:Woonplaats><Objecten:identificatie domein="NL.IMBAG.Woonplaats">3086</Objecten:identificatie>'
        "<Objecten:naam>Rotterdam</Objecten:naam>"
        f"<Objecten:geometrie><Objecten:vlak>{_polygon('WPL', '3086', ring, '1900-01-01')}</Objecten:vlak>"
        "</Objecten:geometrie><Objecten:status>Woonplaats aangewezen</Objecten:status>"
        f"{_document('1900-01-01', 'BAG/WPL', '3086')}{_voorkomen(1, '1900-01-01')}</Objecten:Woonplaats>"
    )


def _plaats(p: Plaats) -> str:
    element, tag = ("Ligplaats", "LIG") if p.kind == "02" else ("Standplaats", "STA")
    begin = "2010-01-26"
    return _stand(
        f"<Objecten:{element}><Objecten:heeftAlsHoofdadres>"
        f'<Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">{p.num_id}'
        f"</Objecten-ref:NummeraanduidingRef></Objecten:heeftAlsHoofdadres>{_voorkomen(1, begin)}"
        f'<Objecten:identificatie domein="NL.IMBAG.{element}">{p.plaats_id}</Objecten:identificatie>'
        "<Objecten:status>Plaats aangewezen</Objecten:status>"
        f"<Objecten:geometrie>{_polygon(tag, p.plaats_id, _ring(p.x, p.y, 1.2), begin)}</Objecten:geometrie>"
        f"{_document(begin, f'BAG/{tag}', p.plaats_id)}</Objecten:{element}>"
    )


def write_bag(world: World, folder: Path) -> dict[str, int]:
    """Write the NUM, VBO, PND, OPR, WPL, LIG and STA files and the delivery document; returns object counts
    (objects, not versions)."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def open_kind(kind: str) -> TextIO:
        f = open(folder / f"0599{kind}{STAMP}-000001.xml", "w", encoding="utf-8", newline="\n")
        f.write(HEAD.format(namespaces=NAMESPACES, kind=kind))
        return f

    with open_kind("NUM") as num, open_kind("VBO") as vbo:
        for i, d in enumerate(world.dwellings):
            if i % HISTORY_EVERY == 0:  # an older version with an end date, then the current one
                # before 2012 the building had other postcode letters (a renumbering), and another floor area
                num.write(_dwelling_num(d, 1, OLD_BEGIN, OLD_END, postcode=d.postcode[:4] + "ZZ"))
                vbo.write(_vbo(d, 1, OLD_BEGIN, OLD_END, oppervlakte=d.oppervlakte + 10))
                num.write(_dwelling_num(d, 2, OLD_END))
                vbo.write(_vbo(d, 2, OLD_END))
            else:
                num.write(_dwelling_num(d))
                vbo.write(_vbo(d, status=_vbo_status(i)))
        for d in world.retired:  # merged away: in use until 2019, ingetrokken since
            num.write(_dwelling_num(d, 1, "1995-01-01", "2019-06-01"))
            num.write(_dwelling_num(d, 2, "2019-06-01", status="Naamgeving ingetrokken"))
            vbo.write(_vbo(d, 1, "1995-01-01", "2019-06-01"))
            vbo.write(_vbo(d, 2, "2019-06-01", status="Verblijfsobject ingetrokken"))
        for p in world.plaatsen:
            kind = "Ligplaats" if p.kind == "02" else "Standplaats"
            num.write(_num(p.num_id, p.street.opr_id, p.huisnummer, None, None, p.postcode, kind=kind))
        num.write(TAIL)
        vbo.write(TAIL)
    counts["nummeraanduiding"] = len(world.dwellings) + len(world.retired) + len(world.plaatsen)
    counts["verblijfsobject"] = len(world.dwellings) + len(world.retired)
    counts["ingetrokken"] = len(world.retired)
    counts["versions_ended"] = 2 * (len(range(0, len(world.dwellings), HISTORY_EVERY)) + len(world.retired))
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
        f.write(_wpl(world))
        f.write(TAIL)
    counts["woonplaats"] = 1
    for kind, code in (("LIG", "02"), ("STA", "03")):
        with open_kind(kind) as f:
            for p in world.plaatsen:
                if p.kind == code:
                    f.write(_plaats(p))
            f.write(TAIL)
    counts["ligplaats"] = sum(p.kind == "02" for p in world.plaatsen)
    counts["standplaats"] = sum(p.kind == "03" for p in world.plaatsen)
    (folder / "Leveringsdocument-BAG-Extract.xml").write_text(DOC, encoding="utf-8", newline="\n")
    return counts


def _vbo_status(i: int) -> str:
    """Most units are in use; a few are being rebuilt or were never surveyed, as in real extracts."""
    if i % 211 == 5:
        return "Verbouwing verblijfsobject"
    if i % 223 == 7:
        return "Verblijfsobject in gebruik (niet ingemeten)"
    return "Verblijfsobject in gebruik"
