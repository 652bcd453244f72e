"""Validated shapes that cross layer boundaries, one module per concern.

What the REST API and the UI hand to the service layer, and what it hands back. Every shape,
type and constant is re-exported here (with the enums and column lengths the shapes use), so
`from ticket_app.schemas import TicketRead` keeps working. A shape's class name is its name in
the OpenAPI document: renaming one changes the API's contract, moving it between modules does
not.
"""

from ticket_app.enums import ActorKind, Category, CommentChannel, EventKind, Priority, Role, Status
from ticket_app.models import (
    EMAIL_MAX_LENGTH,
    EXTERNAL_ID_MAX_LENGTH,
    MAX_ROW_ID,
    NAME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from ticket_app.schemas.audit import EventPage, EventRead
from ticket_app.schemas.bulk import (
    BULK_CONFIRM_ABOVE,
    MAX_BULK_IDS,
    BulkChanges,
    BulkRequest,
    BulkResult,
)
from ticket_app.schemas.comments import CommentCreate, CommentPage, CommentRead, TimelineEntry
from ticket_app.schemas.errors import (
    ConflictBody,
    EditConflictBody,
    ErrorBody,
    ErrorItem,
    ExistingTicket,
)
from ticket_app.schemas.fields import (
    ASSIGNEE_ID_RULE,
    CONTENT_PATTERN,
    EMAIL_PATTERN,
    INVISIBLE_RANGES,
    NO_NUL_PATTERN,
    TEXT_RULES,
    Count,
    Description,
    ExternalId,
    NameText,
    RequesterEmail,
    RowId,
    SearchText,
    Title,
    is_blank,
    is_id_text,
    storable_text,
)
from ticket_app.schemas.identity import MeRead, NewToken, TokenRead, UserRead
from ticket_app.schemas.list_query import (
    ASSIGNEE_ME,
    ASSIGNEE_NONE,
    ASSIGNEE_PATTERN,
    LANGUAGE_PATTERN,
    SORT_DESCRIPTION,
    BulkFilters,
    SearchFilterText,
    SinceTime,
    TicketFilters,
    TicketSort,
    parse_since,
)
from ticket_app.schemas.similarity import MergeRequest, MergeResult, SimilarTicket
from ticket_app.schemas.stats import AssigneeLoad, TicketStats, TriageOverrideStats
from ticket_app.schemas.tickets import TicketCreate, TicketPage, TicketRead, TicketUpdate
from ticket_app.schemas.views import VIEW_QUERY_KEYS, SavedViewCreate, SavedViewRead

__all__ = [
    "ASSIGNEE_ID_RULE",
    "ASSIGNEE_ME",
    "ASSIGNEE_NONE",
    "ASSIGNEE_PATTERN",
    "BULK_CONFIRM_ABOVE",
    "CONTENT_PATTERN",
    "EMAIL_MAX_LENGTH",
    "EMAIL_PATTERN",
    "EXTERNAL_ID_MAX_LENGTH",
    "INVISIBLE_RANGES",
    "LANGUAGE_PATTERN",
    "MAX_BULK_IDS",
    "MAX_ROW_ID",
    "NAME_MAX_LENGTH",
    "NO_NUL_PATTERN",
    "SORT_DESCRIPTION",
    "TEXT_RULES",
    "TITLE_MAX_LENGTH",
    "VIEW_QUERY_KEYS",
    "ActorKind",
    "AssigneeLoad",
    "BulkChanges",
    "BulkFilters",
    "BulkRequest",
    "BulkResult",
    "Category",
    "CommentChannel",
    "CommentCreate",
    "CommentPage",
    "CommentRead",
    "ConflictBody",
    "Count",
    "Description",
    "EditConflictBody",
    "ErrorBody",
    "ErrorItem",
    "EventKind",
    "EventPage",
    "EventRead",
    "ExistingTicket",
    "ExternalId",
    "MeRead",
    "MergeRequest",
    "MergeResult",
    "NameText",
    "NewToken",
    "Priority",
    "RequesterEmail",
    "Role",
    "RowId",
    "SavedViewCreate",
    "SavedViewRead",
    "SearchFilterText",
    "SearchText",
    "SimilarTicket",
    "SinceTime",
    "Status",
    "TicketCreate",
    "TicketFilters",
    "TicketPage",
    "TicketRead",
    "TicketSort",
    "TicketStats",
    "TicketUpdate",
    "TimelineEntry",
    "Title",
    "TokenRead",
    "TriageOverrideStats",
    "UserRead",
    "is_blank",
    "is_id_text",
    "parse_since",
    "storable_text",
]
