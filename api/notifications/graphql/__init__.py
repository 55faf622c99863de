"""GraphQL for notifications: device registration, topics and the outbox summary."""
