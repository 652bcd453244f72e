"""Hand-written cue lexicons for the offline classifier.

Each `Cue` is a regular expression matched against the *normalised* ticket text (lower case,
ASCII letters and digits separated by single spaces, contractions expanded: "can't" becomes
"cannot", "doesn't" becomes "does not"; see `offline.normalise`). A cue adds its weight to one
category, or to the urgency score used for the priority.

How the lists were made: written from domain knowledge of what support tickets in each queue talk
about (billing: money moving; account: identity, access and the customer's own settings;
technical: something that does not work; general: orders, delivery, people, opinions), then
adjusted by reading the misclassified rows of a fixed *development* split of the Bitext set
(see `evaluate.py`). They were also adjusted by reading the misclassified rows of the development
split of the reference tickets (`ticket_app/triage/reference_tickets`, written to the product's
definitions) and of the Tobi-Bueck development split only, never its held-out split.

Weights are on a log-odds-like scale: 1 is a weak hint ("price"), 2.5 a typical topical word
("refund"), 3.5 or more a phrase that settles the question on its own ("cancellation fee",
"delete my account"). Phrases that combine two ideas ("problem with sign-up") are written as one
cue so that they can outweigh the single words they contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ticket_app.enums import Category

# Up to three arbitrary words between the parts of a phrase: "cancel (my last) order".
GAP = r"(?: \w+){0,3} "
# Words that mark something as going wrong.
TROUBLE = (
    r"(?:issues?|problems?|errors?|troubles?|bugs?|fail\w*|glitch\w*|cannot|unable|not work\w*"
    r"|does not work|did not work|is not working|broken|wrong|stuck)"
)


@dataclass(frozen=True)
class Cue:
    """One weighted pattern.

    `label` is the short human-readable name shown in a suggestion's reason; `pattern` is a
    regular expression over normalised text (word boundaries are added around it); `weight` is
    the score it adds (may be negative for the urgency score).
    """

    label: str
    weight: float
    pattern: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    anchors: tuple[str, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchors", _anchors(self.pattern))
        # A look-behind instead of a leading \b: same meaning on normalised text, but about
        # twice as fast with Python's regex engine.
        object.__setattr__(self, "regex", re.compile(rf"(?<![a-z0-9])(?:{self.pattern})\b"))

    def found_in(self, text: str) -> bool:
        """Whether the cue matches `text`; a cheap substring test skips most regex searches."""
        if self.anchors is not None and not any(anchor in text for anchor in self.anchors):
            return False
        return self.regex.search(text) is not None


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif char == "[":
            i = pattern.index("]", i)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _required_literal(alternative: str) -> str | None:
    """Longest run of plain letters/spaces outside groups that every match must contain."""
    runs, run, depth, i = [], "", 0, 0
    while i < len(alternative):
        char = alternative[i]
        following = alternative[i + 1] if i + 1 < len(alternative) else ""
        quantified = following != "" and following in "?*{"
        if depth == 0 and (char.isalnum() or char == " ") and not quantified:
            run += char
        else:
            runs.append(run)
            run = ""
            if char == "\\":
                i += 1
            elif char == "[":
                i = alternative.index("]", i)
            elif char == "{":
                i = alternative.index("}", i)
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
        i += 1
    runs.append(run)
    best = max((r.strip() for r in runs), key=len)
    return best if len(best) >= 2 else None


def _anchors(pattern: str) -> tuple[str, ...] | None:
    """One required literal per top-level alternative, or `None` if some alternative has none.

    A pattern can only match text containing at least one of its anchors, so `found_in` may skip
    the regex when none occurs (a substring test is about a hundred times faster).
    """
    anchors = [_required_literal(alternative) for alternative in _top_level_alternatives(pattern)]
    if any(anchor is None for anchor in anchors):
        return None
    return tuple(sorted(set(anchors)))


def cue(label: str, weight: float, pattern: str | None = None) -> Cue:
    """Build a cue; without a pattern the label itself is matched literally."""
    return Cue(label, weight, pattern if pattern is not None else re.escape(label))


CATEGORY_CUES: dict[Category, tuple[Cue, ...]] = {
    Category.BILLING: (
        cue("invoice", 3.0, r"invoic\w*"),
        cue("bill", 2.5, r"bill|bills|billed|billing"),
        cue("receipt", 2.0, r"receipts?"),
        cue(
            "refund",
            4.0,
            r"refund\w*|reimburs\w*|rebat\w*|money back|chargeback\w*|compensat\w*|restitution",
        ),
        cue("charge", 3.0, r"charg(?:e|es|ed|ing)|overcharg\w*|surcharg\w*"),
        cue("charged twice", 2.0, r"(?:double|twice|two times|duplicate)" + GAP + r"charg\w*"),
        cue("payment", 2.5, r"payments?|pay|paid|paying|payable"),
        cue("payment method", 2.0, r"payment (?:methods?|options?|modalit\w*|ways?)"),
        cue(
            "payment problem",
            2.5,
            r"(?:payments?|pay|transactions?|cards?)"
            + GAP
            + TROUBLE
            + "|"
            + TROUBLE
            + GAP
            + r"payments?",
        ),
        cue("card", 1.5, r"(?:credit|debit|bank) cards?|cards?"),
        cue(
            "payment provider",
            2.5,
            r"paypal|visa|mastercard|amex|american express|apple pay|google pay|bank transfer|"
            r"wire transfer|direct debit|sepa|stripe|klarna",
        ),
        cue("fee", 2.5, r"fees?"),
        cue(
            "cancellation fee",
            3.5,
            r"(?:cancellation|cancelation|termination|early exit|exit|withdrawal)"
            r"(?: \w+)? (?:fees?|charg\w*|penalty|penalties|costs?)",
        ),
        cue("price", 2.0, r"prices?|pricing|priced|quotes? for|costs? of"),
        cue("cost", 1.0, r"costs?|costly"),
        cue(
            "subscription",
            2.0,
            r"subscriptions?|(?:monthly|annual|yearly) plans?|plan (?:upgrade|change)",
        ),
        cue("renewal", 1.5, r"renew\w*|auto ?renew\w*"),
        cue("licences and seats", 1.5, r"licen[cs]es?|licen[cs]ing|seats?"),
        cue("credit", 2.0, r"overages?|credits?|credit notes?"),
        cue("service credit", 3.5, r"(?:service|sla|courtesy|account) credits?"),
        cue("purchase order", 3.0, r"purchase orders?|po numbers?|net \d+|payment terms"),
        cue("tax", 1.5, r"tax|taxes|vat|sales tax"),
        cue("discount", 1.5, r"discounts?|coupons?|vouchers?|promo(?:tion(?:al)?)? codes?"),
        cue("transaction", 2.0, r"transactions?"),
        cue("money", 1.5, r"money|dollars?|euros?|usd|eur|gbp|pounds"),
        cue("balance", 1.5, r"balance|outstanding|overdue|arrears|debt|owed?"),
        cue(
            "return",
            3.5,
            r"return|returns|returned|returning|exchange|exchanges|exchanged|replacement|rma|"
            r"swap",
        ),
        cue("purchase amount", 1.0, r"amount|sum|total"),
    ),
    Category.ACCOUNT: (
        cue(
            "password",
            4.0,
            r"passwords?|pass word|passcodes?|pwd|pin code|pin|"
            r"(?:user|access|secret|account) keys?|key recovery|forgot\w* pass|pass key",
        ),
        cue(
            "log in",
            2.5,
            r"log ?in|logins?|logging in|logged (?:in|out)|log ?on|sign ?in|signing in|"
            r"log ?out|sign ?out|signed out",
        ),
        cue("account", 1.5, r"accounts?"),
        cue(
            "open an account",
            2.5,
            r"(?:creat\w*|open\w*|mak\w*|set ?up|setting up|new|register\w*|get|add\w*)"
            + GAP.replace("{0,3}", "{0,4}")
            + r"accounts?",
        ),
        cue(
            "close an account",
            3.0,
            r"(?:delet\w*|clos\w*|cancel\w*|remov\w*|terminat\w*|deactivat\w*|eras\w*|"
            r"get rid of)"
            + GAP
            + r"(?:accounts?|(?:my|the|this) users?|profiles?)|deleting users?|"
            r"accounts? (?:deletion|removal|closure)",
        ),
        cue(
            "change account details",
            2.5,
            r"(?:edit\w*|chang\w*|updat\w*|modif\w*|correct\w*)"
            + GAP
            + r"(?:accounts?|profiles?|personal (?:data|details|info\w*)|user ?names?|"
            r"(?:my|the|this) users?)",
        ),
        cue(
            "switch account",
            2.5,
            r"(?:switch\w*|chang\w*|mov\w*|upgrad\w*|downgrad\w*|migrat\w*|go|going)"
            + GAP
            + r"(?:to|from) (?:(?:the|a|an|my|another|other) )?\w+ (?:accounts?|plan|tier)",
        ),
        cue(
            "account tier",
            1.5,
            r"(?:free|freemium|premium|pro|platinum|gold|silver|standard|business|basic|"
            r"personal|professional) accounts?",
        ),
        cue("profile", 2.5, r"profiles?"),
        cue(
            "account compromised",
            3.0,
            r"(?:broken|broke) into|hijack\w*|taken over|took over|(?:account|profile) "
            r"(?:was |has been |got )?(?:hacked|compromised)",
        ),
        cue(
            "privacy and notification settings",
            2.0,
            r"(?:push )?notification (?:sounds?|settings|preferences)|push notifications?|"
            r"who (?:can )?sees?|visible (?:only )?to|security (?:settings|page|tab|questions?)",
        ),
        cue(
            "account holder",
            2.5,
            r"deceased|passed away|(?:primary|main) (?:account )?contact|co ?owners?|"
            r"admin rights|merg\w*(?: \w+){0,2} accounts?",
        ),
        cue("user name", 2.5, r"user ?names?|user ids?|user accounts?"),
        cue("user profile", 1.5, r"(?:my|another|other|different|second|new|the \w+) users?"),
        cue(
            "two-factor",
            3.0,
            r"2fa|mfa|two factor|two step|multi factor|authenticator|verification codes?|otp|"
            r"one time (?:code|password)|(?:backup|recovery|sms|login|log in|security|text) "
            r"codes?|codes? by (?:sms|text)",
        ),
        cue("locked out", 3.0, r"locked out|lock\w*" + GAP + r"accounts?|accounts? (?:is )?locked"),
        cue("recover access", 1.5, r"forgot\w*|forget\w*|reset\w*|recover\w*|retriev\w*"),
        cue("newsletter", 4.5, r"newsletters?|news letters?|mailing lists?"),
        cue("subscribe", 2.5, r"subscrib\w*|unsubscrib\w*|opt ?out|opt ?in"),
        cue(
            "e-mail preferences",
            2.5,
            r"(?:marketing|promotional) e ?mails?|e ?mail (?:preferences|notifications|settings)|"
            r"notification (?:preferences|settings)",
        ),
        cue("e-mail address", 2.0, r"e ?mail address(?:es)?|e ?mail"),
        cue(
            "contact details",
            2.0,
            r"(?:my|recovery|mobile|registered|account) (?:phone|mobile) numbers?|"
            r"(?:phone|mobile) numbers? (?:on|in|from) (?:my|the) (?:account|profile)",
        ),
        cue("personal data", 1.5, r"personal (?:data|details|info\w*)|privacy|gdpr"),
        cue("sign up", 1.0, r"sign ?up|signup|registration|register\w*"),
        cue("credentials", 2.5, r"credentials?|username and password"),
        cue(
            "roles and permissions",
            2.5,
            r"permissions?|admin (?:rights|roles?|access|settings|panel|console)|access rights|"
            r"(?:user|admin|owner|member|viewer|editor|manager|sales|their|her|his) roles?|"
            r"roles? (?:and|to|from)|ownership|account owner|owner|invit\w*|"
            r"(?:add|remove|delete) (?:\w+ )?(?:users?|members?)",
        ),
        cue(
            "identity verification",
            2.5,
            r"identity verification|verify (?:my|your|their) identity|id documents?|kyc",
        ),
    ),
    Category.TECHNICAL: (
        cue("error", 2.5, r"errors?|error messages?|exceptions?"),
        cue("bug", 3.0, r"bugs?|buggy|glitch\w*|defects?"),
        cue(
            "error response",
            2.5,
            r"(?:returns?|returning|throws?|throwing|gives?|giving) (?:an? |the )?"
            r"(?:errors?|\d{3}|no results|null|empty|exceptions?)|rate limits?",
        ),
        cue("crash", 3.0, r"crash\w*|freez\w*|frozen|hangs|hanging|unresponsive"),
        cue(
            "not working",
            2.5,
            r"not working|does not work|did not work|do not work|stopped working|not work|"
            r"broken|malfunction\w*|not loading|will not load|does not load|fails to|failing|"
            r"failed|(?:does|do|did|will|would) not (?:match|sync|connect|save|load|open|print|"
            r"pair|show|display|respond|start|turn on|power on|boot)|keeps? (?:rebooting|"
            r"restarting|crashing|freezing|resetting|disconnecting|dropping|failing|loading|"
            r"spinning)|reboot\w*|fails? silently",
        ),
        cue(
            "misbehaving",
            2.0,
            r"(?:will|does|do|did) not (?:play|validate|update|refresh|render|export|import|"
            r"upload|download|scan|detect|trigger|fire|ring|charge|record|stream)|not "
            r"(?:responding|syncing|connecting|printing|playing|saving|updating|refreshing|"
            r"rendering|uploading|receiving)|time[sd]? out|timing out|flicker\w*|lag\w*|"
            r"invisible|blank (?:screen|page)|garbled|cut off|(?:shows?|showing|appears?|arrives?|"
            r"arriving|comes?|fires?|sent|goes|going) (?:up |out )?(?:twice|two times|double)|"
            r"duplicat\w* (?:entries|events|notifications|bookings|files|records)|ignores?|"
            r"skips?|wrong (?:time ?zone|timestamps?|totals?|date format)|do not add up",
        ),
        cue(
            "sign-up problem",
            5.0,
            r"(?:sign ?up|signup|sign ups|registration|registering|register)"
            + GAP
            + TROUBLE
            + "|"
            + TROUBLE
            + GAP
            + r"(?:sign ?up|signup|sign ups|registration|registering|register)",
        ),
        cue("API", 3.0, r"api|apis|sdk|endpoints?|webhooks?|rest|graphql|oauth|tokens?"),
        cue("integration", 2.5, r"integrat\w*|plugins?|plug ins?|add ons?|extensions?|connectors?"),
        cue(
            "infrastructure",
            2.5,
            r"servers?|databases?|network\w*|vpn|firewalls?|routers?|wi ?fi|wireless|"
            r"connectivity|dns|ssl|tls|(?:ssl|tls|https|server|expired) certificates?|"
            r"certificate (?:errors?|expired|chain)|smtp|mail relay|sso|saml|ldap|bandwidth|"
            r"hosting|cloud|aws|azure|kubernetes|"
            r"docker|virtual machines?|vms?",
        ),
        cue(
            "outage",
            3.0,
            r"outages?|downtime|down|offline|unavailable|not available|interruptions?",
        ),
        cue("sync", 2.5, r"sync\w*|synchroni\w*"),
        cue(
            "device pairing and add-ins",
            2.0,
            r"pair(?:ing|ed)?|add ins?|ribbon|status page|incident alerts?|imported|"
            r"stuck at \d+|scheduled (?:reports?|jobs?|tasks?)",
        ),
        cue(
            "install / update",
            2.0,
            r"install\w*|uninstall\w*|reinstall\w*|updates?|updated|upgrad\w*|patch\w*|"
            r"versions?|firmware|drivers?|releases?",
        ),
        cue(
            "software / device",
            1.0,
            r"software|apps?|application|applications|platform|systems?|devices?|laptops?|"
            r"computers?|pcs?|printers?|browsers?|websites?|web site|portal|dashboard|tool|tools|"
            r"saas|crm|erp|mobile|android|ios|windows|macos|linux|smartphones?|tablets?|hardware|"
            r"monitors?|keyboards?|screen",
        ),
        cue("slow", 2.5, r"slow\w*|latency|lag\w*|timeouts?|timed out|time out|performance"),
        cue(
            "configuration",
            1.5,
            r"configur\w*|config|settings?|setup|set up|deploy\w*|backups?|restor\w*|migrat\w*|"
            r"log files?|logs|debug\w*|scripts?|code|coding|compil\w*",
        ),
        cue(
            "security",
            2.5,
            r"security|vulnerab\w*|malware|virus\w*|ransomware|phishing|encrypt\w*|breach\w*|"
            r"hack|hacked|hacker|hackers|hacking|compromis\w*|unauthori[sz]ed|intrusion|exploit\w*|spam",
        ),
        cue(
            "data", 1.0, r"data|dataset\w*|files?|upload\w*|download\w*|export\w*|import\w*|storage"
        ),
        cue(
            "technical", 3.0, r"technical|tech support|troubleshoot\w*|it support|it team|helpdesk"
        ),
        cue("analytics", 1.0, r"analytics|reports? generat\w*|dashboards?|metrics|tracking pixel"),
        cue("trouble", 0.5, TROUBLE),
    ),
    Category.GENERAL: (
        cue(
            "order",
            3.0,
            r"(?<!purchase )(?<!wrong )(?<!sort )(?<!same )(?<!reverse )(?<!alphabetical )"
            r"(?<!chronological )(?<!random )(?<!in )orders?(?! of)|ordered|ordering",
        ),
        cue(
            "courses and events",
            2.5,
            r"(?<!of )courses?|instructors?|conferences?|venues?|webinars?|hackathons?|"
            r"lost property|left my",
        ),
        cue(
            "corporate responsibility",
            2.5,
            r"modern slavery|ethical|sustainab\w*|recycl\w*|packaging|carbon|environmental",
        ),
        cue("purchase", 2.0, r"purchas\w*|buy|buying|bought|shopping|basket|cart"),
        cue("cancel order", 2.0, r"cancel\w*" + GAP + r"(?:orders?|purchas\w*)"),
        cue("item", 1.0, r"items?|products?|articles?|goods|merchandise"),
        cue(
            "delivery",
            3.0,
            r"deliver\w*|shipping|ship|shipped|shipment\w*|courier\w*|parcels?|packages?|"
            r"dispatch\w*|arriv\w*|transit|postage|freight",
        ),
        cue("track", 2.0, r"track\w*|where is my|status of (?:my|the) (?:order|package|parcel)"),
        cue(
            "address",
            2.5,
            r"(?:shipping|delivery|postal|mailing|home|billing|street|new|old|correct|wrong|my|"
            r"our|your|the|this|that|an?|which|what|chang\w*|updat\w*|modif\w*|edit\w*) "
            r"address(?:es)?",
        ),
        cue(
            "contact a person",
            3.0,
            r"customer (?:service|support|care)|human|(?:an?|human|live|support|real|actual|"
            r"customer service) agents?|representative|operator|"
            r"a person|real person|live chat|call ?back|phone number for|account managers?|"
            r"(?:your|a|the) phone number",
        ),
        cue(
            "contact",
            2.0,
            r"contact\w*|speak\w*|talk\w*|chat (?:with|to)|call|calling|(?:by|on the|over the) "
            r"phone|phone (?:me|us|back)|reach",
        ),
        cue(
            "complaint",
            3.0,
            r"complain\w*|complaints?|dissatisf\w*|unhappy|disappoint\w*|unacceptable|terrible|"
            r"awful|horrible|worst|poor service|bad service|rude|claim\w*|lodge|reclamation\w*|"
            r"(?:file|filing) an? (?:\w+ )?(?:complaint|claim|reclamation)",
        ),
        cue(
            "feedback",
            3.0,
            r"reviews?|feedback|opinions?|ratings?|rate|testimonial\w*|comments?|"
            r"suggestions?|experience with",
        ),
        cue(
            "enquiry",
            2.0,
            r"inquir\w*|enquir\w*|information|info|details|brochures?|catalog\w*|quotes?|"
            r"quotation|demo|trial|questions?",
        ),
        cue(
            "sales",
            2.0,
            r"sales|pre sales|presales|wholesale|bulk|resell\w*|proposal|offerings?|"
            r"services offered|pricing plans?|licen[cs]e options|volume discount|partnership|"
            r"sponsor\w*|evaluating|shortlist\w*|proof of concept|pilot\w*|compliance|compliant|"
            r"hipaa|soc 2|fedramp|iso \d+|vendor (?:assessment|review|questionnaire)",
        ),
        cue(
            "human resources",
            3.0,
            r"human resources|hr|job|jobs|careers?|hiring|vacanc\w*|recruit\w*|"
            r"employment|payroll|onboarding|(?:annual|parental|sick|maternity) leave|benefits|"
            r"training|workshops?|"
            r"expense claims?|expenses|timesheets?",
        ),
        cue(
            "opening hours",
            2.0,
            r"opening hours|business hours|office hours|stores|(?:a|your|the|nearest|local|"
            r"physical|retail) (?:store|shop|branch)|store (?:hours|locations?)|locations?",
        ),
    ),
}

# Added to a category's score before any cue: with no cue at all the ticket is "general".
CATEGORY_PRIOR: dict[Category, float] = {
    Category.BILLING: 0.0,
    Category.ACCOUNT: 0.0,
    Category.TECHNICAL: 0.0,
    Category.GENERAL: 0.5,
}

# Urgency cues: positive weights push towards high/critical, negative towards low. A security
# incident or data loss is critical on its own; an outage needs a second sign of scale.
URGENCY_CUES: tuple[Cue, ...] = (
    cue(
        "outage",
        3.0,
        r"(?<!\bno )(?<!\bany )(?:outages?|downtime)|service (?:is )?down|site (?:is )?down",
    ),
    cue(
        "many users affected",
        2.5,
        r"(?:all|every|entire|whole|many|multiple|several) (?:of (?:our|the) )?"
        r"(?:users?|customers?|clients?|staff|employees?|team|teams|company|organi[sz]ation|"
        r"offices?|departments?|locations?|sites?|stores?)|everyone|everybody|nobody can|"
        r"no one can|company ?wide|organi[sz]ation ?wide|(?:all|every|entire|whole) (?:of "
        r"(?:our|the) )?(?:\w+ )?(?:users?|customers?|clients?|staff|employees?|students?|"
        r"patients?|tenants?|people|members?|orders?|payments?|e ?mails?|devices?)",
    ),
    cue(
        "production down",
        3.0,
        r"(?:production|prod|live site|website|site|system|systems|server|servers|service|"
        r"platform|app|application|network)(?: \w+){0,2} (?:is |are |went |has gone )?down",
    ),
    cue(
        "security incident",
        5.0,
        r"(?:security|data) breach\w*|breach\w*|hacked|hacker\w*|compromised|ransomware|"
        r"malware|unauthori[sz]ed (?:access|login|charges?|transactions?)|stolen|fraud\w*|"
        r"identity theft|phishing attack",
    ),
    cue(
        "account takeover",
        3.0,
        r"hijack\w*|taken over|took over|someone (?:has )?(?:logged|accessed|is using|used)|"
        r"unknown (?:admin|ips?|devices?|users?|logins?)|suspicious (?:logins?|activity|sessions?)|"
        r"leaked|not me|unknown (?:pc|computer|laptop|phone|location)|"
        r"(?:turned|switched) off (?:my )?(?:two factor|2fa)|"
        r"(?:reset|sign in|login|verification) \w+ (?:that )?(?:i|we) (?:did not|never) "
        r"(?:request|ask)",
    ),
    cue(
        "data loss",
        5.0,
        r"data loss|los[te]\w*(?: \w+){0,2} data|data(?: \w+){0,2} (?:lost|deleted|corrupt\w*|"
        r"gone|wiped)|corrupt\w*",
    ),
    cue(
        "payments failing",
        2.5,
        r"(?:payments?|checkouts?|transactions?)(?: \w+){0,3} (?:fail\w*|declin\w*|rejected|"
        r"not (?:going through|processed|working))",
    ),
    cue(
        "urgent",
        2.5,
        r"(?<!not )(?<!nothing )(?<!no )(?:urgent\w*|emergency|critical|severe|serious|asap|"
        r"as soon as possible)",
    ),
    cue("right away", 1.5, r"immediate\w*|right away|right now|at once"),
    cue(
        "deadline",
        2.0,
        r"deadline|today|tonight|tomorrow|this week|end of (?:the )?(?:day|week)|in time|"
        r"(?:by|before|on|until|this|next) (?:monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday)|in (?:\d+|two|three|a few) (?:hours?|days?|minutes?|mins?)|"
        r"due (?:today|tomorrow|next)|expir\w* (?:today|tomorrow|on|in|this|next)",
    ),
    cue(
        "business impact",
        2.0,
        r"(?:losing|lost|loss of) (?:money|revenue|sales|customers|business)|business impact|"
        r"revenue|halt\w*|standstill|disrupt\w*|impact\w*|affect\w*",
    ),
    cue("production", 1.0, r"production|live environment|mission critical"),
    cue(
        "still unresolved",
        1.5,
        r"still (?:not|no|have not|has not|waiting|nothing)|escalat\w*|"
        r"no (?:reply|response|answer)|nobody (?:has )?(?:replied|responded|called|contacted)",
    ),
    cue(
        "cannot log in",
        2.0,
        r"(?:cannot|unable to|can no longer|could not|not able to)(?: \w+)? "
        r"(?:log ?in|login|sign ?in|log on|get in|get into|access)|locked out|lost access|"
        r"no access",
    ),
    cue("cannot", 0.75, r"cannot|unable|could not|can not|not able|impossible"),
    cue(
        "failure",
        0.75,
        r"errors?|fail\w*|crash\w*|not working|broken|does not work|stopped working|"
        r"malfunction\w*|issues?|problems?|wrong|incorrect\w*|mistake\w*|missing|damaged|"
        r"defective|faulty|not found",
    ),
    cue(
        "wrong charge",
        2.0,
        r"charged twice|double charg\w*|duplicate (?:charges?|payments?)|"
        r"(?:collected|taken|debited|billed|charged|pulled) (?:twice|again)|overcharg\w*|"
        r"wrong amount|please (?:refund|reverse)|please (?:remove|correct) (?:the|this|that|"
        r"these|those) (?:\w+ )?(?:charges?|fees?|payments?|amounts?)|never (?:signed|agreed|"
        r"chose|ordered|used|called|authori[sz]ed|asked|requested)|do not recogni[sz]e|"
        r"without (?:warning|consent|authori[sz]ation)|"
        r"(?:charged|billed) (?:me |us )?(?:\w+ ){0,3}(?:instead of|by mistake|although|even "
        r"though|after (?:i|we) (?:cancel|return|paus)\w*)|(?:fee|charge|amount)s? (?:\w+ )?"
        r"(?:by mistake|in error)|keeps? (?:charging|billing)|money (?:was )?taken|"
        r"refund\w* (?:\w+ )?(?:to (?:the |a )?wrong|is missing|never|only partial)|"
        r"(?:missing|partial|incomplete) refund|instead of \w+ing (?:\w+ )?(?:charged|billed)|"
        r"charged (?:\w+ ){0,3}(?:full price|full amount|anyway)|"
        r"refund (?:\w+ ){0,3}only (?:covered|for|included)|"
        r"fee (?:added|charged) (?:although|even though)",
    ),
    cue(
        "how-to question",
        -1.5,
        r"how (?:do|can|to|should|would|does)|where (?:do|can) i|"
        r"is there (?:a|an|any) (?:way|option|setting|feature|limit|plan|discount|version)|"
        r"do you (?:have|offer|support|accept|sell|ship|deliver|provide|plan)|"
        r"does (?:the|it|your|this)|"
        r"will (?:the|it|my|your) \w+ (?:work|support)|how (?:much|long|often|many)|"
        r"difference between|can (?:i|we)|(?:is|would) it be possible|is it possible|"
        r"why (?:is|does|do|am|are)|when (?:is|will|does|do)|are you|"
        r"what (?:are|is) (?:your|the)|will (?:the|you|your) \w+ be|"
        r"where (?:is|s|are) (?:the|my)|do i (?:get|need|have to|pay)|will i (?:get|need|have)",
    ),
    cue(
        "information request",
        -1.5,
        r"inquir\w*|enquir\w*|information (?:about|on|regarding)|more information|"
        r"learn more|interested in|details (?:about|on|regarding)|wondering|curious|"
        r"would like to know|want to know|questions? about|quick question|just asking|"
        r"one question|just confirming|is there anything else|"
        r"recommend\w*|advice|guidance|best practice|thinking of|considering|compatib\w*",
    ),
    cue(
        "feature request",
        -2.0,
        r"feature requests?|would be (?:nice|great|helpful|useful)|it would be|it d be|"
        r"could you add|consider adding|would love|please bring back|any plans|enhancements?|"
        r"would you (?:consider|add|allow|support)|please consider|"
        r"suggestions?|suggest\w*|improv\w*|wish list",
    ),
    cue(
        "feedback",
        -1.5,
        r"feedback|testimonial\w*|compliment\w*|rating|thank you to|just wanted to say|"
        r"wanted to (?:say|thank)|letting you know|well done|great job|kudos|keep up the|"
        r"really appreciated|pleased with|impressed|just a note|fyi|pass on my thanks|"
        r"(?:nice|good|great) (?:job|work)|thank you so much|thanks to (?:the|our|your)|"
        r"keep it up|would (?:buy|order) again|(?:is|are|was|were|has been) (?:excellent|"
        r"outstanding|lovely|perfect|amazing|fantastic|brilliant|superb)|love the|"
        r"so much (?:faster|better|easier)|much better than|works perfectly|worth recogni[sz]ing|"
        r"thank you for listening",
    ),
    # Impact and scope, beyond the wording (issue 14): who is affected, what is at stake,
    # since when, and whether there is a way around it.
    cue(
        "since when",
        0.5,
        r"since (?:this morning|yesterday|last night|(?:the|last|this) (?:update|release|"
        r"maintenance|weekend|deploy\w*|migration|upgrade)|\d+|monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)|for (?:the (?:last|past) |over |more than )?"
        r"(?:an? |\d+ |two |three |several )?(?:hours?|days?|weeks?)(?: now)?",
    ),
    cue(
        "money at stake",
        1.0,
        r"(?:dollars|euros|pounds) \d+(?: \d+)?|\d+(?: \d+)? (?:dollars|euros|usd|eur|gbp)",
    ),
    cue(
        "goods or money missing",
        1.5,
        r"(?<!email )(?<!e mail )(?<!label )(?<!receipt )(?<!reply )(?<!code )(?<!link )"
        r"(?:never|not|nothing|has not|have not) (?:arrived|received|came|delivered|been "
        r"(?:delivered|refunded|credited))|marked as delivered|wrong (?:address|street|house|"
        r"person)|charged but|(?:did not|never) (?:place|order|make)|no (?:order|confirmation)"
        r" (?:in|was|email)|lost in transit|marked (?:as )?lost",
    ),
    cue(
        "someone else's access",
        2.0,
        r"someone else s|(?:different|another|other) (?:person s|user s|customer s|name)|"
        r"identity theft|impersonat\w*|(?:never|not) signed up",
    ),
    cue(
        "whole product down",
        2.0,
        r"(?:every|all|any) (?:requests?|calls?|pages?|logins?|transactions?|orders?|"
        r"webhooks?)(?: \w+){0,4} (?:fail\w*|return\w*|time\w* out|error\w*)|stopped "
        r"(?:delivering|syncing|working|processing|sending)|no longer (?:sync\w*|work\w*|"
        r"load\w*|arriv\w*|deliver\w*|send\w*)|(?:integration|site|store|shop|checkout) "
        r"(?:is |went )?(?:completely |totally )?(?:down|offline|broken)",
    ),
    cue(
        "looking for something",
        -1.0,
        r"(?:cannot|could not|can not|unable to) (?:find|see|tell|figure)|where (?:is|are|can)",
    ),
    cue(
        "workaround",
        -1.0,
        r"workaround|work around|in the meantime|not stuck|(?:can|could) still|"
        r"(?:still|otherwise) works?|works? fine (?:on|in|with)|not a big deal|not in a hurry|"
        r"minor|cosmetic|small (?:thing|issue|bug|problem)|just (?:annoying|curious)|"
        r"nothing is wrong|by hand|(?:correct|fix|enter|type|pay|paid|do) (?:\w+ )?manually|"
        r"meanwhile|not a huge deal|luckily|for now",
    ),
    cue(
        "change request",
        -1.0,
        r"(?:can|could|would) you (?:please )?(?:change|update|send|add|remove|switch|move)|"
        r"(?:please|kindly) (?:change|update|send|add|switch)|(?:want|would like|need) to "
        r"(?:change|update|add|switch|move|transfer|upgrade|downgrade)|from now on",
    ),
    cue(
        "no rush",
        -2.0,
        r"no rush|not urgent|nothing urgent|no hurry|no urgency|not an emergency|"
        r"when(?:ever)? you (?:have|get) (?:a )?(?:time|chance)|at your convenience|low priority",
    ),
)

# Only these cues describe impact beyond one person; without one of them a ticket is at most
# "high", however urgently it is worded ("URGENT!!! I cannot log in" is not an outage).
IMPACT_CUES = frozenset(
    {
        "outage",
        "many users affected",
        "production down",
        "security incident",
        "data loss",
        "payments failing",
        "account takeover",
    }
)

# E-mail politeness that says nothing about the topic: greetings addressed to the support team,
# offers to give more details, sign-offs. Removed from the normalised text before scoring, so that
# "Dear Customer Support, ... please contact me if you need more information" does not count as
# a request to reach a person.
BOILERPLATE = re.compile(
    r"\b(?:"
    r"(?:dear|hello|hi|hey|to) (?:the )?(?:customer )?(?:support|service|care|help ?desk)"
    r"(?: team)?|"
    r"(?:please )?(?:do not hesitate|feel free) to (?:contact|reach|call)(?: \w+){0,2}|"
    r"(?:i am|we are|i m|we re) (?:contacting|reaching out to|writing to)(?: you)?|"
    r"(?:please )?(?:contact|reach out to|call) (?:me|us)(?: \w+){0,4}|"
    r"(?:i )?look(?:ing)? forward to (?:hearing|your|a)(?: \w+){0,4}|"
    r"(?:if )?you (?:need|require) (?:any )?(?:more|further|additional) (?:information|details)|"
    r"(?:i can|happy to|glad to|willing to) provide (?:any )?(?:more |further |additional )?"
    r"(?:information|details)|"
    r"thank(?:s| you)(?: \w+){0,2} (?:for )?(?:your|in advance)(?: \w+){0,3}|"
    r"(?:best|kind|warm) regards|sincerely|best wishes"
    r")\b"
)

# Impact dimensions read by the priority decision table (`rules.decide_priority`, issue 14).
# Each is a group of urgency cue labels above, or a cue of its own below.
# Breakage of a whole service or feature: not just one person's trouble.
BROKEN_CUES = frozenset({"outage", "production down", "whole product down", "payments failing"})
# Impact on its own, whatever the scope.
SEVERE_CUES = frozenset({"security incident", "data loss"})
# One customer blocked or losing money (the definition of "high").
BLOCKING_CUES = frozenset(
    {
        "account takeover",
        "cannot log in",
        "wrong charge",
        "goods or money missing",
        "someone else's access",
    }
)
# Time pressure: makes a real problem high, but not a question.
TIME_CUES = frozenset({"deadline", "urgent", "right away", "business impact"})
# Signs of a real problem (as opposed to a question).
PROBLEM_CUES = frozenset({"failure", "cannot", "still unresolved", "money at stake", "since when"})
# Questions, requests for information, feature requests, feedback.
ASKING_CUES = frozenset(
    {
        "how-to question",
        "information request",
        "feature request",
        "feedback",
        "looking for something",
    }
)
# The customer says it can wait or there is a way around it.
EASING_CUES = frozenset({"workaround", "no rush"})
# Technical category cues that describe a malfunction (not just a topic).
MALFUNCTION_CUES = frozenset(
    {"error", "bug", "crash", "not working", "error response", "slow", "outage"}
)

# Scope: many people or things affected, counted ("140 employees", "all 12 nodes") or named
# ("entire company"). Numbers are normalised text: "1,400" is "1 400".
SCOPE = cue(
    "many affected",
    0.0,
    r"(?:[1-9]\d+|[1-9]\d* \d{3}|hundreds|thousands|dozens)(?: \w+){0,2} (?:users?|customers?|"
    r"clients?|staff|employees|students|tenants|people|members|merchants|clinicians|residents|"
    r"agents|orders|payments|transactions|devices|nodes|sites|locations|stores|shops|clinics|"
    r"schools|offices|records|of us|of them)|all \d+ \w+|every single|none of (?:our|us|the)|"
    r"(?:whole|entire) (?:company|organi[sz]ation|team|agency|office|platform)",
)
# Only the writer is affected, whoever else is named ("everyone else gets their codes",
# "colleagues log in fine"): the many-users cues then describe the others, not the impact.
ONLY_ME = cue(
    "only me",
    0.0,
    r"(?:it s |is )?only (?:me|for me|my (?:account|login|user))|just me|(?:everyone|everybody|"
    r"anyone) else|(?:others|colleagues|co ?workers|the rest of (?:my|the|our) team|my team|"
    r"other (?:users|people|staff))(?: \w+){0,3} (?:are fine|is fine|can|log in|get|have no|"
    r"work|without)",
)
# Someone else holds the account or customer data left it: a takeover becomes a breach.
EXPOSURE = cue(
    "data exposed",
    0.0,
    r"records|exports?|customer data|personal data|bank details|exposed|leak\w*|pulled|"
    r"downloaded|taken over|took over|hijack\w*|stranger",
)
# One customer or team cannot do their work (the definition of "high").
BLOCKED = cue(
    "blocked",
    0.0,
    r"(?:cannot|unable to|can no longer|could not|not able to|can not)(?: \w+){0,2} (?:work|use|"
    r"send|receive|finish|complete|submit|process|accept|ship|answer|run|deploy|check|trade|"
    r"sell|operate)|unusable|stuck|cash only|half speed|by hand|manually|"
    r"no (?:\w+ )?(?:bookings|orders|sales|payments) (?:come|coming|go|going)|"
    r"keeps? (?:rebooting|crashing|restarting|asking)|not (?:been )?paid",
)
# Something is asked to be done for this customer (a request, not a question): medium.
ACTION = cue(
    "request for action",
    0.0,
    r"refund\w*|exchang\w*|replace\w*|cancel\w*|transfer\w*|redeliver\w*|reset\w*|unlock\w*|"
    r"locked|remove \w+ from|delete \w+|waive\w*|merg\w*|swap\w*|order id|my order|"
    r"(?:i|we) (?:want|need|would like) (?:to|a|an|the|my|our)|credit \w+ back|"
    r"(?:please|can you|could you) (?:fix|help|check|restore|apply)",
)
