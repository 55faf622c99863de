"""Notifications: devices, topic subscriptions and the push outbox (thông báo đẩy)."""
