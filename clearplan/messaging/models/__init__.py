"""Messages to and from patients: what was sent (outbound.py) and the conversations they belong to
(conversations.py)."""

from clearplan.messaging.models.conversations import (
    Channel,
    Conversation,
    ConversationAttachment,
    ConversationMessage,
    Direction,
    EmailOptOut,
    ReceivedSms,
    SavedReply,
    SmsOptOut,
    UnmatchedInbound,
    conversation_attachment_path,
    new_conversation_token,
)
from clearplan.messaging.models.outbound import OutboundMessage, attachment_path, new_idempotency_key

__all__ = [
    "Channel",
    "Conversation",
    "ConversationAttachment",
    "ConversationMessage",
    "Direction",
    "EmailOptOut",
    "OutboundMessage",
    "ReceivedSms",
    "SavedReply",
    "SmsOptOut",
    "UnmatchedInbound",
    "attachment_path",
    "conversation_attachment_path",
    "new_conversation_token",
    "new_idempotency_key",
]
