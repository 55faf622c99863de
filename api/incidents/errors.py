"""The Safe City domain's error codes."""

from __future__ import annotations

from api.core.errors import domain_error_codes

IncidentErrorCode = domain_error_codes(
    "IncidentErrorCode",
    [
        "UNKNOWN_CATEGORY",
        "LOCATION_REQUIRED",
        "TOO_MANY_PHOTOS",
        "PHOTO_TYPE_NOT_ALLOWED",
        "PHOTO_TOO_LARGE",
        "PHOTO_EMPTY",
        "PHOTO_TOO_MANY_PIXELS",
        "PHOTO_UNREADABLE",
        "PHOTO_PROOF_REQUIRED",
        "REOPEN_WINDOW_CLOSED",
        "ALREADY_RATED",
        "UNIT_UNAVAILABLE",
        "SAME_INCIDENT",
    ],
)
