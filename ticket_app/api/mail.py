"""REST routes of the e-mail channel.

- `POST /api/inbound/email/`: one raw RFC 5322 message (`Content-Type: message/rfc822`) from an
  MTA pipe or a provider's raw-MIME forwarding; tokens need the `mail:inbound` scope.
- `/api/mailboxes/`: connect, list, change, test and remove support addresses (admins).
- `/api/mail/quarantine/`: mail that could not be taken in; read it, retry it, discard it.
- `/api/tickets/{id}/mail/`: every mail of a ticket, received or sent (the first one too);
  `.../mail/{mail_id}/raw/` its `.eml`.
- `/api/tickets/{id}/comments/{comment_id}/raw/`: the `.eml` of a mail on a ticket (staff);
  `.../resend/`: queue a failed reply again; `/api/tickets/{id}/attachments/`: its files.
- `/api/requesters/{id}/`: a customer and their tickets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES, TicketId
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import (
    AttachmentRead,
    ConnectionCheck,
    InboundMailResult,
    MailboxCreate,
    MailboxRead,
    MailboxUpdate,
    QuarantineRead,
    RequesterRead,
    TicketMailRead,
)
from ticket_app.services import (
    attachments,
    mail_inbound,
    mail_messages,
    mail_outbound,
    mailboxes,
    requesters,
)
from ticket_app.services import quarantine as quarantine_service
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import InvalidInputError

router = APIRouter(prefix="/api", tags=["mail"])
_route = slash_routes(router, ERROR_RESPONSES)

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Commenter = Annotated[Actor, Depends(require(Action.TICKETS_COMMENT))]
MailAdmin = Annotated[Actor, Depends(require(Action.MAILBOXES_MANAGE))]
InboundMailer = Annotated[Actor, Depends(require(Action.MAIL_INBOUND))]
MailboxId = Annotated[int, Path(ge=1, description="A mailbox's id.")]
QuarantineId = Annotated[int, Path(ge=1, description="A quarantined message's id.")]
CommentId = Annotated[int, Path(ge=1, description="A comment's id on this ticket.")]
MailId = Annotated[int, Path(ge=1, description="An e-mail's id on this ticket.")]
AttachmentId = Annotated[int, Path(ge=1, description="An attachment's id on this ticket.")]
RFC822 = "message/rfc822"
INBOUND_MAIL_PATH = "/api/inbound/email"
"""Raw mail may be as large as MAIL_RAW_MAX_BYTES here, not MAX_REQUEST_BYTES."""
_NAME_TAKEN = documented_errors(
    [409], e409="Another mailbox has this `name` or `address`; `errors` names which."
)
_EML_RESPONSE = {200: {"content": {RFC822: {}}, "description": "The message as received or sent."}}


def _eml(raw: bytes, name: str) -> Response:
    return Response(
        raw,
        media_type=RFC822,
        headers={"Content-Disposition": f'attachment; filename="{name}.eml"'},
    )


@_route(
    "POST",
    "/inbound/email",
    response_model=InboundMailResult,
    status_code=status.HTTP_200_OK,
    summary="Take in one raw e-mail (message/rfc822)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {RFC822: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def inbound_email(request: Request, actor: InboundMailer) -> InboundMailResult:
    """Take in one message exactly as an MTA would deliver it.

    It becomes a new ticket, a reply on the ticket it answers, a bounce note, or a quarantine
    entry (the answer says which). Posting the same message again changes nothing
    (`duplicate`). The body must be `Content-Type: message/rfc822` (otherwise 422 naming
    `Content-Type`, as the JSON routes answer a body sent as something else), not empty, and
    at most MAIL_RAW_MAX_BYTES (413 above; MAX_REQUEST_BYTES does not apply here).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != RFC822:
        raise InvalidInputError("Content-Type", f"send the message as {RFC822}")
    raw = await request.body()
    if not raw.strip():
        raise InvalidInputError("body", "the message is empty")
    return await run_in_threadpool(lambda: mail_inbound.ingest(raw))


@_route("GET", "/mailboxes", response_model=list[MailboxRead], summary="Connected mailboxes")
def list_mailboxes(actor: MailAdmin) -> list[MailboxRead]:
    """Every mailbox with its fetch health; passwords are never returned."""
    return mailboxes.list_mailboxes(actor=actor)


@_route(
    "POST",
    "/mailboxes",
    response_model=MailboxRead,
    status_code=status.HTTP_201_CREATED,
    summary="Connect a mailbox",
    responses=_NAME_TAKEN,
)
def create_mailbox(payload: MailboxCreate, actor: MailAdmin) -> MailboxRead:
    """Store a mailbox; its passwords are encrypted with MAIL_SECRET_KEY.

    Without a usable MAIL_SECRET_KEY nothing is stored: 422 naming `mail_secret_key`.
    """
    return mailboxes.create_mailbox(payload, actor=actor)


@_route("GET", "/mailboxes/{mailbox_id:int}", response_model=MailboxRead, summary="A mailbox")
def get_mailbox(mailbox_id: MailboxId, actor: MailAdmin) -> MailboxRead:
    """One mailbox (without passwords)."""
    return mailboxes.get_mailbox(mailbox_id, actor=actor)


@_route(
    "PATCH",
    "/mailboxes/{mailbox_id:int}",
    response_model=MailboxRead,
    summary="Change a mailbox",
    responses=_NAME_TAKEN,
)
def update_mailbox(mailbox_id: MailboxId, payload: MailboxUpdate, actor: MailAdmin) -> MailboxRead:
    """Change the fields sent; each change is an audit event (passwords shown as ***)."""
    return mailboxes.update_mailbox(mailbox_id, payload, actor=actor)


