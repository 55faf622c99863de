"""Background processes; they call api.<domain>.service / flows, never api.*.graphql."""
