"""Made-up, varied support tickets posted through the REST API (for screenshots and demos)."""

from __future__ import annotations

import json
import random
import urllib.request
from typing import Any

PRODUCTS = ["Atlas CRM", "the mobile app", "the web dashboard", "the Outlook add-in", "the API"]
PEOPLE = ["our finance team", "two colleagues", "a new hire", "our admin", "everyone in sales"]

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "billing": [
        (
            "Charged twice for {month} invoice",
            "We were billed twice for the {month} invoice "
            "(order {order}). Please refund the duplicate charge to the card ending {card}.",
        ),
        (
            "Refund not received after cancellation",
            "I cancelled on the {day}th and was promised a "
            "refund within 5 days, but {people} still see nothing on the statement.",
        ),
        (
            "VAT number missing on invoice",
            "Our invoice {order} has no VAT number, so {people} "
            "cannot book it. Could you reissue it with our VAT ID?",
        ),
        (
            "Upgrade to annual plan",
            "We would like to switch from monthly to annual billing for "
            "{seats} seats. What happens to the remaining days of this month?",
        ),
        (
            "Card declined on renewal",
            "The renewal payment failed although the card is valid. "
            "Is there a problem with the payment provider?",
        ),
    ],
    "technical": [
        (
            "{product} crashes on startup",
            "Since this morning {product} crashes right after login "
            "with error code {code}. Reinstalling did not help; {people} are blocked.",
        ),
        (
            "Export to CSV times out",
            "Exporting more than {seats}k rows from {product} times out "
            "after 30 seconds. Smaller exports work.",
        ),
        (
            "Production outage: 502 errors",
            "All requests to {product} return 502 Bad Gateway since "
            "{hour}:00. This is urgent, our customers cannot check out.",
        ),
        (
            "Sync stuck at 99%",
            "Calendar sync in {product} has been stuck at 99% for two days. "
            "Logs attached show a timeout talking to the server.",
        ),
        (
            "Dark mode renders unreadable text",
            "In {product} some labels are black on dark grey in dark mode. Minor, but annoying.",
        ),
        (
            "Webhook deliveries failing",
            "Our webhook endpoint receives nothing since the last "
            "release; the delivery log in {product} shows HTTP {code}.",
        ),
    ],
    "account": [
        (
            "Cannot reset my password",
            "The password reset e-mail never arrives. I checked spam. My username is {user}.",
        ),
        (
            "Please add {seats} new users",
            "We hired new staff and need {seats} more accounts on "
            "our team workspace, with the same permissions as {user}.",
        ),
        (
            "Locked out after 2FA phone change",
            "I got a new phone and lost my authenticator, now "
            "I am locked out of {product}. How can I verify my identity?",
        ),
        (
            "Transfer account ownership",
            "Our admin {user} left the company. Please transfer the "
            "ownership of the workspace to me.",
        ),
        (
            "Delete my personal data",
            "Under GDPR I request deletion of all personal data linked to {user}.",
        ),
    ],
    "general": [
        (
            "Question about data retention",
            "How long do you keep ticket attachments and logs? "
            "{people} need this for an internal audit.",
        ),
        (
            "Feature request: keyboard shortcuts",
            "It would be great if {product} had keyboard shortcuts for the most common actions.",
        ),
        (
            "Thanks for the quick help",
            "Just wanted to say thanks, the issue from last week is solved and {people} are happy.",
        ),
        (
            "Where can I find the API docs?",
            "I am looking for documentation for {product}, especially rate limits.",
        ),
        (
            "Office hours over the holidays",
            "Will support be reachable between Christmas and New Year? We have a release planned.",
        ),
    ],
}
# Tickets the triage reading marks in the list: a frustrated customer (writing again, threatening
# to cancel) and tickets not in English, one both. Only the screenshots post these.
MARKED_TICKETS: tuple[dict[str, str], ...] = (
    {
        "title": "Third time I write about this refund",
        "description": "This is the third time I write about the double charge on our March "
        "invoice and nobody has answered. Refund it this week or I will cancel our subscription.",
        "category": "billing",
        "priority": "high",
    },
    {
        "title": "Rechnung doppelt abgebucht",
        "description": "Die Rechnung für Mai wurde doppelt abgebucht. Bitte erstatten Sie den "
        "doppelten Betrag auf die Karte mit der Endung 4242.",
        "category": "billing",
        "priority": "medium",
    },
    {
        "title": "Zum dritten Mal: Export funktioniert nicht",
        "description": "Ich schreibe Ihnen jetzt zum dritten Mal. Der CSV-Export bricht nach 30 "
        "Sekunden ab und niemand antwortet. So kann ich nicht arbeiten, sonst kündigen wir den "
        "Vertrag.",
        "category": "technical",
        "priority": "high",
    },
    {
        "title": "Exportation CSV bloquée à 99 %",
        "description": "L'exportation CSV depuis le tableau de bord reste bloquée à 99 % depuis "
        "hier soir. Pouvez-vous vérifier de votre côté ?",
        "category": "technical",
        "priority": "medium",
    },
)
PRIORITY_WEIGHTS = {"low": 3, "medium": 5, "high": 3, "critical": 1}
STATUS_WEIGHTS = {"open": 5, "in_progress": 3, "resolved": 3, "closed": 2}
USERS = ["anna", "ben", "chloe", "dmitri", "eva", "farid"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]


def _fill(text: str, rng: random.Random) -> str:
    return text.format(
        month=rng.choice(MONTHS),
        order=f"INV-{rng.randint(10000, 99999)}",
        card=rng.randint(1000, 9999),
        day=rng.randint(1, 28),
        people=rng.choice(PEOPLE),
        seats=rng.randint(2, 40),
        product=rng.choice(PRODUCTS),
        code=rng.choice(["E1042", "500", "403", "0x80070005", "ERR_TIMEOUT"]),
        hour=rng.randint(6, 22),
        user=f"{rng.choice(USERS)}.{rng.randint(1, 99)}",
    )


def make_ticket(rng: random.Random) -> dict[str, Any]:
    """One random ticket payload (category and priority set, as staff would)."""
    category = rng.choice(list(TEMPLATES))
    title, description = rng.choice(TEMPLATES[category])
    priority = rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()))[0]
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    filled_title = _fill(title, rng)
    return {
        "title": filled_title[:1].upper() + filled_title[1:],
        "description": _fill(description, rng),
        "category": category,
        "priority": priority,
        "status": status,
    }


def post_json(
    url: str, payload: dict[str, Any], method: str = "POST", *, token: str
) -> dict[str, Any]:
    """Send JSON to the API with an API token and return the decoded answer.

    Waits up to 30 s: a server's first create loads the classifier's models, which takes
    seconds on a loaded machine.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get_json(url: str, *, token: str) -> Any:
    """GET a JSON document from the API with an API token."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def seed(base_url: str, count: int, *, token: str, seed_value: int = 4) -> None:
    """Post `count` random tickets to the app at `base_url` with an API token."""
    rng = random.Random(seed_value)
    for _ in range(count):
        post_json(f"{base_url}/api/tickets/", make_ticket(rng), token=token)
