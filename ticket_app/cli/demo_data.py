"""Demo data: a deterministic generator of realistic support tickets for `make demo`.

The tickets come from hand-written templates (no outside data set): each template belongs to one
category, has its own priority mix, and fills slots (products, amounts, error codes, order
numbers) from a seeded random generator. Every time is placed relative to the start of the UTC
day (never to the clock time), so the same seed gives the same tickets all day long: a second
`make demo` shows the same numbers. Creation times spread over the `days` days before that day,
with more tickets on weekdays, in office hours and recently; older tickets are mostly resolved
or closed. Most tickets carry a classifier
suggestion, and some of those were overridden by staff, so the override statistics are not empty.

`seed_demo_staff` adds demo staff accounts (an admin, an agent, a viewer) with generated
passwords, so the demo console can be signed into at once.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ticket_app.models import Category, Priority, Role, Status, utc_now
from ticket_app.services.access import Actor
from ticket_app.services.errors import ConflictError
from ticket_app.services.identity import users
from ticket_app.services.imports.read import SourceRecord
from ticket_app.services.imports.write import ImportReport, import_records

DEFAULT_DEMO_TICKETS = 3000
DEFAULT_DEMO_SEED = 2026
DEFAULT_DEMO_DAYS = 90


@dataclass(frozen=True)
class _Template:
    category: Category
    title: str
    description: str
    # Weights for low, medium, high, critical.
    priorities: tuple[int, int, int, int]


_TEMPLATES: tuple[_Template, ...] = (
    _Template(
        Category.BILLING,
        "Charged twice for {plan} plan",
        "My card was charged {amount} twice on {date} for the {plan} subscription. "
        "Please refund the duplicate charge; the invoice number is INV-{number}.",
        (1, 4, 4, 1),
    ),
    _Template(
        Category.BILLING,
        "Invoice {number} shows the wrong VAT number",
        "The invoice INV-{number} lists an old VAT number for our company in {city}. "
        "Our accounts team needs a corrected invoice before month end.",
        (4, 5, 1, 0),
    ),
    _Template(
        Category.BILLING,
        "Refund for cancelled order {order} not received",
        "I cancelled order {order} on {date} and was told the refund of {amount} would arrive "
        "within five days. It has not shown up on my statement yet.",
        (1, 5, 3, 0),
    ),
    _Template(
        Category.BILLING,
        "How do I switch to annual billing?",
        "We are on the monthly {plan} plan and would like to move to annual billing to get the "
        "discount. How do I switch without losing our current seats?",
        (7, 3, 0, 0),
    ),
    _Template(
        Category.BILLING,
        "Payment failed with card ending {digits}",
        "Renewal of the {plan} plan failed with 'card declined' although the card ending "
        "{digits} works elsewhere. Our workspace will be locked in three days.",
        (0, 3, 5, 2),
    ),
    _Template(
        Category.TECHNICAL,
        "{feature} page shows error {code}",
        "Since this morning the {feature} page shows 'Error {code}' after a few seconds. "
        "It happens in {browser} and in the mobile app, for every user on our team.",
        (0, 3, 5, 2),
    ),
    _Template(
        Category.TECHNICAL,
        "API returns 500 for /v2/{endpoint}",
        "Our integration calls /v2/{endpoint} and has been getting HTTP 500 responses "
        "since {date}. Request id {hex}. Nothing changed on our side.",
        (0, 2, 5, 3),
    ),
    _Template(
        Category.TECHNICAL,
        "Export to CSV times out",
        "Exporting the {feature} report to CSV runs for about two minutes and then times out. "
        "Smaller date ranges work. Is there a limit we should know about?",
        (2, 6, 2, 0),
    ),
    _Template(
        Category.TECHNICAL,
        "Outage: dashboard down for all users",
        "Nobody in our company can load the dashboard; we get a blank page and error {code}. "
        "This is blocking our support team completely.",
        (0, 0, 3, 7),
    ),
    _Template(
        Category.TECHNICAL,
        "Mobile app crashes on startup",
        "After updating to version {version} the Android app crashes right after the splash "
        "screen. Reinstalling did not help. Device: {device}.",
        (1, 5, 4, 0),
    ),
    _Template(
        Category.TECHNICAL,
        "Webhook deliveries delayed",
        "Webhook events for {feature} arrive 20 to 40 minutes late since {date}. "
        "Our automations depend on them arriving within a minute.",
        (0, 4, 5, 1),
    ),
    _Template(
        Category.ACCOUNT,
        "Cannot log in after password reset",
        "I reset my password on {date} but the new password is rejected and the reset link "
        "now says it has expired. My username is {user}.",
        (0, 4, 5, 1),
    ),
    _Template(
        Category.ACCOUNT,
        "Please transfer workspace ownership",
        "Our previous admin {user} has left the company. Please make me the owner of the "
        "workspace '{company}' so I can manage seats and billing.",
        (2, 6, 2, 0),
    ),
    _Template(
        Category.ACCOUNT,
        "Two-factor codes not accepted",
        "The 2FA codes from my authenticator app are rejected every time, even right after they "
        "refresh. I am locked out of my account.",
        (0, 3, 6, 1),
    ),
    _Template(
        Category.ACCOUNT,
        "Change the email address on my account",
        "I would like to change the login email from my old address to {user}@{domain}. "
        "How do I do that without creating a new account?",
        (7, 3, 0, 0),
    ),
    _Template(
        Category.ACCOUNT,
        "Delete my account and data",
        "Please delete my account {user} and all data associated with it, as allowed by the "
        "GDPR. Confirm by email when it is done.",
        (2, 6, 2, 0),
    ),
    _Template(
        Category.GENERAL,
        "Where is my order {order}?",
        "I ordered the {product} on {date} (order {order}) and the tracking page has not "
        "changed for a week. Can you tell me where it is?",
        (2, 6, 2, 0),
    ),
    _Template(
        Category.GENERAL,
        "Feature request: {feature} filters",
        "It would be nice to filter the {feature} list by team and by date range. "
        "We currently export everything and filter in a spreadsheet.",
        (8, 2, 0, 0),
    ),
    _Template(
        Category.GENERAL,
        "Question about data residency",
        "Our legal team asks where customer data is stored and whether we can keep it in the "
        "EU. Do you have documentation we can share with them?",
        (6, 4, 0, 0),
    ),
    _Template(
        Category.GENERAL,
        "Thanks for the quick help",
        "Just wanted to say thanks to {agent} for sorting out our {feature} setup yesterday. "
        "Everything works as expected now.",
        (9, 1, 0, 0),
    ),
    _Template(
        Category.GENERAL,
        "Wrong item delivered",
        "We received a {product} instead of the {other_product} we ordered (order {order}). "
        "How do we return it and get the right one?",
        (2, 6, 2, 0),
    ),
)

_SLOTS: dict[str, tuple[str, ...]] = {
    "plan": ("Starter", "Team", "Business", "Enterprise"),
    "city": ("Lisbon", "Berlin", "Toronto", "Nairobi", "Osaka", "Austin", "Lyon"),
    "feature": ("Reports", "Invoices", "Dashboard", "Automations", "Contacts", "Inbox"),
    "browser": ("Chrome", "Firefox", "Safari", "Edge"),
    "endpoint": ("orders", "customers", "invoices", "events", "webhooks"),
    "device": ("Pixel 8", "Galaxy S23", "Moto G54", "OnePlus 12"),
    "user": ("amara.n", "jkowalski", "li.wei", "sofia.r", "tom_h", "priya.k", "d.okafor"),
    "domain": ("example.com", "example.org", "example.net"),
    "company": ("Northwind", "Blue Harbor", "Acme Field Services", "Kestrel Labs"),
    "product": ("desk lamp", "wireless keyboard", "standing desk", "webcam", "headset"),
    "agent": ("Maya", "Jonas", "Aiko", "Samuel"),
}
_CODES = ("502", "503", "504", "E1042", "E2210", "ERR_TIMEOUT")


def _slot_values(rng: random.Random, created: datetime) -> dict[str, str]:
    """One value for every slot any template uses, shared by a ticket's title and description."""
    product = rng.choice(_SLOTS["product"])
    values = {name: rng.choice(options) for name, options in _SLOTS.items()}
    values.update(
        product=product,
        other_product=rng.choice([p for p in _SLOTS["product"] if p != product]),
        amount=f"${rng.choice((19, 29, 49, 99, 149, 299))}.00",
        number=str(rng.randint(10000, 99999)),
        order=f"#{rng.randint(100000, 999999)}",
        digits=f"{rng.randint(0, 9999):04d}",
        code=rng.choice(_CODES),
        hex=f"{rng.getrandbits(48):012x}",
        version=f"{rng.randint(3, 5)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
        date=(created - timedelta(days=rng.randint(1, 6))).strftime("%B %d").replace(" 0", " "),
    )
    return values


