"""Notifications mutations: register and unregister a device, follow and unfollow a topic."""

from __future__ import annotations

import strawberry

from api.core.auth import PEOPLE
from api.core.gql.context import Info
from api.core.gql.mutations import run_in_transaction
from api.core.gql.permissions import allow
from api.notifications import flows
from api.notifications.errors import NotificationsErrorCode as Code
from api.notifications.graphql.types import Device, DevicePlatform, NotificationLanguage, NotificationsError


@strawberry.input
class RegisterDeviceInput:
    token: str = strawberry.field(description="The FCM registration token of this app install.")
    platform: DevicePlatform
    language: NotificationLanguage = NotificationLanguage.VI


@strawberry.type
class RegisterDevicePayload:
    device: Device | None = None
    errors: list[NotificationsError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class UnregisterDeviceInput:
    token: str


@strawberry.type
class UnregisterDevicePayload:
    device: Device | None = None
    errors: list[NotificationsError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class SubscribeTopicInput:
    topic: str = strawberry.field(description="`area:<administrative unit code>` or `category:<category>`.")


@strawberry.input
class UnsubscribeTopicInput:
    topic: str


@strawberry.type
class TopicsPayload:
    topics: list[str] | None = strawberry.field(default=None, description="All topics you now follow.")
    errors: list[NotificationsError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(extensions=allow(*PEOPLE), description="Receive push notifications on this device.")
    def register_device(self, info: Info, input: RegisterDeviceInput) -> RegisterDevicePayload:
        account_id = info.context.principal.account_id or 0
        row, errors = run_in_transaction(
            info.context,
            lambda s: flows.register_device(db_session=s, account_id=account_id, token=input.token,
                                            platform=input.platform.value, language=input.language.value),
            NotificationsError, Code,
        )
        return RegisterDevicePayload(device=Device.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Stop push notifications to this device.")
    def unregister_device(self, info: Info, input: UnregisterDeviceInput) -> UnregisterDevicePayload:
        account_id = info.context.principal.account_id or 0
        row, errors = run_in_transaction(
            info.context,
            lambda s: flows.unregister_device(db_session=s, account_id=account_id, token=input.token),
            NotificationsError, Code,
        )
        return UnregisterDevicePayload(device=Device.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Follow a topic, e.g. alerts for an area.")
    def subscribe_topic(self, info: Info, input: SubscribeTopicInput) -> TopicsPayload:
        account_id = info.context.principal.account_id or 0
        topics, errors = run_in_transaction(
            info.context, lambda s: flows.subscribe_topic(db_session=s, account_id=account_id, topic=input.topic),
            NotificationsError, Code,
        )
        return TopicsPayload(topics=topics, errors=errors)

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Stop following a topic.")
    def unsubscribe_topic(self, info: Info, input: UnsubscribeTopicInput) -> TopicsPayload:
        account_id = info.context.principal.account_id or 0
        topics, errors = run_in_transaction(
            info.context,
            lambda s: flows.unsubscribe_topic(db_session=s, account_id=account_id, topic=input.topic),
            NotificationsError, Code,
        )
        return TopicsPayload(topics=topics, errors=errors)
