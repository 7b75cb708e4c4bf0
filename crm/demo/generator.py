"""Generate a synthetic region as plain rows, deterministically from a seed (no database here).

`RegionPlan.generate(members, seed, today)` lays out branches, employers, workplaces and users;
`plan.batches()` then yields the people in chunks: contact rows with their consents, activist
roles, self-organised groups and tags. References between rows are list indexes into the plan
(branch, employer, workplace, tag) and 1-based contact numbers; the service maps them to ids.
The same seed and day give the same region, row for row.
"""
from __future__ import annotations

import random
import re
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import accumulate
from typing import Iterator

from ..auth.roles import Role
from ..vocabulary import (
    SERVICE_GROUPS,
    ActivistRoleKind,
    Channel,
    ConsentStatus,
    ContactStatus,
    EmployerKind,
    PaymentMethod,
    SelfOrganisedGroup,
)
from . import data

BATCH_SIZE = 5000
EMAIL_DOMAIN = "example.org"
WORDING_VERSION = "2025-01"

# Shares of contacts.
MEMBER_SHARE, LAPSED_SHARE = 0.88, 0.07  # the rest are supporters
DOCAS_SHARE = 0.60
RECENT_JOINER_SHARE = 0.015  # joined in the last 60 days
DOCAS_LEAVER_SHARE = 0.01  # of DOCAS members: deduction stopped in the last 45 days
NO_EMAIL, NO_MOBILE, NO_WORKPLACE, NO_JOB_TITLE = 0.08, 0.10, 0.10, 0.15
SMS_CONSENT, EMAIL_CONSENT = 0.75, 0.80  # of those with a mobile / an email
SMS_WITHDRAWN, EMAIL_WITHDRAWN = 0.05, 0.04

# Current activist roles per member (a steward for every 50 members); ended ones come on top.
ROLE_RATES: dict[ActivistRoleKind, float] = {
    ActivistRoleKind.STEWARD: 0.020,
    ActivistRoleKind.HEALTH_AND_SAFETY: 0.008,
    ActivistRoleKind.LEARNING: 0.004,
    ActivistRoleKind.EQUALITY: 0.003,
    ActivistRoleKind.ENVIRONMENTAL: 0.002,
    ActivistRoleKind.ACTIVE_MEMBER: 0.012,
    ActivistRoleKind.MIGRANT_WORKER_STEWARD: 0.001,
    ActivistRoleKind.SCHOOLS_CHAMPION: 0.008,  # Education branches only
}
ENDED_ROLE_MEMBER, ENDED_ROLE_LAPSED = 0.005, 0.03
# One per branch, most branches: these are branch officer posts.
BRANCH_POSTS = {ActivistRoleKind.BIRO: 0.8, ActivistRoleKind.COMMUNICATIONS: 0.9}
SOG_SHARE = 0.07

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, sep: str = "") -> str:
    """Lower-case ASCII letters and digits joined by sep: "Alder Hey Children's" -> "alder-hey-childrens"."""
    return _SLUG.sub(sep, text.lower().replace("'", "")).strip(sep)


@dataclass
class BranchPlan:
    code: str
    name: str
    service_group: str
    size: float
    areas: tuple[str, ...]
    employers: list[int] = field(default_factory=list)


@dataclass
class EmployerPlan:
    name: str
    kind: EmployerKind
    style: str
    jobs: str
    branches: list[int]
    chief_executive_name: str | None = None
    chief_executive_email: str | None = None
    workplaces: list[int] = field(default_factory=list)
    main: bool = False  # the branch's own employer (a trust, a council), not a generated extra
    area: str | None = None  # a generated employer's home area: its name and sites are there
    sites: list[str] = field(default_factory=list)  # known site names, before generated ones


@dataclass
class WorkplacePlan:
    employer: int
    name: str
    postcode: str
    headcount: int | None
    size: int  # people there (known or not), for placing members


@dataclass
class UserPlan:
    local_part: str
    name: str
    role: Role
    branch_codes: tuple[str, ...] = ()


@dataclass
class Batch:
    """One chunk of people and the rows hanging off them (indexes, not ids)."""

    contacts: list[dict]
    consents: list[dict]
    roles: list[dict]
    sogs: list[dict]
    tags: list[dict]


