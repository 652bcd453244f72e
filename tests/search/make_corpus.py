"""Write tests/search/corpus.json, the fixed ticket corpus of the search relevance set.

Usage: `python tests/search/make_corpus.py` rewrites the file; `--check` exits 1 when the
committed file differs from what this script generates (the test suite runs the check).

The corpus is hand-written "target" tickets (`TARGETS`: the tickets the queries in
queries.json must find, in English, German and Spanish) mixed with generated filler: tickets
over the same support topics (billing, sign-in, card charges, money back, downloads, API errors,
shipping, two-factor, single sign-on, callbacks, performance, data deletion), drawn from
templates with a seeded random generator so every run writes the same file. The filler never
uses a word the queries look for (`RESERVED`, checked on generation): the expected tickets of
every query are then exactly the targets listed for it, whatever the ranking. Tickets are stored
in load order (targets spread among the filler); each one has a stable `key`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

CORPUS_PATH = Path(__file__).with_name("corpus.json")
SEED = 23
FILLER_COUNT = 480

# Word starts (regular expressions over case- and accent-folded text) the filler must not
# contain: the queries' words.
RESERVED = (
    "payment",
    "fail",
    "login",
    "log in",
    "logging in",
    "jane(?!\\w)",
    "doe(?!\\w)",
    "stripe",
    "strasse",
    "refund",
    "invoice",
    "password",
    "export",
    "webhook",
    "saml",
    "okta",
    "credit card declined",
    "verification code",
    "out of stock",
    "sandbox",
    "courier",
    "zahlung",
    "rechnung",
    "passwort",
    "zurucksetzen",
    "uberweisung",
    "pago",
    "factura",
    "contrasena",
    "envio",
    "muller",
    "mueller",
    "garcia",
    "kowalczyk",
    "quarterly",
    "gdpr",
    "eras(e|ing)",
    "slow",
    "load",
)


def _comment(body: str, internal: bool = False) -> dict[str, Any]:
    return {"body": body, "internal": internal}


def _ticket(
    key: str,
    title: str,
    description: str,
    *,
    category: str,
    priority: str = "medium",
    status: str = "open",
    language: str | None = "en",
    requester: tuple[str, str] | None = None,
    comments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "key": key,
        "title": title,
        "description": description,
        "category": category,
        "priority": priority,
        "status": status,
        "language": language,
    }
    if requester is not None:
        ticket["requester_name"], ticket["requester_email"] = requester
    ticket["comments"] = comments or []
    return ticket


TARGETS: list[dict[str, Any]] = [
    # The five examples.
    _ticket(
        "pay-fail-1",
        "Our payments are failing since this morning",
        "Every customer who tries to check out gets an error and the order is not placed. "
        "This started around 8:00 and is costing us sales.",
        category="billing",
        priority="critical",
        requester=("Priya Raman", "priya.raman@northwind.example"),
        comments=[_comment("We are looking into it right now and will update you shortly.")],
    ),
    _ticket(
        "login-1",
        "Can't log in after the update",
        "Since yesterday's release the sign-in page just reloads when I submit my details. "
        "Tried two browsers.",
        category="account",
        priority="high",
        requester=("Tom Becker", "tom.becker@brightlane.example"),
        comments=[
            _comment("Could you clear the cookies for our domain and try once more?"),
            _comment("Same result after clearing cookies."),
        ],
    ),
    _ticket(
        "jane-1",
        "Team seats not updating",
        "We added three colleagues yesterday but the seat count on our plan still shows five.",
        category="billing",
        requester=("Jane Doe", "jane.doe@example.com"),
    ),
    _ticket(
        "jane-2",
        "Question about the dark theme",
        "Is there a way to make the dark theme the default for the whole team?",
        category="general",
        priority="low",
        status="resolved",
        requester=("Jane Doe", "jane.doe@example.com"),
        comments=[_comment("Yes: Settings, Appearance, then tick 'use for everyone'.")],
    ),
    _ticket(
        "stripe-1",
        "Card charge shows twice on statement",
        "A customer was charged twice for order 88231 and wants one charge reversed.",
        category="billing",
        priority="high",
        requester=("Marco Ruiz", "marco.ruiz@tiendaverde.example"),
        comments=[
            _comment("Thanks, we are checking with the card processor."),
            _comment("Checked the Stripe dashboard: the second charge is a retry.", internal=True),
        ],
    ),
    _ticket(
        "stripe-2",
        "Connecting our card processor",
        "Which processors can we connect for online card charges?",
        category="technical",
        priority="low",
        status="resolved",
        comments=[
            _comment("You can connect Stripe or Adyen from Settings, then Integrations."),
        ],
    ),
    _ticket(
        "de-strasse-1",
        "Lieferung an die falsche Straße",
        "Das Paket wurde an die Hauptstraße 12 statt an die Lindenstraße 4 geliefert. Bitte "
        "senden Sie es an die richtige Adresse.",
        category="general",
        language="de",
        requester=("Klaus Weber", "k.weber@postkiste.example"),
    ),
    _ticket(
        "de-strasse-2",
        "Adresse ändern",
        "Wir sind umgezogen. Neue Anschrift: Bahnhofstraße 7, 80335 München.",
        category="account",
        priority="low",
        language="de",
        comments=[_comment("Die neue Straße ist eingetragen.")],
    ),
    # Tense and plural variants.
    _ticket(
        "fail-1",
        "Nightly sync failed again",
        "The nightly sync to our warehouse system failed with a timeout for the third time "
        "this week.",
        category="technical",
        priority="high",
    ),
    _ticket(
        "fail-2",
        "Uploads fail for large attachments",
        "Attachments above 20 MB fail to upload; smaller ones go through.",
        category="technical",
    ),
    _ticket(
        "refund-1",
        "Refund not received",
        "I cancelled within the trial period but have not received my refund yet.",
        category="billing",
        requester=("Oliver Grant", "o.grant@mailbox.example"),
    ),
    _ticket(
        "refund-2",
        "Two refunds missing",
        "Orders 77120 and 77121 were returned last month; both refunds are still pending.",
        category="billing",
    ),
    _ticket(
        "refund-3",
        "Order was refunded twice",
        "Our accounting noticed that order 66012 was refunded two times. Please reverse one.",
        category="billing",
        priority="high",
    ),
    _ticket(
        "inv-1",
        "Invoice shows the wrong VAT rate",
        "The invoice for November applies 19% instead of 7%.",
        category="billing",
    ),
    _ticket(
        "inv-2",
        "Invoices missing from the portal",
        "I cannot find our invoices for the last two months in the billing portal.",
        category="billing",
    ),
    _ticket(
        "inv-3",
        "We were invoiced for a cancelled plan",
        "Our plan was cancelled in August but we were still invoiced in September.",
        category="billing",
        status="resolved",
    ),
    _ticket(
        "inv-refund-1",
        "Invoice corrected after refund",
        "Please send a corrected invoice now that the refund for order 55410 went through.",
        category="billing",
        status="closed",
    ),
    _ticket(
        "pw-1",
        "Password reset email never arrives",
        "I requested the reset three times, nothing in the inbox or the spam folder.",
        category="account",
        priority="high",
    ),
    _ticket(
        "pw-2",
        "Resetting my password loops back to the start page",
        "After choosing a new password I land on the start page and the old one still works.",
        category="account",
    ),
    _ticket(
        "pw-3",
        "Password rules for API clients",
        "Do service accounts need to follow the same password length rules?",
        category="technical",
        priority="low",
    ),
    _ticket(
        "exp-1",
        "CSV export is empty",
        "The file downloads but contains only the header row.",
        category="technical",
    ),
    _ticket(
        "exp-2",
        "Exports time out for large date ranges",
        "Choosing a full year makes the request time out after a minute.",
        category="technical",
    ),
    _ticket(
        "exp-3",
        "Exported file has broken umlauts",
        "Names like Jürgen come out as JÃ¼rgen when the file is opened in a spreadsheet.",
        category="technical",
        priority="low",
    ),
    _ticket(
        "exp-desc-1",
        "Reports page question",
        "Where do I find the button to export the monthly report?",
        category="general",
        priority="low",
    ),
    # Phrases.
    _ticket(
        "phrase-1",
        "Checkout error for some customers",
        "Customers see 'credit card declined' even though their bank approved the charge.",
        category="billing",
        priority="high",
    ),
    _ticket(
        "phrase-decoy-1",
        "Corporate card question",
        "Our credit limit was raised; is the old card still valid? Earlier charges were declined.",
        category="billing",
        priority="low",
    ),
    _ticket(
        "phrase-2",
        "Two-factor prompt rejects the verification code",
        "The verification code from the authenticator app is rejected every time.",
        category="account",
        priority="high",
    ),
    _ticket(
        "phrase-decoy-2",
        "New phone for two-factor",
        "I have a new phone. Which code do I use for verification of the new device?",
        category="account",
    ),
    _ticket(
        "phrase-3",
        "Item shown as out of stock",
        "The blue backpack is shown as out of stock although we have 40 in the warehouse.",
        category="general",
    ),
    # Exclusions and OR.
    _ticket(
        "wh-1",
        "Webhook signature does not match",
        "The signature header of your webhook calls never matches our computed value.",
        category="technical",
    ),
    _ticket(
        "wh-2",
        "Webhook timeout on your side",
        "Your webhook sender gives up after 5 seconds; our endpoint needs 8.",
        category="technical",
        priority="low",
    ),
    _ticket(
        "sso-1",
        "SAML assertion rejected",
        "Our identity provider sends a signed SAML assertion but sign-in stops with an error.",
        category="account",
        priority="high",
    ),
    _ticket(
        "sso-2",
        "Okta group mapping",
        "How do we map Okta groups onto agent and admin roles?",
        category="account",
    ),
    # Words only in the conversation.
    _ticket(
        "conv-1",
        "Parcel still not delivered",
        "Tracking has shown 'in transit' for nine days.",
        category="general",
        comments=[
            _comment("We contacted the courier and they will deliver tomorrow."),
            _comment("Thank you!"),
        ],
    ),
    _ticket(
        "conv-2",
        "API keys for the test environment",
        "Can we get separate keys for testing?",
        category="technical",
        priority="low",
        comments=[
            _comment("Sandbox keys are created under Settings, API.", internal=True),
        ],
    ),
    # Requesters.
    _ticket(
        "req-de-1",
        "Benutzer kann nicht eingeladen werden",
        "Beim Einladen eines neuen Kollegen erscheint eine Fehlermeldung.",
        category="account",
        language="de",
        requester=("Jürgen Müller", "juergen.mueller@beispiel.example"),
    ),
    _ticket(
        "req-es-1",
        "No puedo añadir usuarios",
        "Al invitar a una compañera aparece un error y no se envía la invitación.",
        category="account",
        language="es",
        requester=("Lucía García", "lucia.garcia@ejemplo.example"),
    ),
    _ticket(
        "req-es-2",
        "Cambiar el idioma de la cuenta",
        "¿Cómo se cambia el idioma de la interfaz a español?",
        category="general",
        priority="low",
        language="es",
        requester=("Lucía García", "lucia.garcia@ejemplo.example"),
    ),
    _ticket(
        "req-pl-1",
        "Cannot add a second workspace",
        "The button to add a workspace is greyed out on our plan.",
        category="account",
        requester=("Agnieszka Kowalczyk", "a.kowalczyk@polmarket.example"),
    ),
    # German.
    _ticket(
        "de-pay-1",
        "Zahlungen schlagen fehl",
        "Seit heute Morgen schlagen alle Zahlungen mit Kreditkarte fehl. Die Kunden sehen "
        "eine Fehlermeldung an der Kasse.",
        category="billing",
        priority="critical",
        language="de",
    ),
    _ticket(
        "de-pay-2",
        "Überweisung nicht angekommen",
        "Wir haben die Zahlung per Überweisung am Montag geschickt, das Konto zeigt sie aber "
        "noch als offen.",
        category="billing",
        language="de",
    ),
    _ticket(
        "de-inv-1",
        "Rechnung fehlt",
        "Für die Bestellung vom 3. März haben wir keine Rechnung bekommen.",
        category="billing",
        language="de",
    ),
    _ticket(
        "de-inv-2",
        "Rechnungen für März nicht erhalten",
        "Bitte senden Sie uns die Rechnungen für März noch einmal zu.",
        category="billing",
        priority="low",
        language="de",
    ),
    _ticket(
        "de-pw-1",
        "Passwort zurücksetzen funktioniert nicht",
        "Der Link zum Zurücksetzen des Passworts ist sofort abgelaufen.",
        category="account",
        priority="high",
        language="de",
    ),
    _ticket(
        "de-slow-1",
        "Übersicht lädt sehr langsam",
        "Die Übersicht braucht morgens über 30 Sekunden zum Laden.",
        category="technical",
        language="de",
        comments=[_comment("Wir prüfen die Datenbank. Danke für die Geduld.")],
    ),
    # Spanish.
    _ticket(
        "es-pay-1",
        "Los pagos con tarjeta fallan",
        "Desde esta mañana los pagos con tarjeta fallan en la tienda online.",
        category="billing",
        priority="critical",
        language="es",
    ),
    _ticket(
        "es-pay-2",
        "Pago duplicado",
        "Se me cobró el pago dos veces este mes. ¿Pueden devolver uno?",
        category="billing",
        priority="high",
        language="es",
    ),
    _ticket(
        "es-inv-1",
        "No recibí la factura",
        "No he recibido la factura de octubre en mi correo.",
        category="billing",
        language="es",
    ),
    _ticket(
        "es-inv-2",
        "Facturas con IVA incorrecto",
        "Las facturas de este trimestre tienen el IVA equivocado.",
        category="billing",
        language="es",
    ),
    _ticket(
        "es-pw-1",
        "Olvidé mi contraseña",
        "Pedí restablecer la contraseña pero el enlace no funciona.",
        category="account",
        language="es",
    ),
    _ticket(
        "es-ship-1",
        "El envío no ha llegado",
        "El envío del pedido 4410 debía llegar el lunes y todavía no ha llegado.",
        category="general",
        language="es",
    ),
    # Topics phrased the way agents search for them.
    _ticket(
        "gdpr-1",
        "GDPR request to erase a customer",
        "A customer asked us to erase all their data under GDPR article 17.",
        category="account",
        priority="high",
    ),
    _ticket(
        "gdpr-2",
        "Erasing closed accounts",
        "Do you erase the data of accounts we closed last year automatically?",
        category="account",
        status="pending",
    ),
    _ticket(
        "perf-1",
        "Dashboard is very slow in the morning",
        "Loading the dashboard takes over 30 seconds between 8 and 10.",
        category="technical",
        priority="high",
    ),
    _ticket(
        "perf-2",
        "Search results load slowly",
        "Every search takes several seconds to show the first results.",
        category="technical",
    ),
    _ticket(
        "quarterly-1",
        "Quarterly report totals are off",
        "The quarterly totals do not match the sum of the monthly numbers.",
        category="technical",
        status="in_progress",
    ),
]


# ---- Filler -------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Carla",
    "Daniel",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Yara",
    "Zoe",
    "Anton",
    "Bianca",
    "Cem",
    "Dana",
    "Emil",
    "Fiona",
)
LAST_NAMES = (
    "Alvarez",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gomez",
    "Hansen",
    "Ito",
    "Jensen",
    "Khan",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Walsh",
    "Young",
    "Zimmer",
)
DOMAINS = (
    "brightlane.example",
    "northwind.example",
    "harbourco.example",
    "greenfield.example",
    "lumen.example",
    "tiendaverde.example",
    "postkiste.example",
)
PRODUCTS = ("Starter plan", "Team plan", "Business plan", "mobile app", "desktop app", "dashboard")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the weekend")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge")

# topic -> (category, titles, descriptions, replies, notes); {product}, {day}, {n}, {browser}
# are filled in. None of these words is in RESERVED.
TOPICS: dict[str, tuple[str, list[str], list[str], list[str], list[str]]] = {
    "billing": (
        "billing",
        [
            "Charged for the wrong plan",
            "Question about our billing cycle",
            "Upgrade to the {product} not reflected in the price",
            "VAT number missing on the receipt",
            "Change the billing contact",
        ],
        [
            "We moved to the {product} on {day} but the monthly price did not change.",
            "Our receipt for order {n} has the old company name on it.",
            "Can the billing date be moved to the first of the month?",
            "We were charged {n} EUR although our contract says less.",
        ],
        [
            "Thanks for flagging this, the billing team will correct it today.",
            "I have updated the billing contact as requested.",
            "The new price applies from the next billing cycle.",
        ],
        [
            "Customer is on a legacy contract, check with finance before changing.",
            "Same complaint as last month; escalate if it happens again.",
        ],
    ),
    "signin": (
        "account",
        [
            "Locked out of my account",
            "Sign-in loop on {browser}",
            "Session expires every few minutes",
            "Cannot sign in with my work address",
            "Account disabled without warning",
        ],
        [
            "After entering my details on {browser} the page goes blank.",
            "I get signed out every few minutes while working in the {product}.",
            "My colleague was locked out after three attempts on {day}.",
            "The sign-in page says my account is disabled but nobody disabled it.",
        ],
        [
            "I have unlocked the account, please try again.",
            "Please send us a screenshot of the message you see.",
            "This was caused by a cookie setting in {browser}; it is fixed now.",
        ],
        ["Account was locked by the brute-force guard, unlocked manually."],
    ),
    "cards": (
        "billing",
        [
            "Card charge did not go through",
            "Checkout shows a generic error",
            "Customer charged but order missing",
            "Transaction stuck as pending",
        ],
        [
            "A customer tried three times on {day} and every card charge was rejected.",
            "Transaction {n} shows as pending for two days now.",
            "The money left the customer's account but no order was created.",
        ],
        [
            "The processor reports a temporary outage, charges work again now.",
            "I can see the transaction on our side; the order has been created.",
        ],
        ["Processor incident on {day}, see status page."],
    ),
    "moneyback": (
        "billing",
        [
            "Money back for a cancelled order",
            "Chargeback received for order {n}",
            "Credit note requested",
            "Reimbursement for the outage",
        ],
        [
            "We cancelled order {n} on {day} and would like the money back.",
            "Our bank reports a chargeback we do not understand.",
            "Could we get a credit note for the days the {product} was down?",
        ],
        [
            "We have issued a credit note; it will show on your next statement.",
            "The chargeback was opened by the cardholder; we will send you the evidence.",
        ],
        ["Approved by finance, goodwill credit of one month."],
    ),
    "downloads": (
        "technical",
        [
            "CSV download has wrong column order",
            "Report download takes forever",
            "Spreadsheet opens with garbled dates",
            "Scheduled report not delivered",
        ],
        [
            "The CSV download from the {product} puts the date column last.",
            "Downloading the monthly report takes more than five minutes.",
            "The scheduled report for {day} never reached our inbox.",
        ],
        [
            "Dates are written in ISO format; set your spreadsheet to read them as text.",
            "The scheduled report is back; it was paused after a mailbox bounce.",
        ],
        ["Known issue with large reports, engineering ticket open."],
    ),
    "api": (
        "technical",
        [
            "API returns 429 too many requests",
            "Unauthorized error with a new token",
            "Rate limit lower than documented",
            "Timeouts calling the tickets endpoint",
            "Pagination cursor rejected",
        ],
        [
            "Our integration gets HTTP 429 after about {n} calls per minute.",
            "The new token returns 401 on every call from our server.",
            "Calls to the list endpoint time out since {day}.",
            "The cursor from the previous page is rejected as invalid.",
        ],
        [
            "The token lacked the write scope; a new one with tickets:write works.",
            "Limits are per token; spread the calls or ask us to raise yours.",
        ],
        ["Client retries without backoff, suggested exponential backoff."],
    ),
    "shipping": (
        "general",
        [
            "Parcel arrived damaged",
            "Delivery address needs changing",
            "Tracking number not working",
            "Package delivered to a neighbour",
        ],
        [
            "Order {n} arrived with a broken box and a cracked lid.",
            "The tracking number from the confirmation shows no information.",
            "We need to change the delivery address for order {n} before it leaves.",
        ],
        [
            "A replacement is on its way; no need to send the damaged one back.",
            "The address is changed as long as the parcel has not left the warehouse.",
        ],
        ["Carrier claim filed for order {n}."],
    ),
    "twofactor": (
        "account",
        [
            "Lost my phone with the authenticator app",
            "Two-factor prompt on every visit",
            "Backup codes do not work",
        ],
        [
            "I replaced my phone and can no longer produce the six-digit codes.",
            "The {product} asks for the second factor every time, even on the same device.",
            "None of my backup codes is accepted.",
        ],
        ["I have turned off two-factor for your account; please set it up again."],
        ["Identity confirmed by video call before resetting the second factor."],
    ),
    "singlesignon": (
        "account",
        [
            "Single sign-on setup for our company",
            "Azure AD users cannot get in",
            "Provisioning new users automatically",
        ],
        [
            "We want our staff to use single sign-on with Azure AD.",
            "Users created in our directory do not appear in the {product}.",
            "After the certificate rotation our users get an error from the identity provider.",
        ],
        ["Please upload the new certificate under Settings, Security."],
        ["Certificate expired on {day}, customer has rotated theirs."],
    ),
    "callbacks": (
        "technical",
        [
            "Callback URL not called",
            "Duplicate event notifications",
            "Event payload missing fields",
        ],
        [
            "Our callback URL did not receive any events since {day}.",
            "Each event notification reaches our endpoint twice.",
            "The event payload has no requester field any more.",
        ],
        ["Deliveries are retried up to five times; duplicates carry the same event id."],
        ["Customer endpoint answers 301, the redirect is not followed."],
    ),
    "speed": (
        "technical",
        [
            "Pages take ages to appear",
            "Mobile app freezes on start",
            "Editor lags while typing",
        ],
        [
            "Since {day} every page in the {product} takes several seconds to appear.",
            "The mobile app hangs on the splash screen for a minute.",
            "Typing in the editor lags behind by a second or more.",
        ],
        ["We deployed a fix for the lag; please reload the page."],
        ["Traced to a missing index, fix ships on {day}."],
    ),
    "deletion": (
        "account",
        [
            "Delete our workspace",
            "Remove a former employee's data",
            "How long do you keep closed accounts",
        ],
        [
            "We are closing the company and want all our data deleted.",
            "A former employee asked for their personal data to be removed.",
            "How long is data kept after an account is closed?",
        ],
        ["The workspace and its data will be deleted within 30 days."],
        ["Legal hold check done, nothing blocks the deletion."],
    ),
    "de": (
        "general",
        [
            "Frage zum Vertrag",
            "Lieferung beschädigt",
            "Konto gesperrt",
            "Daten als Tabelle herunterladen",
            "Preis hat sich geändert",
        ],
        [
            "Können Sie uns sagen, wann unser Vertrag für den {product} endet?",
            "Das Paket für Bestellung {n} kam beschädigt an.",
            "Mein Konto wurde nach drei Versuchen gesperrt.",
            "Der Preis ist seit diesem Monat höher, ohne dass wir informiert wurden.",
        ],
        ["Vielen Dank, wir kümmern uns darum.", "Das Konto ist wieder freigeschaltet."],
        ["Kunde hat schon zweimal angerufen."],
    ),
    "es": (
        "general",
        [
            "Pregunta sobre el contrato",
            "Paquete dañado",
            "Cuenta bloqueada",
            "Cambio de precio",
        ],
        [
            "¿Cuándo termina nuestro contrato del {product}?",
            "El paquete del pedido {n} llegó dañado.",
            "Mi cuenta se bloqueó después de tres intentos.",
            "El precio subió este mes sin aviso.",
        ],
        ["Gracias, lo revisamos hoy mismo.", "La cuenta ya está desbloqueada."],
        ["El cliente ya llamó dos veces."],
    ),
}

# The letters German and Spanish text folds to ASCII in the RESERVED check.
_FOLD = str.maketrans({"ß": "ss"})


def fold(text: str) -> str:
    """Case- and accent-folded text (ß as ss), as the RESERVED check compares it."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ticket_text(ticket: dict[str, Any]) -> str:
    """Every searchable text of a ticket (title, description, comments, requester), one string."""
    parts = [ticket["title"], ticket["description"]]
    parts += [comment["body"] for comment in ticket["comments"]]
    parts += [ticket.get("requester_name") or "", ticket.get("requester_email") or ""]
    return "\n".join(parts)


