"""Push notifications: the PushSender interface, a log-only sender, and (in `fcm`) the FCM sender."""

from workers.push.sender import LogSender, Outcome, PushMessage, PushSender, SendResult, backoff_delay

__all__ = ["LogSender", "Outcome", "PushMessage", "PushSender", "SendResult", "backoff_delay"]