DEMO_USERS = [
    UserPlan("admin", "Robin Admin", Role.ADMIN),
    UserPlan("organiser", "Olu Organiser", Role.ORGANISER),
    UserPlan("campaigns", "Cam Campaigns", Role.CAMPAIGN_LEAD),
    UserPlan("secretary", "Sam Secretary", Role.BRANCH_OFFICER, ("LUHFT", "ALDHY")),
    UserPlan("caller", "Cal Caller", Role.CALLER, ("LUHFT",)),
    UserPlan("secretary.livcc", "Lena Secretary", Role.BRANCH_OFFICER, ("LIVCC",)),
    UserPlan("caller.livcc", "Colin Caller", Role.CALLER, ("LIVCC",)),
    UserPlan("secretary.mancc", "Mo Secretary", Role.BRANCH_OFFICER, ("MANCC",)),
    UserPlan("caller.mancc", "Cath Caller", Role.CALLER, ("MANCC",)),
    UserPlan("secretary.lived", "Bev Secretary", Role.BRANCH_OFFICER, ("LIVED", "MERCM")),
]


class RegionPlan:
    """The layout of a synthetic region and a generator of its people."""

    def __init__(self, members: int, seed: int, today: date):
        self.members = members
        self.seed = seed
        self.today = today
        self.service_groups = list(SERVICE_GROUPS)
        self.branches: list[BranchPlan] = []
        self.employers: list[EmployerPlan] = []
        self.workplaces: list[WorkplacePlan] = []
        self.users = list(DEMO_USERS)
        self.tags = list(data.TAGS)
        self._employer_names: set[str] = set()

    # ---- layout -------------------------------------------------------------------------

    @classmethod
    def generate(cls, members: int, seed: int, today: date) -> "RegionPlan":
        plan = cls(members, seed, today)
        plan._layout(random.Random(seed))
        return plan

    def _layout(self, rng: random.Random) -> None:
        for spec in data.BRANCHES:
            self.branches.append(BranchPlan(spec.code, spec.name, spec.service_group, spec.size, spec.areas))
        for b, spec in enumerate(data.BRANCHES):
            for e in spec.employers:
                self._add_employer(b, e.name, e.kind, e.style or e.kind.value, e.jobs, e.sites, main=True)
            self._add_extra_employers(rng, b)
        self._share_employers(rng)
        for e, employer in enumerate(self.employers):
            self._add_workplaces(rng, e, employer)
            if employer.kind in (EmployerKind.NHS_TRUST, EmployerKind.COUNCIL):
                employer.chief_executive_name = self._person_name(rng)
                domain = slug(re.sub(r"\b(NHS|FT|Trust)\b", "", employer.name), "-")
                employer.chief_executive_email = f"chief.executive@{domain}.example.org"
        assert all(branch.employers for branch in self.branches)

    def _fill(self, rng: random.Random, template: str, b: int, area: str | None = None) -> str:
        """A name from a template, with places from one of the branch's areas (or the one given)."""
        area = area or rng.choice(self.branches[b].areas)
        town = data.AREAS[area][0][0]
        place = rng.choice(data.AREAS[area][0])
        return template.format(
            place=place, town=town, saint=rng.choice(data.SAINTS), tree=rng.choice(data.TREES),
            flower=rng.choice(data.FLOWERS), river=rng.choice(data.RIVERS), adjective=rng.choice(data.ADJECTIVES),
        )

    def _add_employer(self, b, name, kind, style, jobs, sites=(), main=False, area=None) -> int:
        index = len(self.employers)
        self._employer_names.add(name)
        employer = EmployerPlan(name=name, kind=kind, style=style, jobs=jobs or style, branches=[b],
                                main=main, sites=list(sites), area=area)
        self.employers.append(employer)
        self.branches[b].employers.append(index)
        return index

    def _generated_employer(self, rng, b, template_key, kind, style=None, name=None) -> int:
        for _ in range(50):
            area = rng.choice(self.branches[b].areas)
            candidate = name or self._fill(rng, rng.choice(data.EMPLOYER_TEMPLATES[template_key]), b, area)
            if candidate not in self._employer_names:
                return self._add_employer(b, candidate, kind, style or template_key, None, area=area)
            name = None
        raise RuntimeError("ran out of employer names")  # pragma: no cover

    def _add_extra_employers(self, rng: random.Random, b: int) -> None:
        branch = self.branches[b]
        group = branch.service_group
        CARE, SCHOOL, OTHER = EmployerKind.CARE_PROVIDER, EmployerKind.SCHOOL, EmployerKind.OTHER
        if group == "Health":
            if rng.random() < 0.35:
                self._generated_employer(rng, b, "facilities", OTHER, name=f"{branch.code} Facilities Ltd")
            if rng.random() < 0.25:
                self._generated_employer(rng, b, "care_provider", CARE)
        elif group == "Local Government":
            for _ in range(rng.randint(1, 3)):
                self._generated_employer(rng, b, "care_provider", CARE)
            if rng.random() < 0.6:
                self._generated_employer(rng, b, rng.choice(["leisure", "housing"]), OTHER)
            if rng.random() < 0.4:
                self._generated_employer(rng, b, "school", SCHOOL)
        elif group == "Education":
            for _ in range(rng.randint(4, 7)):
                self._generated_employer(rng, b, "school", SCHOOL)
            self._generated_employer(rng, b, "college", OTHER)
        elif group == "Higher Education":
            if rng.random() < 0.4:
                self._generated_employer(rng, b, "union", OTHER, name=f"{branch.name} Students' Union")
        elif group == "Community":
            for _ in range(rng.randint(4, 7)):
                key = rng.choices(["care_provider", "housing", "charity"], weights=[5, 3, 2])[0]
                self._generated_employer(rng, b, key, CARE if key == "care_provider" else OTHER)

    def _share_employers(self, rng: random.Random) -> None:
        """Some care providers work across a council's area and a community branch's: both cover them."""
        community = [b for b, br in enumerate(self.branches) if br.service_group == "Community"]
        for e, employer in enumerate(self.employers):
            if employer.kind != EmployerKind.CARE_PROVIDER or rng.random() >= 0.25:
                continue
            home = self.branches[employer.branches[0]]
            options = [b for b in community
                       if b != employer.branches[0] and set(self.branches[b].areas) & set(home.areas)]
            if options:
                other = rng.choice(options)
                employer.branches.append(other)
                self.branches[other].employers.append(e)

    def _add_workplaces(self, rng: random.Random, e: int, employer: EmployerPlan) -> None:
        b = employer.branches[0]
        big = employer.main and employer.kind in (EmployerKind.NHS_TRUST, EmployerKind.COUNCIL)
        if big or employer.kind == EmployerKind.UNIVERSITY or (employer.main and employer.style == "police"):
            target = rng.randint(5, 12)
        elif employer.kind == EmployerKind.SCHOOL:
            target = rng.randint(2, 8)
        else:
            target = rng.randint(2, 6)
        areas = (employer.area,) if employer.area else self.branches[b].areas
        # Known sites are in the branch's first area; generated ones anywhere it covers.
        sites: list[tuple[str, str]] = [(name, areas[0]) for name in employer.sites]
        seen = set(employer.sites)
        templates = data.SITE_TEMPLATES.get(employer.style) or data.SITE_TEMPLATES["charity"]
        attempts = 0
        while len(sites) < target and attempts < 200:
            attempts += 1
            area = rng.choice(areas)
            name = self._fill(rng, rng.choice(templates), b, area)
            if name not in seen:
                seen.add(name)
                sites.append((name, area))
        main_sizes, other_sizes = data.SITE_SIZES.get(employer.style, data.DEFAULT_SITE_SIZE)
        for i, (name, area) in enumerate(sites):
            lo, hi = main_sizes if (i < len(employer.sites) or i == 0) else other_sizes
            size = rng.randint(lo, hi)
            index = len(self.workplaces)
            self.workplaces.append(WorkplacePlan(
                employer=e, name=name, postcode=_postcode(rng, rng.choice(data.AREAS[area][1])),
                headcount=size if rng.random() < 0.6 else None, size=size,
            ))
            employer.workplaces.append(index)

    def _person_name(self, rng: random.Random) -> str:
        key = rng.choices(list(data.NAME_GROUP_SHARES), weights=list(data.NAME_GROUP_SHARES.values()))[0]
        women, men, surnames = data.NAME_GROUPS[key]
        return f"{rng.choice(women + men)} {rng.choice(surnames)}"

    # ---- people -------------------------------------------------------------------------

    def batches(self, size: int = BATCH_SIZE) -> Iterator[Batch]:
        """The region's contacts in chunks, each with its consents, roles, groups and tags."""
        return _PeopleGenerator(self, size).run()