@_route(
    "DELETE",
    "/mailboxes/{mailbox_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a mailbox",
)
def remove_mailbox(mailbox_id: MailboxId, actor: MailAdmin) -> Response:
    """Disconnect a mailbox; the mail it brought stays on its tickets."""
    mailboxes.remove_mailbox(mailbox_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@_route(
    "POST",
    "/mailboxes/{mailbox_id:int}/test",
    response_model=ConnectionCheck,
    summary="Test a mailbox's connections",
)
async def test_mailbox(mailbox_id: MailboxId, actor: MailAdmin) -> ConnectionCheck:
    """Log in to IMAP and SMTP; each says ok or the step that failed (dns, tls, login, folder)."""
    return await run_in_threadpool(lambda: mailboxes.check_connection(mailbox_id, actor=actor))


@_route("GET", "/mail/quarantine", response_model=list[QuarantineRead], summary="Quarantined mail")
def list_quarantine(actor: MailAdmin) -> list[QuarantineRead]:
    """Mail held because it could not be taken in, newest first, with the reason."""
    return quarantine_service.list_quarantine(actor=actor)


@_route(
    "GET",
    "/mail/quarantine/{quarantine_id:int}/raw",
    response_class=Response,
    responses=_EML_RESPONSE,
    summary="A quarantined message (.eml)",
)
def quarantined_raw(quarantine_id: QuarantineId, actor: MailAdmin) -> Response:
    """The held message's bytes, as a download."""
    raw = quarantine_service.raw_message(quarantine_id, actor=actor)
    return _eml(raw, f"quarantine-{quarantine_id}")


@_route(
    "POST",
    "/mail/quarantine/{quarantine_id:int}/retry",
    response_model=InboundMailResult,
    summary="Take a quarantined message in again",
)
async def retry_quarantined(quarantine_id: QuarantineId, actor: MailAdmin) -> InboundMailResult:
    """Take the message in again (the flood limit does not apply); says what became of it."""
    return await run_in_threadpool(lambda: quarantine_service.release(quarantine_id, actor=actor))


@_route(
    "POST",
    "/mail/quarantine/{quarantine_id:int}/discard",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Discard a quarantined message",
)
def discard_quarantined(quarantine_id: QuarantineId, actor: MailAdmin) -> Response:
    """Mark a held message discarded (kept for the record, no longer listed as held)."""
    quarantine_service.discard(quarantine_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@_route(
    "GET",
    "/tickets/{ticket_id:int}/mail",
    response_model=list[TicketMailRead],
    summary="A ticket's e-mails",
)
def list_ticket_mail(ticket_id: TicketId, actor: Reader) -> list[TicketMailRead]:
    """Every e-mail of the ticket, received and sent, oldest first (the first one included)."""
    return mail_messages.ticket_mail(ticket_id, actor=actor)


@_route(
    "GET",
    "/tickets/{ticket_id:int}/mail/{mail_id:int}/raw",
    response_class=Response,
    responses=_EML_RESPONSE,
    summary="One e-mail of a ticket (.eml)",
)
def ticket_mail_raw(ticket_id: TicketId, mail_id: MailId, actor: Reader) -> Response:
    """The message exactly as received or sent, for staff who may read the ticket."""
    raw = mail_messages.ticket_mail_raw(ticket_id, mail_id, actor=actor)
    return _eml(raw, f"ticket-{ticket_id}-mail-{mail_id}")


@_route(
    "GET",
    "/tickets/{ticket_id:int}/comments/{comment_id:int}/raw",
    response_class=Response,
    responses=_EML_RESPONSE,
    summary="The e-mail of a comment (.eml)",
)
def comment_raw(ticket_id: TicketId, comment_id: CommentId, actor: Reader) -> Response:
    """The message exactly as received or sent, for staff who may read the ticket."""
    raw = mail_messages.comment_mail_raw(ticket_id, comment_id, actor=actor)
    return _eml(raw, f"ticket-{ticket_id}-comment-{comment_id}")


@_route(
    "POST",
    "/tickets/{ticket_id:int}/comments/{comment_id:int}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a failed reply again",
)
def resend_reply(ticket_id: TicketId, comment_id: CommentId, actor: Commenter) -> Response:
    """Queue a reply whose mail failed; its delivery state shows on the comment."""
    mail_outbound.resend_comment(ticket_id, comment_id, actor=actor)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@_route(
    "GET",
    "/tickets/{ticket_id:int}/attachments",
    response_model=list[AttachmentRead],
    summary="A ticket's files",
)
def list_attachments(ticket_id: TicketId, actor: Reader) -> list[AttachmentRead]:
    """Files from the requester's mail and agents' replies, oldest first."""
    return attachments.list_attachments(ticket_id, actor=actor)


@_route(
    "GET",
    "/tickets/{ticket_id:int}/attachments/{attachment_id:int}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
    summary="Download a file",
)
def download_attachment(
    ticket_id: TicketId, attachment_id: AttachmentId, actor: Reader
) -> Response:
    """The file as a download (`Content-Disposition: attachment`), typed by its bytes."""
    metadata, payload = attachments.open_attachment(ticket_id, attachment_id, actor=actor)
    safe_name = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in metadata.filename)
    return Response(
        payload,
        media_type=metadata.content_type,
        headers={"Content-Disposition": f'attachment; filename="{safe_name or "file"}"'},
    )


@_route(
    "GET",
    "/requesters/{requester_id:int}",
    response_model=RequesterRead,
    summary="A requester and their tickets",
)
def get_requester(
    requester_id: Annotated[int, Path(ge=1, description="A requester's id.")], actor: Reader
) -> RequesterRead:
    """The customer (address, name) and their most recent tickets, newest first."""
    return requesters.get_requester(requester_id, actor=actor)
