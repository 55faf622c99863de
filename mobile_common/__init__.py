"""What the platform's apps share: GraphQL client, session tokens, offline outbox, live subscriptions.

No Kivy here: everything is tested without a screen and reused by the Safe City and lodging apps.
"""