def _postcode(rng: random.Random, district: str) -> str:
    letters = data.INWARD_LETTERS
    return f"{district} {rng.randrange(10)}{letters[rng.randrange(20)]}{letters[rng.randrange(20)]}"


class _PeopleGenerator:
    """The hot loop: kept to plain lists, bisect and random() so 200,000 people take seconds."""

    def __init__(self, plan: RegionPlan, batch_size: int):
        self.plan = plan
        self.batch_size = batch_size
        self.rng = random.Random(plan.seed * 1_000_003 + 17)
        self.today = plan.today
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.education = {b for b, br in enumerate(plan.branches) if br.service_group == "Education"}

    def run(self) -> Iterator[Batch]:
        plan, rng, today, now = self.plan, self.rng, self.today, self.now
        rnd = rng.random
        n = plan.members
        branches = plan.branches

        # Who is what: statuses, then unique membership numbers for members and lapsed members.
        statuses = []
        for _ in range(n):
            u = rnd()
            statuses.append(ContactStatus.MEMBER if u < MEMBER_SHARE
                            else ContactStatus.LAPSED if u < MEMBER_SHARE + LAPSED_SHARE
                            else ContactStatus.SUPPORTER)
        numbered = sum(1 for s in statuses if s != ContactStatus.SUPPORTER)
        numbers = iter(rng.sample(range(10_000_000, 100_000_000), numbered))

        branch_cum = list(accumulate(br.size for br in branches))
        branch_total = branch_cum[-1]
        # Per branch: (employer, workplace) pairs weighted by the people at each site.
        sites = []
        for br in branches:
            pairs, weights = [], []
            for e in br.employers:
                for w in plan.employers[e].workplaces:
                    pairs.append((e, w))
                    weights.append(plan.workplaces[w].size)
            cum = list(accumulate(weights))
            sites.append((pairs, cum, cum[-1]))
        districts = [[d for area in br.areas for d in data.AREAS[area][1]] for br in branches]
        group_of = [br.service_group for br in branches]
        name_tables = {}
        for group in plan.service_groups:
            keys = list(data.NAME_GROUPS)
            shares = [data.NAME_GROUP_SHARES[k] * (data.HEALTH_NAME_BOOST.get(k, 1.0) if group == "Health" else 1.0)
                      for k in keys]
            cum = list(accumulate(shares))
            name_tables[group] = ([data.NAME_GROUPS[k] for k in keys], [c / cum[-1] for c in cum], keys)
        british = data.NAME_GROUPS["british_irish"][2]
        women_share = data.WOMEN_SHARE
        jobs = {}
        for key, titles in data.JOB_TITLES.items():
            jobs[key] = ([t for t, _ in titles], list(accumulate(w for _, w in titles)))
        job_key = [employer.jobs if employer.jobs in jobs else employer.kind.value for employer in plan.employers]
        job_key = [k if k in jobs else "charity" for k in job_key]
        slugs: dict[str, str] = {}
        email_counts: dict[str, int] = {}
        mobiles_used: set[str] = set()
        prefixes = data.MOBILE_PREFIXES
        n_prefixes = len(prefixes)
        letters = data.INWARD_LETTERS
        role_kinds = [k for k in ROLE_RATES if k != ActivistRoleKind.SCHOOLS_CHAMPION]
        role_cum = list(accumulate(ROLE_RATES[k] for k in role_kinds))
        role_cum_edu = list(accumulate(ROLE_RATES[k] for k in role_kinds + [ActivistRoleKind.SCHOOLS_CHAMPION]))
        role_kinds_edu = role_kinds + [ActivistRoleKind.SCHOOLS_CHAMPION]
        all_kinds = list(ActivistRoleKind)
        tag_health, tag_holiday, tag_safety, tag_inhouse, tag_schools = range(5)
        sog_other = [SelfOrganisedGroup.YOUNG, SelfOrganisedGroup.LGBT, SelfOrganisedGroup.DISABLED,
                     SelfOrganisedGroup.BLACK]
        kinds = [employer.kind for employer in plan.employers]
        day = timedelta(days=1)

        self.branch_members: list[list[int]] = [[] for _ in branches]
        self.role_counts = {k: 0 for k in ActivistRoleKind}
        docas_leavers = recent_joiners = 0
        member_docas: list[dict] = []
        member_rows: list[dict] = []

        contacts, consents, roles, sogs, tags = [], [], [], [], []
        for i in range(n):
            cid = i + 1
            status = statuses[i]
            b = bisect(branch_cum, rnd() * branch_total)
            group = group_of[b]
            tables, cum, keys = name_tables[group]
            g = bisect(cum, rnd())
            women, men, surnames = tables[g]
            female = rnd() < women_share[group]
            firsts = women if female else men
            first = firsts[int(rnd() * len(firsts))]
            pool = british if rnd() < 0.08 else surnames
            last = pool[int(rnd() * len(pool))]

            email = None
            if rnd() >= NO_EMAIL:
                base = slugs.get(first + "|" + last)
                if base is None:
                    base = slugs[first + "|" + last] = f"{slug(first)}.{slug(last)}"
                k = email_counts.get(base, 0) + 1
                email_counts[base] = k
                email = f"{base}{k}@{EMAIL_DOMAIN}"
            mobile = None
            if rnd() >= NO_MOBILE:
                while True:
                    mobile = f"+44{prefixes[int(rnd() * n_prefixes)]}{int(rnd() * 1_000_000):06d}"
                    if mobile not in mobiles_used:
                        mobiles_used.add(mobile)
                        break
            dl = districts[b]
            r = int(rnd() * 4000)
            postcode = f"{dl[int(rnd() * len(dl))]} {r % 10}{letters[(r // 10) % 20]}{letters[r // 200]}"

            pairs, site_cum, site_total = sites[b]
            e, w = pairs[bisect(site_cum, rnd() * site_total)]
            job_title = None
            joined = left = docas_ended = payment = number = None
            if status == ContactStatus.SUPPORTER:
                w = None
                if rnd() >= 0.4:
                    e = None
            else:
                number = str(next(numbers))
                if rnd() < NO_WORKPLACE:
                    w = None
                if rnd() >= NO_JOB_TITLE:
                    titles, tcum = jobs[job_key[e]]
                    job_title = titles[bisect(tcum, rnd() * tcum[-1])]
                payment = PaymentMethod.DOCAS if rnd() < DOCAS_SHARE else PaymentMethod.DIRECT_DEBIT
                if status == ContactStatus.MEMBER:
                    if rnd() < RECENT_JOINER_SHARE:
                        joined = today - int(rnd() * 60) * day
                        recent_joiners += 1
                    else:
                        joined = today - int(rng.triangular(60, 15 * 365, 60)) * day
                        if payment == PaymentMethod.DOCAS and rnd() < DOCAS_LEAVER_SHARE:
                            docas_ended = today - int(rnd() * 45) * day
                            docas_leavers += 1
                else:
                    joined = today - int(400 + rnd() * (15 * 365 - 400)) * day
                    membership_days = (today - joined).days
                    left = today - int(1 + rnd() * min(5 * 365, membership_days - 200)) * day

            row = {
                "id": cid, "membership_number": number, "first_name": first, "last_name": last,
                "email": email, "mobile": mobile, "postcode": postcode, "branch_id": b, "employer_id": e,
                "workplace_id": w, "job_title": job_title, "status": status, "payment_method": payment,
                "joined_on": joined, "left_on": left, "docas_ended_on": docas_ended,
                "created_at": now, "updated_at": now,
            }
            contacts.append(row)

            # Consent to SMS and email, as recorded on the membership form or a campaign sign-up.
            since = joined or today - int(1 + rnd() * 900) * day
            for channel, present, share, withdrawn in (
                (Channel.SMS, mobile, SMS_CONSENT, SMS_WITHDRAWN),
                (Channel.EMAIL, email, EMAIL_CONSENT, EMAIL_WITHDRAWN),
            ):
                if present and rnd() < share:
                    out = rnd() < withdrawn
                    when = since + int(rnd() * (today - since).days) * day if out else since
                    source = ("campaign sign-up" if status == ContactStatus.SUPPORTER or rnd() < 0.2
                              else "membership form")
                    consents.append({
                        "contact_id": cid, "channel": channel,
                        "status": ConsentStatus.WITHDRAWN if out else ConsentStatus.GRANTED,
                        "source": source, "wording_version": WORDING_VERSION,
                        "recorded_at": min(now, datetime.combine(when, time(9 + int(rnd() * 9), int(rnd() * 60)),
                                                                 tzinfo=timezone.utc)),
                    })

            if status == ContactStatus.MEMBER:
                self.branch_members[b].append(cid)
                member_rows.append(row)
                if payment == PaymentMethod.DOCAS and docas_ended is None:
                    member_docas.append(row)
                u = rnd()
                edu = b in self.education
                rc = role_cum_edu if edu else role_cum
                if u < rc[-1]:
                    kind = (role_kinds_edu if edu else role_kinds)[bisect(rc, u)]
                    roles.append(self._role(cid, kind, b, joined, ended=False))
                if rnd() < ENDED_ROLE_MEMBER:
                    roles.append(self._role(cid, self._ended_kind(b), b, joined, ended=True))
            elif status == ContactStatus.LAPSED and rnd() < ENDED_ROLE_LAPSED:
                roles.append(self._role(cid, self._ended_kind(b), b, joined, ended=True, until=left))

            # Self-organised groups: a small share, by the member's own account.
            if status != ContactStatus.SUPPORTER and rnd() < SOG_SHARE:
                if female and rnd() < 0.5:
                    grp = SelfOrganisedGroup.WOMEN
                elif keys[g] != "british_irish" and rnd() < 0.6:
                    grp = SelfOrganisedGroup.BLACK
                else:
                    grp = sog_other[int(rnd() * len(sog_other))]
                sogs.append({"contact_id": cid, "group": grp, "recorded_at": now})

            # Campaign tags.
            t = rnd()
            if group == "Health":
                if t < 0.12:
                    tags.append({"contact_id": cid, "tag_id": tag_health})
                elif t < 0.15:
                    tags.append({"contact_id": cid, "tag_id": tag_inhouse})
            elif e is not None and kinds[e] in (EmployerKind.CARE_PROVIDER, EmployerKind.SCHOOL) and t < 0.08:
                tags.append({"contact_id": cid, "tag_id": tag_holiday})
            elif group == "Education" and t < 0.14:
                tags.append({"contact_id": cid, "tag_id": tag_schools})
            if status == ContactStatus.MEMBER and rnd() < 0.008:
                tags.append({"contact_id": cid, "tag_id": tag_safety})

            if len(contacts) == self.batch_size and cid < n:
                yield Batch(contacts, consents, roles, sogs, tags)
                contacts, consents, roles, sogs, tags = [], [], [], [], []
                member_docas, member_rows = [], []

        # The last batch is still ours to change: make sure each call list has someone on it.
        if not docas_leavers and member_docas:
            member_docas[-1]["docas_ended_on"] = today - 3 * day
            if member_docas[-1]["joined_on"] >= today - 3 * day:
                member_docas[-1]["joined_on"] = today - 400 * day
        if not recent_joiners and member_rows:
            candidates = [row for row in member_rows if row["docas_ended_on"] is None] or member_rows
            candidates[0]["joined_on"] = today - 5 * day
            candidates[0]["docas_ended_on"] = None
        roles.extend(self._branch_posts())
        roles.extend(self._missing_kinds(all_kinds))
        yield Batch(contacts, consents, roles, sogs, tags)

    def _ended_kind(self, b: int) -> ActivistRoleKind:
        kinds = [k for k in ROLE_RATES if k != ActivistRoleKind.SCHOOLS_CHAMPION or b in self.education]
        return self.rng.choices(kinds, weights=[ROLE_RATES[k] for k in kinds])[0]

    def _role(self, cid: int, kind: ActivistRoleKind, b: int, joined: date | None, ended: bool,
              until: date | None = None) -> dict:
        rnd, today, day = self.rng.random, self.today, timedelta(days=1)
        self.role_counts[kind] += 0 if ended else 1
        start_from = joined or today - 365 * day
        until = until or today
        span = max(0, (until - start_from).days)
        if ended:
            started = start_from + int(rnd() * span * 0.7) * day
            ended_on = min(until, started + int(90 + rnd() * max(1, (until - started).days - 90)) * day)
            ended_on = max(ended_on, started)
        else:
            started = start_from + int(rnd() * span) * day
            ended_on = None
        return {"contact_id": cid, "role": kind, "branch_id": b, "started_on": started, "ended_on": ended_on,
                "created_at": self.now, "updated_at": self.now}

    def _branch_posts(self) -> list[dict]:
        rows = []
        for b, members in enumerate(self.branch_members):
            for kind, share in BRANCH_POSTS.items():
                if members and self.rng.random() < share:
                    cid = members[int(self.rng.random() * len(members))]
                    rows.append(self._role(cid, kind, b, self.today - 3 * 365 * timedelta(days=1), ended=False))
        return rows

    def _missing_kinds(self, all_kinds) -> list[dict]:
        """Small regions still show every kind of activist role (schools champions in Education)."""
        rows = []
        for kind in all_kinds:
            if self.role_counts[kind]:
                continue
            eligible = [b for b, members in enumerate(self.branch_members) if members and (
                kind != ActivistRoleKind.SCHOOLS_CHAMPION or b in self.education)]
            if not eligible:
                continue
            b = max(eligible, key=lambda x: len(self.branch_members[x]))
            members = self.branch_members[b]
            cid = members[int(self.rng.random() * len(members))]
            rows.append(self._role(cid, kind, b, self.today - 2 * 365 * timedelta(days=1), ended=False))
        return rows
