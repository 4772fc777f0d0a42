"""demo_seed: a loaded study seeded with a plan, on its active sites and synthetic ones."""

import datetime

from django.db import transaction

from ..audit import audit_context
from ..clock import site_today
from ..eligibility import CriterionSpec
from ..models import Cohort, ProtocolVersion, Site, SiteSequence, Study
from .logins import demo_staff
from .marks import DEMO_COMMAND, DEMO_REASON
from .plan import demo_plan
from .rates import FAILURE_WEIGHTS
from .writer import SeedResult, demo_write

DEMO_SITE_CODES = tuple(str(n) for n in range(91, 100))  # site codes are unique across studies: next free
DEMO_SITE_COUNT = 3


def criteria_specs(version: ProtocolVersion) -> list[CriterionSpec]:
    return [CriterionSpec(code=c.code, kind=c.kind, rule=c.rule) for c in version.criteria.order_by("order")]


def demo_sites(study: Study) -> list[Site]:
    """The study's active sites, with synthetic ones added up to three; the protocol's sites come first.

    A protocol that tags its centres with a cohort (development, external validation) names every centre
    of its analysis: no synthetic one is added, and the development centres come first (the largest share).
    """
    sites = list(study.sites.filter(active=True).order_by("code"))
    if any(site.cohort for site in sites):
        order = {cohort: k for k, cohort in enumerate(Cohort.values)}
        return sorted(sites, key=lambda site: (order.get(site.cohort, len(order)), site.code))
    taken = set(Site.objects.exclude(study=study).values_list("code", flat=True))
    for code in DEMO_SITE_CODES:
        if len(sites) >= DEMO_SITE_COUNT:
            break
        if code in taken:
            continue
        name = {"en": f"Demo site {code} (synthetic)", "zh-hans": f"演示中心 {code}（模拟）"}  # noqa: RUF001
        site, _created = Site.objects.get_or_create(
            study=study, code=code, defaults={"name": name, "time_zone": "Asia/Shanghai"}
        )
        if site.active and site not in sites:
            sites.append(site)
    return sites


def demo_seed(
    *, study: Study, participants: int, seed: int, add: bool = False, end: datetime.date | None = None
) -> SeedResult | None:
    """Seed a study with synthetic demo data; None (and nothing written) when it already has screenings.

    add=True tops up a seeded study instead (the benchmark grows one study from 560 to 56,000): study IDs
    continue after each site's sequence, and the dates span the same period. Atomic and durable so that a
    failed seed leaves nothing behind; the study row is locked so that two seeders cannot both start.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = (
            Study.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=study.pk)
        )
        if study.current_version is None:
            raise ValueError(f"{study.code} has no protocol loaded")
        if not add and study.screenings.exists():
            return None
        sites = demo_sites(study)
        staff = demo_staff(study, sites)
        sequences = SiteSequence.objects.select_for_update(of=("self",)).filter(site__in=sites)
        first_numbers = {s.site.code: s.last_number for s in sequences.select_related("site")}
        end = end or min(site_today(site) for site in sites) - datetime.timedelta(days=1)
        version = study.current_version
        start = min(version.effective_date or end - datetime.timedelta(days=3 * 365), end)
        plan = demo_plan(
            criteria=criteria_specs(version),
            site_codes=[site.code for site in sites],
            participants=participants,
            seed=seed,
            start=start,
            end=end,
            study_id_format=version.study_id_format,
            first_numbers=first_numbers,
            failure_weights=FAILURE_WEIGHTS.get(study.code),
            retrospective=version.retrospective,
            groups={group["code"]: group["target"] for group in version.groups},
        )
        return demo_write(study=study, plan=plan, sites=sites, staff=staff)
