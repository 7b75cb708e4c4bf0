"""Word lists for the synthetic North West region: places, branches, sites, jobs and names.

Organisation and site names are real or plausible North West ones; every person is invented.
Postcode districts are real outward codes in the L, CH, WA, WN, PR, BB, BL, M, OL, SK, CA, LA
and FY areas; the inward halves are made up.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..vocabulary import EmployerKind

NHS = EmployerKind.NHS_TRUST
COUNCIL = EmployerKind.COUNCIL
SCHOOL = EmployerKind.SCHOOL
CARE = EmployerKind.CARE_PROVIDER
UNI = EmployerKind.UNIVERSITY
OTHER = EmployerKind.OTHER


def _districts(prefix: str, *numbers: int | range) -> list[str]:
    out: list[str] = []
    for n in numbers:
        out.extend(f"{prefix}{i}" for i in (n if isinstance(n, range) else [n]))
    return out


# area key -> (neighbourhood and town names, postcode districts)
AREAS: dict[str, tuple[list[str], list[str]]] = {
    "liverpool": (
        ["Liverpool", "Everton", "Anfield", "Walton", "Kirkdale", "Toxteth", "Wavertree", "Allerton",
         "Garston", "Speke", "Norris Green", "Croxteth", "West Derby", "Old Swan", "Kensington",
         "Fazakerley", "Childwall", "Woolton", "Aigburth", "Belle Vale", "Dingle", "Tuebrook"],
        _districts("L", range(1, 20), 24, 25, 27),
    ),
    "sefton": (
        ["Bootle", "Crosby", "Litherland", "Maghull", "Formby", "Southport", "Netherton", "Waterloo",
         "Ainsdale", "Birkdale"],
        _districts("L", range(20, 24), 29, 30, 31, 37) + ["PR8", "PR9"],
    ),
    "knowsley": (
        ["Kirkby", "Huyton", "Prescot", "Halewood", "Stockbridge Village", "Whiston", "Page Moss"],
        _districts("L", 14, 28, 32, 33, 34, 35, 36),
    ),
    "wirral": (
        ["Birkenhead", "Wallasey", "Bebington", "Heswall", "West Kirby", "Hoylake", "Moreton",
         "Upton", "Bromborough", "New Ferry", "Rock Ferry", "Leasowe", "Greasby"],
        _districts("CH", range(41, 50), range(60, 64)),
    ),
    "st_helens": (
        ["St Helens", "Newton-le-Willows", "Haydock", "Rainford", "Parr", "Thatto Heath", "Sutton"],
        _districts("WA", 9, 10, 11, 12),
    ),
    "halton": (["Runcorn", "Widnes", "Halton Lea", "Ditton", "Halebank"], _districts("WA", 7, 8)),
    "warrington": (
        ["Warrington", "Great Sankey", "Birchwood", "Padgate", "Penketh", "Orford", "Woolston",
         "Latchford", "Westbrook"],
        _districts("WA", 1, 2, 3, 4, 5),
    ),
    "chester": (
        ["Chester", "Ellesmere Port", "Blacon", "Hoole", "Upton-by-Chester", "Neston", "Great Boughton"],
        _districts("CH", 1, 2, 3, 4, 64, 65, 66),
    ),
    "wigan": (
        ["Wigan", "Leigh", "Ashton-in-Makerfield", "Hindley", "Standish", "Pemberton", "Ince",
         "Orrell", "Golborne"],
        _districts("WN", 1, 2, 3, 4, 5, 6, 7),
    ),
    "west_lancs": (["Ormskirk", "Skelmersdale", "Burscough", "Aughton"], ["L39", "L40", "WN8"]),
    "bolton": (
        ["Bolton", "Farnworth", "Horwich", "Westhoughton", "Little Lever", "Kearsley", "Breightmet",
         "Astley Bridge"],
        _districts("BL", 1, 2, 3, 4, 5, 6, 7),
    ),
    "bury": (["Bury", "Ramsbottom", "Radcliffe", "Tottington", "Whitefield"], ["BL8", "BL9", "M26", "M45"]),
    "rochdale": (
        ["Rochdale", "Heywood", "Middleton", "Littleborough", "Milnrow", "Castleton"],
        ["OL10", "OL11", "OL12", "OL15", "OL16", "M24"],
    ),
    "oldham": (
        ["Oldham", "Chadderton", "Royton", "Failsworth", "Shaw", "Lees", "Saddleworth"],
        _districts("OL", 1, 2, 3, 4, 8, 9) + ["M35"],
    ),
    "tameside": (
        ["Ashton-under-Lyne", "Hyde", "Stalybridge", "Denton", "Dukinfield", "Droylsden", "Mossley"],
        ["OL5", "OL6", "OL7", "SK14", "SK15", "SK16", "M34", "M43"],
    ),
    "stockport": (
        ["Stockport", "Cheadle", "Bramhall", "Marple", "Hazel Grove", "Reddish", "Edgeley", "Offerton"],
        _districts("SK", range(1, 9)),
    ),
    "manchester": (
        ["Manchester", "Wythenshawe", "Moss Side", "Hulme", "Ancoats", "Cheetham Hill", "Gorton",
         "Longsight", "Didsbury", "Withington", "Chorlton", "Harpurhey", "Blackley", "Levenshulme",
         "Rusholme", "Fallowfield", "Clayton", "Newton Heath", "Ardwick", "Burnage"],
        _districts("M", range(1, 5), range(8, 10), range(11, 16), range(18, 24), 40),
    ),
    "salford": (
        ["Salford", "Eccles", "Swinton", "Walkden", "Pendleton", "Irlam", "Little Hulton",
         "Ordsall", "Broughton", "Worsley"],
        ["M3", "M5", "M6", "M7", "M27", "M28", "M30", "M38", "M44"],
    ),
    "trafford": (
        ["Stretford", "Sale", "Altrincham", "Urmston", "Partington", "Old Trafford", "Timperley"],
        ["M16", "M32", "M33", "M41", "WA14", "WA15"],
    ),
    "cheshire_east": (["Wilmslow", "Macclesfield", "Poynton", "Knutsford"], ["SK9", "SK10", "SK11", "SK12", "WA16"]),
    "preston": (
        ["Preston", "Fulwood", "Leyland", "Penwortham", "Chorley", "Ribbleton", "Ashton-on-Ribble",
         "Bamber Bridge", "Longridge"],
        ["PR1", "PR2", "PR3", "PR4", "PR5", "PR6", "PR7", "PR25", "PR26"],
    ),
    "blackpool": (
        ["Blackpool", "Fleetwood", "Lytham St Annes", "Thornton-Cleveleys", "Poulton-le-Fylde",
         "Bispham", "Layton", "Marton"],
        _districts("FY", range(1, 9)),
    ),
    "blackburn": (
        ["Blackburn", "Darwen", "Mill Hill", "Wensley Fold", "Audley", "Shadsworth"],
        ["BB1", "BB2", "BB3"],
    ),
    "east_lancs": (
        ["Burnley", "Accrington", "Nelson", "Colne", "Rawtenstall", "Clitheroe", "Padiham",
         "Haslingden", "Bacup", "Barnoldswick"],
        _districts("BB", range(4, 13)) + ["BB18"],
    ),
    "lancaster": (
        ["Lancaster", "Morecambe", "Heysham", "Carnforth", "Galgate", "Bolton-le-Sands"],
        ["LA1", "LA2", "LA3", "LA4", "LA5", "LA6"],
    ),
    "south_cumbria": (
        ["Kendal", "Barrow-in-Furness", "Ulverston", "Windermere", "Grange-over-Sands", "Dalton-in-Furness",
         "Millom", "Ambleside"],
        ["LA7", "LA8", "LA9", "LA11", "LA12", "LA13", "LA14", "LA15", "LA18", "LA22", "LA23"],
    ),
    "north_cumbria": (
        ["Carlisle", "Workington", "Whitehaven", "Penrith", "Maryport", "Cockermouth", "Wigton",
         "Keswick", "Egremont", "Brampton"],
        ["CA1", "CA2", "CA3", "CA7", "CA8", "CA10", "CA11", "CA12", "CA13", "CA14", "CA15", "CA28"],
    ),
}

# Letters the Royal Mail uses in the inward part of a postcode (never C, I, K, M, O or V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Four-digit prefixes after +44 that phonenumbers accepts as GB mobiles in full
# (each checked exhaustively on its next two digits; 07700 is left out on purpose).
MOBILE_PREFIX_RANGES = [
    (7400, 7456), (7458, 7508), (7510, 7523), (7525, 7599), (7701, 7780), (7782, 7796),
    (7798, 7828), (7830, 7838), (7840, 7910), (7912, 7936), (7938, 7999),
]
MOBILE_PREFIXES = [str(p) for lo, hi in MOBILE_PREFIX_RANGES for p in range(lo, hi + 1)]


@dataclass(frozen=True)
class EmployerSpec:
    name: str
    kind: EmployerKind
    sites: tuple[str, ...] = ()
    # Which site-name templates and job titles fit (defaults follow the kind).
    style: str | None = None
    jobs: str | None = None


@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    service_group: str
    size: float  # relative share of the region's members
    areas: tuple[str, ...]
    employers: tuple[EmployerSpec, ...] = field(default_factory=tuple)


def _b(code, name, group, size, areas, *employers) -> BranchSpec:
    return BranchSpec(code, name, group, size, tuple(areas.split()), tuple(employers))


H, LG, ED, HE = "Health", "Local Government", "Education", "Higher Education"
COM, PJ, WET, EN = "Community", "Police & Justice", "Water, Environment & Transport", "Energy"

BRANCHES: list[BranchSpec] = [
    # Health: the region's biggest service group.
    _b("LUHFT", "Liverpool University Hospitals", H, 10, "liverpool",
       EmployerSpec("Liverpool University Hospitals NHS FT", NHS, (
           "Royal Liverpool University Hospital", "Aintree University Hospital", "Broadgreen Hospital",
           "Liverpool University Dental Hospital"))),
    _b("ALDHY", "Alder Hey Children's", H, 4, "liverpool",
       EmployerSpec("Alder Hey Children's NHS FT", NHS, (
           "Alder Hey Children's Hospital", "Alder Hey in the Park Innovation Hub", "Sunflower House",
           "Catkin Centre"))),
    _b("LWHFT", "Liverpool Women's", H, 3, "liverpool",
       EmployerSpec("Liverpool Women's NHS FT", NHS, ("Liverpool Women's Hospital", "Hewitt Fertility Centre"))),
    _b("MERCR", "Mersey Care", H, 8, "liverpool sefton knowsley",
       EmployerSpec("Mersey Care NHS FT", NHS, (
           "Ashworth Hospital", "Broadoak Unit", "Mossley Hill Hospital", "Scott Clinic", "Hesketh Centre"))),
    _b("MWLTH", "Mersey and West Lancashire Hospitals", H, 8, "st_helens knowsley sefton west_lancs",
       EmployerSpec("Mersey and West Lancashire Teaching Hospitals NHS Trust", NHS, (
           "Whiston Hospital", "St Helens Hospital", "Southport District General Hospital",
           "Ormskirk District General Hospital"))),
    _b("WUTH", "Wirral University Teaching Hospital", H, 6, "wirral",
       EmployerSpec("Wirral University Teaching Hospital NHS FT", NHS, (
           "Arrowe Park Hospital", "Clatterbridge Hospital"))),
    _b("WCHC", "Wirral Community Health", H, 3, "wirral",
       EmployerSpec("Wirral Community Health and Care NHS FT", NHS, (
           "St Catherine's Health Centre", "Victoria Central Health Centre", "Moreton Health Clinic"))),
    _b("COCH", "Countess of Chester Hospital", H, 4, "chester",
       EmployerSpec("Countess of Chester Hospital NHS FT", NHS, (
           "Countess of Chester Hospital", "Ellesmere Port Hospital"))),
    _b("WHHFT", "Warrington and Halton Hospitals", H, 4, "warrington halton",
       EmployerSpec("Warrington and Halton Teaching Hospitals NHS FT", NHS, (
           "Warrington Hospital", "Halton General Hospital", "Cheshire and Merseyside Treatment Centre"))),
    _b("MFTH", "Manchester University NHS FT", H, 12, "manchester trafford",
       EmployerSpec("Manchester University NHS FT", NHS, (
           "Manchester Royal Infirmary", "Wythenshawe Hospital", "Royal Manchester Children's Hospital",
           "Saint Mary's Hospital", "Trafford General Hospital", "North Manchester General Hospital"))),
    _b("NCAH", "Northern Care Alliance", H, 10, "salford rochdale oldham bury",
       EmployerSpec("Northern Care Alliance NHS FT", NHS, (
           "Salford Royal Hospital", "Royal Oldham Hospital", "Fairfield General Hospital", "Rochdale Infirmary"))),
    _b("GMMH", "Greater Manchester Mental Health", H, 4, "manchester salford bolton",
       EmployerSpec("Greater Manchester Mental Health NHS FT", NHS, (
           "Prestwich Hospital", "Park House", "Laureate House"))),
    _b("PENCR", "Pennine Care", H, 4, "oldham tameside stockport rochdale",
       EmployerSpec("Pennine Care NHS FT", NHS, ("Tameside Mental Health Unit", "Birch Hill Hospital"))),
    _b("STKFT", "Stockport NHS", H, 4, "stockport cheshire_east",
       EmployerSpec("Stockport NHS FT", NHS, ("Stepping Hill Hospital",))),
    _b("BOLFT", "Bolton NHS", H, 4, "bolton",
       EmployerSpec("Bolton NHS FT", NHS, ("Royal Bolton Hospital",))),
    _b("WWLFT", "Wrightington, Wigan and Leigh Health", H, 4, "wigan",
       EmployerSpec("Wrightington, Wigan and Leigh Teaching Hospitals NHS FT", NHS, (
           "Royal Albert Edward Infirmary", "Wrightington Hospital", "Leigh Infirmary"))),
    _b("TGIC", "Tameside and Glossop Health", H, 3, "tameside",
       EmployerSpec("Tameside and Glossop Integrated Care NHS FT", NHS, ("Tameside General Hospital",))),
    _b("LTHTR", "Lancashire Teaching Hospitals", H, 6, "preston",
       EmployerSpec("Lancashire Teaching Hospitals NHS FT", NHS, (
           "Royal Preston Hospital", "Chorley and South Ribble Hospital"))),
    _b("ELHT", "East Lancashire Health", H, 6, "blackburn east_lancs",
       EmployerSpec("East Lancashire Hospitals NHS Trust", NHS, (
           "Royal Blackburn Teaching Hospital", "Burnley General Teaching Hospital"))),
    _b("BTHFT", "Blackpool Health", H, 5, "blackpool",
       EmployerSpec("Blackpool Teaching Hospitals NHS FT", NHS, (
           "Blackpool Victoria Hospital", "Clifton Hospital", "Fleetwood Hospital"))),
    _b("UHMB", "Morecambe Bay Health", H, 5, "lancaster south_cumbria",
       EmployerSpec("University Hospitals of Morecambe Bay NHS FT", NHS, (
           "Royal Lancaster Infirmary", "Furness General Hospital", "Westmorland General Hospital"))),
    _b("LSCFT", "Lancashire and South Cumbria Health", H, 4, "preston lancaster blackburn",
       EmployerSpec("Lancashire and South Cumbria NHS FT", NHS, ("The Harbour", "Guild Lodge"))),
    _b("NCIC", "North Cumbria Health", H, 4, "north_cumbria",
       EmployerSpec("North Cumbria Integrated Care NHS FT", NHS, ("Cumberland Infirmary", "West Cumberland Hospital"))),
    _b("NWAS", "North West Ambulance Service", H, 4, "manchester liverpool preston north_cumbria",
       EmployerSpec("North West Ambulance Service NHS Trust", NHS, (
           "Broughton Emergency Operations Centre", "Estuary Point Emergency Operations Centre"),
           style="ambulance", jobs="ambulance")),

    # Local Government: councils, with their care providers and arm's-length companies.
    _b("LIVCC", "Liverpool City", LG, 10, "liverpool",
       EmployerSpec("Liverpool City Council", COUNCIL, (
           "Cunard Building", "Liverpool Central Library", "Municipal Buildings"))),
    _b("MANCC", "Manchester City", LG, 10, "manchester",
       EmployerSpec("Manchester City Council", COUNCIL, (
           "Manchester Town Hall Extension", "Manchester Central Library"))),
    _b("SALCC", "Salford City", LG, 5, "salford",
       EmployerSpec("Salford City Council", COUNCIL, ("Salford Civic Centre",))),
    _b("WIRLG", "Wirral", LG, 5, "wirral",
       EmployerSpec("Wirral Council", COUNCIL, ("Wallasey Town Hall",))),
    _b("SEFLG", "Sefton", LG, 4, "sefton",
       EmployerSpec("Sefton Council", COUNCIL, ("Bootle Town Hall", "Magdalen House"))),
    _b("KNOLG", "Knowsley", LG, 3, "knowsley",
       EmployerSpec("Knowsley Council", COUNCIL, ("Huyton Municipal Buildings",))),
    _b("STHLG", "St Helens", LG, 3, "st_helens",
       EmployerSpec("St Helens Borough Council", COUNCIL, ("St Helens Town Hall",))),
    _b("HALLG", "Halton", LG, 2, "halton",
       EmployerSpec("Halton Borough Council", COUNCIL, ("Runcorn Town Hall", "Widnes Municipal Building"))),
    _b("WARLG", "Warrington", LG, 3, "warrington",
       EmployerSpec("Warrington Borough Council", COUNCIL, ("Warrington Town Hall",))),
    _b("WIGLG", "Wigan", LG, 5, "wigan",
       EmployerSpec("Wigan Council", COUNCIL, ("Wigan Life Centre",))),
    _b("BOLLG", "Bolton", LG, 4, "bolton",
       EmployerSpec("Bolton Council", COUNCIL, ("Bolton Town Hall",))),
    _b("BURLG", "Bury", LG, 3, "bury",
       EmployerSpec("Bury Council", COUNCIL, ("Bury Town Hall",))),
    _b("ROCLG", "Rochdale", LG, 3, "rochdale",
       EmployerSpec("Rochdale Borough Council", COUNCIL, ("Number One Riverside",))),
    _b("OLDLG", "Oldham", LG, 3, "oldham",
       EmployerSpec("Oldham Council", COUNCIL, ("Oldham Civic Centre",))),
    _b("TAMLG", "Tameside", LG, 3, "tameside",
       EmployerSpec("Tameside Council", COUNCIL, ("Tameside One",))),
    _b("STKLG", "Stockport", LG, 4, "stockport",
       EmployerSpec("Stockport Council", COUNCIL, ("Stopford House", "Fred Perry House"))),
    _b("TRALG", "Trafford", LG, 3, "trafford",
       EmployerSpec("Trafford Council", COUNCIL, ("Trafford Town Hall",))),
    _b("LANCC", "Lancashire County", LG, 9, "preston lancaster east_lancs west_lancs",
       EmployerSpec("Lancashire County Council", COUNCIL, ("County Hall, Preston",))),
    _b("BPLLG", "Blackpool", LG, 3, "blackpool",
       EmployerSpec("Blackpool Council", COUNCIL, ("Bickerstaffe House",))),
    _b("BWDLG", "Blackburn with Darwen", LG, 3, "blackburn",
       EmployerSpec("Blackburn with Darwen Council", COUNCIL, ("Blackburn Town Hall",))),
    _b("CWACL", "Cheshire West and Chester", LG, 4, "chester",
       EmployerSpec("Cheshire West and Chester Council", COUNCIL, ("Chester HQ Building",))),
    _b("CUMLG", "Cumberland", LG, 3, "north_cumbria",
       EmployerSpec("Cumberland Council", COUNCIL, ("Carlisle Civic Centre",))),
    _b("WAFLG", "Westmorland and Furness", LG, 3, "south_cumbria",
       EmployerSpec("Westmorland and Furness Council", COUNCIL, ("Barrow Town Hall", "South Lakeland House"))),

    # Education: school support staff in academy trusts, and further education colleges.
    _b("LIVED", "Liverpool Schools", ED, 4, "liverpool knowsley sefton"),
    _b("MANED", "Manchester and Salford Schools", ED, 4, "manchester salford trafford"),
    _b("LANED", "Lancashire Schools", ED, 3, "preston blackburn east_lancs blackpool"),
    _b("CHWED", "Cheshire and Wirral Schools", ED, 3, "wirral chester warrington"),

    # Higher Education.
    _b("UOLHE", "University of Liverpool", HE, 3, "liverpool",
       EmployerSpec("University of Liverpool", UNI, (
           "Victoria Building", "Sydney Jones Library", "Harold Cohen Library", "Foresight Centre"))),
    _b("LJMHE", "Liverpool John Moores University", HE, 2, "liverpool",
       EmployerSpec("Liverpool John Moores University", UNI, (
           "Aldham Robarts Library", "Tithebarn Building", "Byrom Street Campus"))),
    _b("UOMHE", "University of Manchester", HE, 4, "manchester",
       EmployerSpec("University of Manchester", UNI, (
           "Main Library", "John Owens Building", "Sackville Street Building", "Alan Turing Building"))),
    _b("SALHE", "University of Salford", HE, 2, "salford",
       EmployerSpec("University of Salford", UNI, (
           "Maxwell Building", "Peel Building", "Clifford Whitworth Library", "MediaCityUK Building"))),
    _b("LANHE", "Lancaster University", HE, 2, "lancaster",
       EmployerSpec("Lancaster University", UNI, (
           "University House", "Lancaster University Library", "Bowland College"))),
    _b("UCLAN", "University of Central Lancashire", HE, 2, "preston",
       EmployerSpec("University of Central Lancashire", UNI, ("Harris Building", "Foster Building", "Student Centre"))),

    # Community: care providers, housing associations and charities.
    _b("MERCM", "Merseyside Community", COM, 3, "liverpool wirral sefton"),
    _b("GMCOM", "Greater Manchester Community", COM, 3, "manchester salford oldham"),
    _b("LANCM", "Lancashire and Cumbria Community", COM, 2, "preston blackpool north_cumbria"),
    _b("CHECM", "Cheshire and Warrington Community", COM, 2, "chester warrington halton"),

    # Police & Justice: police staff and probation.
    _b("MERPS", "Merseyside Police Staff", PJ, 3, "liverpool wirral sefton",
       EmployerSpec("Merseyside Police", OTHER, ("Canning Place Headquarters",), style="police")),
    _b("GMPPS", "Greater Manchester Police Staff", PJ, 4, "manchester salford bolton oldham",
       EmployerSpec("Greater Manchester Police", OTHER, ("Central Park Headquarters",), style="police")),
    _b("LANPS", "Lancashire Police Staff", PJ, 2, "preston blackpool east_lancs",
       EmployerSpec("Lancashire Constabulary", OTHER, ("Hutton Headquarters",), style="police")),
    _b("CHEPS", "Cheshire Police Staff", PJ, 2, "chester warrington",
       EmployerSpec("Cheshire Constabulary", OTHER, ("Clemonds Hey",), style="police")),
    _b("CUMPS", "Cumbria Police Staff", PJ, 1, "north_cumbria south_cumbria",
       EmployerSpec("Cumbria Constabulary", OTHER, ("Carleton Hall",), style="police")),
    _b("NWPRB", "North West Probation", PJ, 2, "manchester liverpool preston",
       EmployerSpec("Probation Service North West", OTHER, (), style="probation", jobs="probation")),

    # Water, Environment & Transport.
    _b("UUWET", "United Utilities", WET, 3, "warrington manchester liverpool north_cumbria",
       EmployerSpec("United Utilities", OTHER, (
           "Lingley Mere", "Davyhulme Wastewater Treatment Works"), style="water")),
    _b("EANWE", "Environment Agency North West", WET, 1, "warrington preston north_cumbria",
       EmployerSpec("Environment Agency", OTHER, ("Richard Fairclough House", "Lutra House"), style="environment")),
    _b("MTRAN", "Merseytravel", WET, 1, "liverpool wirral",
       EmployerSpec("Merseytravel", OTHER, (
           "Mann Island", "Queensway Tunnel", "Kingsway Tunnel"), style="transport", jobs="transport")),

    # Energy.
    _b("ENWEN", "Electricity North West", EN, 2, "warrington manchester north_cumbria lancaster",
       EmployerSpec("Electricity North West", OTHER, ("Borron Street Depot",), style="energy")),
    _b("NWGAS", "North West Gas Networks", EN, 1, "warrington liverpool manchester",
       EmployerSpec("North West Gas Networks Ltd", OTHER, (), style="energy")),
]

# Site-name templates: {place} is a neighbourhood or town of the branch's areas.
SITE_TEMPLATES: dict[str, list[str]] = {
    "nhs_trust": ["{place} Health Centre", "{place} Community Hospital", "{place} Clinic",
                  "{place} Community Mental Health Team", "{place} Walk-in Centre", "{place} Medical Centre",
                  "{place} Intermediate Care Unit", "{place} Renal Unit", "{place} Sexual Health Clinic",
                  "{place} Treatment Centre", "{place} Diagnostic Centre"],
    "ambulance": ["{place} Ambulance Station", "{place} Patient Transport Base"],
    "council": ["{place} Library", "{place} Leisure Centre", "{place} Depot", "{place} Family Hub",
                "{place} One Stop Shop", "{place} Day Centre", "{place} Household Waste Recycling Centre",
                "{place} Youth Centre", "{place} Children's Centre", "{place} Customer Service Centre",
                "{place} Resource Centre", "{place} Town Hall", "{place} Neighbourhood Office"],
    "school": ["{saint} Primary School", "{saint} Catholic Primary School", "{saint} Church of England Primary School",
               "{saint} Catholic High School", "{place} Primary School", "{place} High School", "{place} Academy",
               "{place} Infant School", "{place} Junior School", "{place} Community Primary School",
               "{place} Nursery School", "{place} Park Primary School"],
    "care_provider": ["{tree} House", "{tree} Lodge", "{place} Court", "{flower} Care Home", "{tree} Grange",
                      "{place} Manor", "{flower} View", "{place} Supported Living Service", "{place} Home Care Office",
                      "The Laurels", "Meadowbank", "Hillside Care Home"],
    "university": ["Main Library", "Students' Union Building", "Sports Centre", "Estates Building",
                   "Student Services Centre", "Innovation Centre", "Science Building", "Arts Building",
                   "Halls of Residence", "Business School", "Health Sciences Building", "Engineering Building",
                   "Law School", "Conference Centre"],
    "police": ["{place} Police Station", "{place} Custody Suite", "Force Contact Centre",
               "{place} Neighbourhood Police Office", "Scientific Support Unit", "Training Centre"],
    "probation": ["{place} Probation Office", "{place} Approved Premises"],
    "water": ["{place} Wastewater Treatment Works", "{place} Water Treatment Works", "{place} Depot",
              "{place} Pumping Station", "Customer Contact Centre", "{place} Laboratory"],
    "environment": ["{place} Area Office", "{place} Depot", "Incident Room", "{place} Flood Defence Yard"],
    "transport": ["{place} Bus Station", "{place} Interchange", "{place} Travel Centre", "Ferry Terminal"],
    "energy": ["{place} Depot", "Network Control Centre", "{place} Service Centre", "{place} Substation Office",
               "Customer Contact Centre"],
    "housing": ["{place} Neighbourhood Office", "{place} Repairs Depot", "{place} Sheltered Housing Scheme",
                "Head Office", "{place} Extra Care Scheme"],
    "charity": ["{place} Advice Centre", "{place} Community Hub", "{place} Drop-in Centre", "Head Office",
                "{place} Hostel", "{place} Project"],
    "leisure": ["{place} Leisure Centre", "{place} Swimming Baths", "{place} Sports Centre", "{place} Golf Course",
                "{place} Park Pavilion"],
    "college": ["{place} Campus", "{place} Centre", "Construction Skills Centre", "Sixth Form Centre",
                "Engineering Centre"],
    "facilities": ["{place} Estates Yard", "Central Linen Services", "Sterile Services Department",
                   "{place} Central Stores", "Central Production Kitchen"],
    "union": ["Students' Union Building", "Union Bar", "Advice Centre", "Sports Hall", "Students' Union Shop"],
}

# Typical people at a site of each style: (smallest, largest) for the main sites, then the rest.
SITE_SIZES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "nhs_trust": ((900, 6000), (30, 350)),
    "ambulance": ((250, 600), (25, 90)),
    "council": ((300, 1500), (12, 150)),
    "school": ((20, 90), (20, 90)),
    "care_provider": ((15, 70), (15, 70)),
    "university": ((150, 900), (40, 400)),
    "police": ((300, 1200), (20, 150)),
}
DEFAULT_SITE_SIZE = ((80, 500), (15, 120))

SAINTS = ["St Anne's", "St Mary's", "St Joseph's", "St Patrick's", "St John's", "St Peter's", "St Paul's",
          "St Teresa's", "St Michael's", "St Bernadette's", "St Margaret's", "St Oswald's", "St Cuthbert's",
          "St Clare's", "St Aidan's", "St Vincent's", "Holy Cross", "Our Lady's", "Christ the King",
          "Sacred Heart", "St Francis of Assisi", "St Mark's", "St Luke's", "St Hilda's"]
TREES = ["Oak", "Beech", "Willow", "Ash", "Elm", "Holly", "Rowan", "Larch", "Cedar", "Maple", "Birch",
         "Hawthorn", "Laurel", "Chestnut", "Sycamore", "Yew", "Alder", "Hazel"]
FLOWERS = ["Bluebell", "Primrose", "Heather", "Lavender", "Foxglove", "Daisy", "Meadowsweet", "Clover",
           "Poppy", "Snowdrop", "Rosemary", "Marigold"]
RIVERS = ["Mersey", "Irwell", "Ribble", "Lune", "Eden", "Wyre", "Douglas", "Tame", "Goyt", "Weaver", "Dee",
          "Kent", "Calder", "Roch", "Croal", "Alt", "Derwent", "Medlock", "Hodder", "Caldew", "Leven", "Irk",
          "Yarrow", "Bollin"]
ADJECTIVES = ["Bright", "Northern", "Rising", "Red Rose", "Coastal", "Harbour", "Summit",
              "Unity", "Compass", "Beacon"]

# Names of generated employers, by what they are.
EMPLOYER_TEMPLATES: dict[str, list[str]] = {
    "care_provider": ["{place} Home Care Ltd", "{tree} Care Group", "{flower} Healthcare Ltd",
                      "{place} Care Partnership", "{river} Care Services", "{place} Supported Living CIC",
                      "{adjective} Care Ltd"],
    "school": ["{river} Learning Trust", "{river} Multi-Academy Trust", "{adjective} Horizons Education Trust",
               "{place} Schools Partnership", "{place} Catholic Academy Trust", "{river} Valley Academy Trust",
               "{place} Co-operative Learning Trust", "{adjective} Academies Trust"],
    "housing": ["{place} Homes", "{river} Housing Association", "{place} Housing Trust", "{adjective} Housing Group"],
    "charity": ["{place} Citizens Advice", "{place} Women's Aid", "{river} Carers Centre", "{place} Age Concern",
                "{place} Foodbank Trust", "{river} Mind"],
    "leisure": ["{town} Leisure Trust", "{town} Active", "{town} Community Leisure"],
    "college": ["{town} College", "{town} and District College", "{town} Sixth Form College"],
}

# Job titles with rough weights, by employer kind; "other" employers by their style or service group.
JOB_TITLES: dict[str, list[tuple[str, int]]] = {
    "nhs_trust": [("Staff Nurse", 14), ("Healthcare Assistant", 14), ("Healthcare Support Worker", 10),
                  ("Porter", 5), ("Domestic Assistant", 6), ("Catering Assistant", 3), ("Ward Clerk", 4),
                  ("Medical Secretary", 5), ("Administrator", 6), ("Receptionist", 3), ("Pharmacy Technician", 2),
                  ("Radiographer", 2), ("Physiotherapist", 2), ("Occupational Therapist", 2), ("Phlebotomist", 2),
                  ("Midwife", 2), ("Nursery Nurse", 1), ("Assistant Practitioner", 2), ("Theatre Support Worker", 2),
                  ("Biomedical Scientist", 1), ("Security Officer", 1), ("Estates Officer", 1), ("Ward Sister", 2),
                  ("Mental Health Support Worker", 2), ("Medical Records Clerk", 1)],
    "ambulance": [("Paramedic", 8), ("Emergency Medical Technician", 6), ("Emergency Medical Dispatcher", 5),
                  ("Call Handler", 5), ("Ambulance Care Assistant", 6), ("Patient Transport Driver", 3),
                  ("Fleet Technician", 1), ("Administrator", 2)],
    "council": [("Social Worker", 6), ("Refuse Collector", 4), ("Librarian", 2), ("Library Assistant", 3),
                ("Customer Service Adviser", 5), ("Care Worker", 6), ("Home Carer", 3),
                ("Environmental Health Officer", 1), ("Housing Officer", 3), ("Cleaner", 4), ("Planning Officer", 1),
                ("Revenues Officer", 2), ("Youth Worker", 2), ("Family Support Worker", 3),
                ("School Crossing Patrol", 1), ("Parks Officer", 1), ("Finance Assistant", 2),
                ("Occupational Therapist", 1), ("Administrator", 6), ("Catering Assistant", 2),
                ("Highways Inspector", 1), ("Business Support Officer", 3), ("Benefits Assessor", 2),
                ("Social Work Assistant", 2), ("Teaching Assistant", 3)],
    "school": [("Teaching Assistant", 18), ("Higher Level Teaching Assistant", 5), ("School Business Manager", 1),
               ("Midday Supervisor", 6), ("Cook", 2), ("Kitchen Assistant", 3), ("Caretaker", 2), ("Cleaner", 4),
               ("Office Administrator", 3), ("SEN Support Assistant", 6), ("Learning Mentor", 2),
               ("Science Technician", 1), ("Attendance Officer", 1), ("Pastoral Support Worker", 2),
               ("Cover Supervisor", 2), ("Nursery Nurse", 2)],
    "care_provider": [("Care Worker", 20), ("Senior Care Worker", 6), ("Support Worker", 10),
                      ("Night Care Assistant", 4), ("Activities Coordinator", 1), ("Domestic", 2), ("Cook", 1),
                      ("Team Leader", 2), ("Care Coordinator", 1), ("Laundry Assistant", 1)],
    "university": [("Library Assistant", 4), ("Administrator", 8), ("Technician", 5), ("Cleaner", 4), ("Porter", 2),
                   ("Security Officer", 2), ("Student Adviser", 3), ("Research Administrator", 2),
                   ("IT Support Officer", 3), ("Catering Assistant", 2), ("Finance Officer", 2), ("Librarian", 2),
                   ("Programme Administrator", 3), ("Laboratory Technician", 2)],
    "police": [("Police Community Support Officer", 6), ("Call Handler", 6), ("Detention Officer", 3),
               ("Investigator", 3), ("Crime Scene Investigator", 2), ("Administrator", 4), ("Analyst", 2),
               ("Control Room Dispatcher", 3), ("Front Counter Officer", 2)],
    "probation": [("Probation Services Officer", 6), ("Probation Officer", 5), ("Case Administrator", 4),
                  ("Approved Premises Residential Worker", 2)],
    "water": [("Network Technician", 4), ("Customer Service Adviser", 5), ("Laboratory Analyst", 2),
              ("Process Operator", 3), ("Administrator", 2), ("Field Technician", 3), ("Engineer", 2)],
    "environment": [("Environment Officer", 5), ("Flood Risk Officer", 3), ("Field Team Operative", 3),
                    ("Administrator", 2), ("Hydrologist", 1)],
    "transport": [("Customer Service Assistant", 5), ("Tunnel Operative", 3), ("Bus Station Assistant", 3),
                  ("Ferry Crew", 2), ("Administrator", 2)],
    "energy": [("Customer Service Adviser", 4), ("Engineer", 4), ("Control Engineer", 2), ("Administrator", 3),
               ("Meter Technician", 2), ("Planner", 2), ("Craftsperson", 3)],
    "housing": [("Housing Officer", 5), ("Housing Support Worker", 4), ("Tenancy Sustainment Officer", 2),
                ("Repairs Operative", 3), ("Administrator", 2), ("Scheme Manager", 2)],
    "charity": [("Advice Worker", 5), ("Support Worker", 5), ("Project Worker", 3), ("Administrator", 2),
                ("Volunteer Coordinator", 1)],
    "leisure": [("Leisure Assistant", 5), ("Lifeguard", 4), ("Gym Instructor", 2), ("Receptionist", 2),
                ("Duty Manager", 1)],
    "college": [("Learning Support Assistant", 6), ("Administrator", 4), ("Technician", 3), ("Librarian", 1),
                ("Student Services Adviser", 2), ("Exams Officer", 1)],
    "facilities": [("Porter", 5), ("Domestic Assistant", 6), ("Catering Assistant", 4), ("Estates Officer", 2),
                   ("Linen Services Operative", 2), ("Sterile Services Technician", 2)],
    "union": [("Advice Worker", 3), ("Bar Staff", 3), ("Administrator", 2), ("Events Assistant", 2)],
}

# Name pools, so the people look like the North West's public-service workforce. Each group:
# (women's first names, men's first names, surnames) and its share of the region.
NAME_GROUPS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "british_irish": (
        ["Sarah", "Emma", "Laura", "Rachel", "Claire", "Lisa", "Karen", "Nicola", "Michelle", "Joanne", "Helen",
         "Amanda", "Julie", "Donna", "Gemma", "Kelly", "Lauren", "Jessica", "Sophie", "Hannah", "Chloe", "Amy",
         "Rebecca", "Katie", "Jade", "Natalie", "Stacey", "Leanne", "Dawn", "Tracey", "Susan", "Linda",
         "Margaret", "Patricia", "Elaine", "Jacqueline", "Carol", "Denise", "Pauline", "Lorraine", "Angela",
         "Deborah", "Paula", "Catherine", "Kathryn", "Siobhan", "Ciara", "Niamh", "Bernadette", "Maureen",
         "Sandra", "Janet", "Jennifer", "Alison", "Victoria", "Charlotte", "Megan", "Ellie", "Lucy", "Olivia",
         "Grace", "Holly", "Zoe", "Kirsty", "Jodie", "Hayley", "Samantha", "Louise", "Kerry", "Danielle",
         "Abigail", "Bethany", "Georgia", "Paige", "Courtney", "Shannon", "Jasmine", "Aimee", "Faye", "Rosie",
         "Sian", "Mary", "Anne", "Jean", "Sheila", "Brenda", "Irene", "Eileen", "Lesley", "Wendy", "Gillian",
         "Yvonne", "Marie", "Toni", "Kim", "Jo", "Beverley", "Sonia", "Marcia", "Claudette"],
        ["David", "Paul", "Mark", "John", "Andrew", "Michael", "Steven", "Peter", "Ian", "Gary", "Darren", "Lee",
         "Craig", "Wayne", "Carl", "Neil", "Stephen", "Robert", "James", "Christopher", "Daniel", "Matthew",
         "Thomas", "Ryan", "Liam", "Jamie", "Adam", "Callum", "Jordan", "Connor", "Kieran", "Sean", "Kevin",
         "Anthony", "Brian", "Keith", "Graham", "Martin", "Richard", "Simon", "Jason", "Dean", "Tony", "Phil",
         "Barry", "Terry", "Colin", "Jack", "Harry", "Joe", "Sam", "Luke", "Ben", "Tom", "Owen", "Declan",
         "Patrick", "Ciaran", "Delroy", "Winston", "Leroy", "Errol"],
        ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
         "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
         "Lewis", "Harris", "Clarke", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris",
         "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips",
         "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
         "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards",
         "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Wilkinson", "Foster", "Chapman", "Powell", "Webb",
         "Rogers", "Gray", "Mason", "Hunt", "Holmes", "Mills", "Owen", "Barnes", "Knight", "Lloyd", "Butler",
         "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey", "Graham", "Pearson",
         "Fletcher", "Walsh", "Gibson", "Howard", "Andrews", "Stewart", "Elliott", "Reynolds", "Saunders",
         "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence", "Cole", "Atkinson", "Bradley",
         "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien", "Watts", "Rose", "Booth", "Perry", "Ryan",
         "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes", "Hart", "Hudson", "Newman", "Barrett",
         "Webster", "Hunter", "Gregory", "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons",
         "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson", "Newton", "Oliver",
         "Reed", "Kennedy", "Williamson", "Bird", "Gardner", "Dean", "Lane", "Cooke", "Bates", "Henderson",
         "Parry", "Burgess", "Bishop", "Walton", "Burns", "Nicholson", "Shepherd", "Ross", "Cross", "Long",
         "Freeman", "Warren", "Nicholls", "Hamilton", "Byrne", "Sutton", "McDonald", "Yates", "Hodgson",
         "Robson", "Curtis", "Hopkins", "O'Connor", "Harper", "Coleman", "Watkins", "Moss", "McCarthy",
         "Chambers", "O'Neill", "Griffin", "Sharp", "Hardy", "Wheeler", "Potter", "Osborne", "Johnston",
         "Gordon", "Doyle", "Wallace", "George", "Jordan", "Hutchinson", "Quinn", "Molyneux", "Rimmer",
         "Ashcroft", "Aspinall", "Crompton", "Heyes", "Holt", "Kershaw", "Pilkington", "Ormerod", "Entwistle",
         "Halliwell", "Sharples", "Whittle", "Duckworth", "Greenhalgh", "Hargreaves", "Leatherbarrow",
         "Fitzgerald", "Flanagan", "Gallagher", "Maguire", "McCann", "Keegan", "Donnelly", "Devine", "Campbell",
         "Henry", "Gayle", "Fazakerley", "Tyrer", "Halsall", "Swift", "Kenyon", "Fairclough"],
    ),
    "south_asian": (
        ["Aisha", "Fatima", "Ayesha", "Zainab", "Sana", "Nadia", "Saima", "Rukhsana", "Shazia", "Amina", "Yasmin",
         "Nazia", "Farzana", "Priya", "Anjali", "Sunita", "Meera", "Kiran", "Rekha", "Parveen", "Shabana", "Hina",
         "Maryam", "Asma", "Harpreet", "Jaspreet", "Nusrat", "Rubina"],
        ["Mohammed", "Muhammad", "Ali", "Imran", "Tariq", "Asif", "Zubair", "Faisal", "Hassan", "Usman", "Bilal",
         "Amir", "Sajid", "Rizwan", "Raj", "Sanjay", "Vikram", "Arjun", "Amit", "Gurpreet", "Jaswinder", "Kamran",
         "Shahid", "Nadeem"],
        ["Khan", "Patel", "Hussain", "Ahmed", "Ali", "Akhtar", "Begum", "Iqbal", "Mahmood", "Rahman", "Shah",
         "Malik", "Chaudhry", "Raza", "Aslam", "Bibi", "Sharma", "Singh", "Kaur", "Mistry", "Parmar", "Chauhan",
         "Islam", "Miah", "Uddin", "Qureshi", "Butt", "Mirza"],
    ),
    "east_european": (
        ["Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Anna", "Monika", "Ewa", "Marta", "Aleksandra",
         "Justyna", "Dorota", "Beata", "Ioana", "Elena", "Andreea", "Simona", "Daiva", "Ilona"],
        ["Piotr", "Tomasz", "Krzysztof", "Pawel", "Marcin", "Lukasz", "Michal", "Adrian", "Andrei", "Mihai",
         "Jonas", "Darius"],
        ["Nowak", "Kowalski", "Wisniewska", "Wojcik", "Kaminski", "Lewandowska", "Zielinski", "Szymanska",
         "Dabrowski", "Kozlowska", "Mazur", "Krawczyk", "Popescu", "Ionescu", "Constantin", "Stan", "Kazlauskas",
         "Petrauskiene"],
    ),
    "west_african": (
        ["Chioma", "Ngozi", "Adaeze", "Funmilayo", "Folake", "Abimbola", "Blessing", "Precious", "Abena", "Akosua",
         "Efua", "Yetunde", "Bukola", "Temitope", "Oluwaseun", "Adwoa"],
        ["Chinedu", "Emeka", "Oluwaseun", "Tunde", "Adebayo", "Kwame", "Kofi", "Kwabena", "Yaw", "Obinna",
         "Femi", "Segun"],
        ["Okafor", "Okonkwo", "Adeyemi", "Oyelaran", "Adebayo", "Olawale", "Mensah", "Owusu", "Boateng",
         "Asante", "Osei", "Nwosu", "Eze", "Obi", "Babatunde", "Agyeman", "Appiah", "Adeleke"],
    ),
    "filipino": (
        ["Maria", "Cristina", "Rowena", "Marites", "Jocelyn", "Rhea", "Lourdes", "Analyn", "Rosario", "Jennelyn",
         "Maricel", "Divina"],
        ["Jose", "Ramon", "Rodel", "Arnel", "Ronaldo", "Jericho", "Ariel"],
        ["Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Dela Cruz", "Villanueva", "Ramos", "Aquino",
         "Castillo", "Fernandez", "Navarro", "Domingo"],
    ),
    "south_indian": (
        ["Anju", "Jincy", "Sheeba", "Reshma", "Divya", "Lincy", "Smitha", "Bincy", "Deepa", "Sini", "Reena",
         "Soumya"],
        ["Jijo", "Binu", "Shibu", "Sajan", "Anish", "Jobin", "Sreejith", "Vinod"],
        ["Thomas", "George", "Joseph", "Varghese", "Mathew", "Kurian", "Nair", "Menon", "Pillai", "Jacob",
         "Abraham", "Philip", "Cherian", "Antony"],
    ),
    "chinese": (
        ["Mei", "Xiao", "Ying", "Wen", "Hui", "Jing", "Yan", "Lin"],
        ["Wei", "Jun", "Hao", "Ming", "Lei", "Kai"],
        ["Chen", "Wong", "Li", "Zhang", "Wang", "Liu", "Lam", "Cheung", "Chan", "Ho", "Yeung", "Ng"],
    ),
    "somali_arab": (
        ["Hodan", "Amal", "Sahra", "Fadumo", "Hawa", "Noor", "Layla", "Samira", "Huda", "Ikram"],
        ["Abdi", "Abdullahi", "Omar", "Yusuf", "Ahmed", "Khalid", "Ibrahim", "Mustafa"],
        ["Mohamed", "Abdi", "Hassan", "Farah", "Warsame", "Omar", "Ali", "Yusuf", "Ibrahim", "Saleh", "Al-Khatib",
         "Nasser"],
    ),
    "southern_european": (
        ["Ana", "Ines", "Sofia", "Lucia", "Carla", "Giulia", "Eleni"],
        ["Joao", "Carlos", "Miguel", "Marco", "Luca", "Nikos"],
        ["Silva", "Ferreira", "Pereira", "Rodrigues", "Gomes", "Martinez", "Lopez", "Rossi", "Esposito",
         "Papadopoulos"],
    ),
}
NAME_GROUP_SHARES = {
    "british_irish": 73, "south_asian": 9, "east_european": 4, "west_african": 4, "filipino": 2,
    "south_indian": 3, "chinese": 1.5, "somali_arab": 1.5, "southern_european": 2,
}
# Health recruits internationally: these groups are commoner in Health branches.
HEALTH_NAME_BOOST = {"west_african": 2.0, "filipino": 2.5, "south_indian": 2.5}

# Share of women by service group (the public-service workforce is mostly women).
WOMEN_SHARE = {H: 0.80, LG: 0.72, ED: 0.86, HE: 0.62, COM: 0.78, PJ: 0.60, WET: 0.35, EN: 0.30}

TAGS = ["NHS pay 2026", "Holiday pay", "Safety rep interest", "Bring services in-house", "Schools pay 2026"]
