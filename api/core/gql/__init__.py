"""The GraphQL pieces every domain's graphql/ package uses (the only strawberry code in api/core)."""