def _created_at(rng: random.Random, reference: datetime, days: int) -> datetime:
    """A creation time in the `days` days before `reference` (a midnight), never at or after it.

    Weighted to recent days, weekdays and office hours.
    """
    while True:
        day = reference - timedelta(days=1 + int(days * rng.random() ** 1.3))
        weekend = day.weekday() >= 5
        if weekend and rng.random() < 0.65:
            continue
        hour = min(22, max(6, int(rng.gauss(13, 3))))
        return day.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))


def reference_day(now: datetime | date | None = None) -> datetime:
    """The start (00:00 UTC) of the UTC day of `now` (default: today), the demo's fixed point.

    A date is taken as that UTC day; an aware datetime is converted to UTC first.
    """
    if now is None:
        now = utc_now()
    if isinstance(now, datetime):
        now = now.astimezone(UTC).date() if now.tzinfo else now.date()
    return datetime.combine(now, time(0), tzinfo=UTC)


def _status(rng: random.Random, age_days: float) -> Status:
    # Weights in `Status` order: open, in progress, pending, resolved, closed.
    if age_days < 2:
        weights = (65, 25, 5, 5, 0)
    elif age_days < 14:
        weights = (25, 20, 10, 35, 10)
    else:
        weights = (5, 3, 2, 35, 55)
    return rng.choices(list(Status), weights=weights)[0]


