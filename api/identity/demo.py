"""Demo accounts for every role, so a newcomer can try each one in GraphiQL within a minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from api.core.auth import Principal, Role
from api.identity import flows, service

DEMO_PASSWORD = "PhuQuoc-demo-2026"
# (label, phone, full name, staff roles)
STAFF = [
    ("admin", "0900000001", "Quản Trị Viên", [flows.StaffRole("admin")]),
    ("dispatcher", "0900000002", "Trần Thị Điều Phối", [flows.StaffRole("dispatcher", unit_code="31078")]),
    ("dispatcher", "0900000003", "Lê Văn Trực Ban", [flows.StaffRole("dispatcher", unit_code="31078")]),
    ("police", "0900000004", "Phạm Công An", [flows.StaffRole("police", unit_code="31078", agency="Công an đặc khu Phú Quốc")]),
    ("officer", "0900000005", "Nguyễn Thị Một Cửa", [flows.StaffRole("officer", unit_code="31078", agency="Trung tâm Phục vụ hành chính công")]),
    ("responder", "0900000006", "Võ Văn Tuần Tra", [flows.StaffRole("responder", responder_unit_id=1)]),
    ("responder", "0900000007", "Đặng Văn Cứu Hộ", [flows.StaffRole("responder", responder_unit_id=2)]),
    ("hotel_clerk", "0900000008", "Hồ Thị Lễ Tân", [flows.StaffRole("hotel_clerk", facility_id=1)]),
]
CITIZENS = [
    ("0911000001", "091090123456", "Nguyễn Văn An", dt.date(1990, 5, 17), "MALE"),
    ("0911000002", "091195004321", "Trần Thị Bích", dt.date(1995, 11, 2), "FEMALE"),
    ("0911000003", "089203007777", "Lê Hoàng Minh", dt.date(2003, 1, 30), "MALE"),
]


def seed_accounts(session: Session, settings: Any) -> list[str]:
    """Creates the demo accounts that do not exist yet and says how to sign in as each."""
    admin = Principal(roles=frozenset({Role.ADMIN}), display="demo-seed")
    lines = ["", f"Demo accounts (password for all: {DEMO_PASSWORD}); sign in with:",
             '  mutation { login(input: {username: "0900000002", password: "' + DEMO_PASSWORD + '"}) '
             "{ accessToken errors { code message } } }",
             "  then send the header  Authorization: Bearer <accessToken>"]
    for label, phone, name, roles in STAFF:
        if service.find_account_by_username(db_session=session, national_id=None, phone=_e164(phone)) is None:
            flows.create_staff_account(db_session=session, actor=admin, full_name=name, phone=phone,
                                       password=DEMO_PASSWORD, roles_to_grant=roles)
        lines.append(f"  {label:<12} {phone}  {name}")
    for phone, national_id, name, born, sex in CITIZENS:
        if service.find_account_by_username(db_session=session, national_id=national_id, phone=None) is None:
            flows.register_citizen(db_session=session, data=flows.RegisterCitizen(
                national_id=national_id, full_name=name, date_of_birth=born, sex=sex, phone=phone,
                password=DEMO_PASSWORD))
        lines.append(f"  {'citizen':<12} {phone}  {name} (or id {national_id})")
    return lines


def _e164(phone: str) -> str:
    return "+84" + phone[1:]
