"""The GraphQL operations the Safe City app sends (names as in schema.graphql)."""

from __future__ import annotations

ERRORS = "errors { field code message }"

LOGIN = f"""mutation Login($input: LoginInput!) {{ login(input: $input) {{
  accessToken refreshToken expiresAt account {{ id fullName }} {ERRORS} }} }}"""

REGISTER = f"""mutation Register($input: RegisterCitizenInput!) {{ registerCitizen(input: $input) {{
  account {{ id fullName }} {ERRORS} }} }}"""

LOGOUT = "mutation Logout { logout { ok } }"

ME = "query Me { me { id fullName } }"

INCIDENT_SUMMARY = "id category state description reportedAt reportCount rating"

REPORT_INCIDENT = f"""mutation Report($input: ReportIncidentInput!) {{ reportIncident(input: $input) {{
  incident {{ {INCIDENT_SUMMARY} }} attachedToExisting {ERRORS} }} }}"""

MY_INCIDENTS = f"""query Mine($first: Int!) {{ myIncidents(first: $first) {{
  nodes {{ {INCIDENT_SUMMARY} }} }} }}"""

EVENT_FIELDS = "id kind at fromState toState state note incidentId"

INCIDENT = f"""query Incident($id: ID!) {{ incident(id: $id) {{
  {INCIDENT_SUMMARY} priority address occurredAt ratingComment resolutionNote location {{ lat lng }}
  assignments {{ state unit {{ name type }} }} photos {{ sha256 thumbnailUrl }}
  timeline {{ {EVENT_FIELDS} }} }} }}"""

MY_INCIDENT_UPDATES = f"subscription Updates {{ myIncidentUpdates {{ {EVENT_FIELDS} }} }}"

RATE_INCIDENT = f"""mutation Rate($input: RateIncidentInput!) {{ rateIncident(input: $input) {{
  incident {{ {INCIDENT_SUMMARY} ratingComment }} {ERRORS} }} }}"""

PUBLIC_INCIDENTS = """query Alerts($first: Int!) { publicIncidents(first: $first) {
  nodes { id category state reportedAt approximateLocation { lat lng } } } }"""

REGISTER_DEVICE = """mutation Device($input: RegisterDeviceInput!) { registerDevice(input: $input) {
  device { id } errors { field code message } } }"""