def demo_records(
    count: int = DEFAULT_DEMO_TICKETS,
    *,
    seed: int = DEFAULT_DEMO_SEED,
    now: datetime | date | None = None,
    days: int = DEFAULT_DEMO_DAYS,
) -> Iterator[SourceRecord]:
    """`count` demo tickets as import records (line = ticket number from 1), oldest first.

    The tickets lie in the `days` days before `reference_day(now)` (`now` defaults to the
    current time); only the UTC day of `now` matters, not its time of day, so the records are
    the same for a given `seed` and UTC day. Each record has an external id "demo-NNNNN", so
    seeding twice stores the tickets once.
    """
    rng = random.Random(seed)
    # Ages and statuses are measured from this midnight, not from the clock: two runs on the
    # same day gave different statuses (open 379 vs 386) when they depended on the time of day.
    reference = reference_day(now)
    created_times = sorted(_created_at(rng, reference, days) for _ in range(count))
    for number, created in enumerate(created_times, start=1):
        template = rng.choice(_TEMPLATES)
        category = template.category
        priority = rng.choices(list(Priority), weights=template.priorities)[0]
        age_days = (reference - created).total_seconds() / 86400
        status = _status(rng, age_days)
        suggested_category: Category | None = None
        suggested_priority: Priority | None = None
        if rng.random() < 0.8:
            suggested_category, suggested_priority = category, priority
            if rng.random() < 0.12:
                suggested_category = rng.choice([c for c in Category if c != category])
            if rng.random() < 0.15:
                suggested_priority = rng.choice([p for p in Priority if p != priority])
        updated = created
        if status is not Status.OPEN:
            hours = rng.uniform(0.5, 24 * min(age_days, 10))
            updated = min(reference, created + timedelta(hours=hours))
        slots = _slot_values(rng, created)
        yield (
            number,
            {
                "external_id": f"demo-{number:05d}",
                "title": template.title.format(**slots),
                "description": template.description.format(**slots),
                "category": category.value,
                "priority": priority.value,
                "status": status.value,
                "suggested_category": suggested_category.value if suggested_category else None,
                "suggested_priority": suggested_priority.value if suggested_priority else None,
                "created_at": created.isoformat(),
                "updated_at": updated.isoformat(),
            },
        )


def seed_demo(
    count: int = DEFAULT_DEMO_TICKETS,
    *,
    seed: int = DEFAULT_DEMO_SEED,
    now: datetime | date | None = None,
) -> ImportReport:
    """Store `demo_records(count, seed=seed, now=now)` in the current database; return the report.

    The classifier is not called (the records carry their own labels and suggestions).
    """
    return import_records(demo_records(count, seed=seed, now=now), classify=False)


DEMO_STAFF: tuple[tuple[str, Role, str], ...] = (
    ("demo-admin@example.com", Role.ADMIN, "Demo Admin"),
    ("demo-agent@example.com", Role.AGENT, "Demo Agent"),
    ("demo-viewer@example.com", Role.VIEWER, "Demo Viewer"),
)
"""(email, role, name) of each demo staff account; the admin comes first."""

_PASSWORD_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class DemoAccount:
    """A demo staff account.

    `password` is the generated password when this call created the account, None when it
    already existed (its password is left as it was).
    """

    email: str
    role: Role
    password: str | None


def demo_password() -> str:
    """A random password that is easy to type: four groups of four letters or digits (82 bits)."""
    raw = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def seed_demo_staff(actor: Actor) -> list[DemoAccount]:
    """Create the demo admin, agent and viewer unless they exist; return them in that order.

    Idempotent: an existing account (active or not) is left untouched and reported with
    `password` None. New accounts get a `demo_password()`, recorded nowhere but the return value.
    """
    existing = {user.email for user in users.list_users()}
    accounts = []
    for email, role, name in DEMO_STAFF:
        password = None
        if email not in existing:
            password = demo_password()
            try:
                users.create_user(email, role, password, name=name, actor=actor)
            except ConflictError:  # created concurrently by another run
                password = None
        accounts.append(DemoAccount(email, role, password))
    return accounts