def reserved_hits(ticket: dict[str, Any]) -> list[str]:
    """The RESERVED word starts found in the ticket's text."""
    text = fold(ticket_text(ticket))
    return [word for word in RESERVED if re.search(rf"(?<!\w){word}", text)]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        product=rng.choice(PRODUCTS),
        day=rng.choice(DAYS),
        n=rng.randrange(10_000, 99_999),
        browser=rng.choice(BROWSERS),
    )


def _filler(index: int, rng: random.Random) -> dict[str, Any]:
    topic = rng.choice(sorted(TOPICS))
    category, titles, descriptions, replies, notes = TOPICS[topic]
    if topic not in ("de", "es"):
        category = category if rng.random() < 0.85 else rng.choice(["general", "technical"])
    comments = []
    for _ in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 4))):
        internal = rng.random() < 0.3
        comments.append(_comment(_fill(rng.choice(notes if internal else replies), rng), internal))
    requester = None
    if rng.random() < 0.7:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        address = f"{first}.{last}@{rng.choice(DOMAINS)}".lower()
        requester = (f"{first} {last}", address)
    return _ticket(
        f"filler-{index:03d}",
        _fill(rng.choice(titles), rng),
        _fill(rng.choice(descriptions), rng),
        category=category,
        priority=rng.choice(("low", "medium", "medium", "high", "critical")),
        status=rng.choice(("open", "open", "in_progress", "pending", "resolved", "closed")),
        language=topic if topic in ("de", "es") else ("en" if rng.random() < 0.9 else None),
        requester=requester,
        comments=comments,
    )


def build_corpus() -> dict[str, Any]:
    """The corpus: {"seed", "tickets": [ticket, ...]} in load order; raises ValueError when a
    filler ticket uses a RESERVED word or a key repeats."""
    rng = random.Random(SEED)
    filler = [_filler(index, rng) for index in range(1, FILLER_COUNT + 1)]
    for ticket in filler:
        hits = reserved_hits(ticket)
        if hits:
            raise ValueError(f"{ticket['key']} uses reserved words {hits}")
    tickets = list(filler)
    for target in TARGETS:
        tickets.insert(rng.randrange(len(tickets) + 1), target)
    keys = [ticket["key"] for ticket in tickets]
    if len(set(keys)) != len(keys):
        raise ValueError("ticket keys repeat")
    return {"seed": SEED, "tickets": tickets}


def render(corpus: dict[str, Any]) -> str:
    """The corpus as the committed JSON text."""
    return json.dumps(corpus, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    """Write corpus.json, or with --check compare it with the generated text (exit 1: differs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = render(build_corpus())
    if args.check:
        if CORPUS_PATH.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{CORPUS_PATH} is stale: run python {__file__}\n")
            return 1
        return 0
    CORPUS_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
