"""Every sentence the app shows, in Vietnamese (the default) and English."""

from __future__ import annotations

LANGUAGES = ("vi", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # key: (vi, en)
    "app.title": ("An toàn Phú Quốc", "Safe Phu Quoc"),
    "app.subtitle": ("Phản ánh sự việc tới công an và cứu hộ", "Report incidents to police and rescue"),
    # sign in / register
    "signin.title": ("Đăng nhập", "Sign in"),
    "signin.username": ("Số định danh hoặc số điện thoại", "Citizen ID or phone number"),
    "signin.password": ("Mật khẩu", "Password"),
    "signin.submit": ("Đăng nhập", "Sign in"),
    "signin.no_account": ("Chưa có tài khoản? Đăng ký", "No account yet? Register"),
    "signin.busy": ("Đang đăng nhập…", "Signing in…"),
    "register.title": ("Đăng ký tài khoản", "Create an account"),
    "register.national_id": ("Số định danh cá nhân (CCCD, 12 số)", "Citizen ID number (CCCD, 12 digits)"),
    "register.full_name": ("Họ và tên", "Full name"),
    "register.date_of_birth": ("Ngày sinh (ngày/tháng/năm)", "Date of birth (dd/mm/yyyy)"),
    "register.sex": ("Giới tính", "Sex"),
    "register.male": ("Nam", "Male"),
    "register.female": ("Nữ", "Female"),
    "register.phone": ("Số điện thoại di động", "Mobile number"),
    "register.password": ("Mật khẩu (ít nhất 10 ký tự)", "Password (at least 10 characters)"),
    "register.email": ("Thư điện tử (không bắt buộc)", "E-mail (optional)"),
    "register.submit": ("Đăng ký", "Register"),
    "register.have_account": ("Đã có tài khoản? Đăng nhập", "Already registered? Sign in"),
    "register.busy": ("Đang tạo tài khoản…", "Creating your account…"),
    "register.done": ("Đã tạo tài khoản. Mời đăng nhập.", "Account created. Please sign in."),
    # home
    "home.greeting": ("Xin chào, {name}", "Hello, {name}"),
    "home.report": ("PHẢN ÁNH SỰ VIỆC", "REPORT AN INCIDENT"),
    "home.report_hint": ("Tai nạn, trộm cắp, mất trật tự, cháy…", "Accident, theft, disorder, fire…"),
    "home.my_reports": ("Phản ánh của tôi", "My reports"),
    "home.waiting": ("{n} đang chờ gửi", "{n} waiting to send"),
    "home.alerts": ("Cảnh báo quanh khu vực", "Alerts in my area"),
    "home.no_alerts": ("Chưa có cảnh báo nào.", "No alerts right now."),
    "home.settings": ("Cài đặt", "Settings"),
    "home.emergency": ("Khẩn cấp: 113 Công an · 114 Cứu hỏa · 115 Cấp cứu",
                       "Emergency: 113 Police · 114 Fire · 115 Ambulance"),
    "home.offline": ("Không kết nối được máy chủ.", "Cannot reach the server."),
    # report
    "report.title": ("Phản ánh sự việc", "Report an incident"),
    "report.category": ("Chuyện gì đã xảy ra?", "What happened?"),
    "report.description": ("Mô tả (không bắt buộc)", "Description (optional)"),
    "report.description_hint": ("Ví dụ: hai xe máy va chạm, một người bị thương",
                                "E.g. two motorbikes collided, one person hurt"),
    "report.location": ("Vị trí", "Location"),
    "report.use_gps": ("Lấy vị trí GPS", "Use my GPS position"),
    "report.gps_busy": ("Đang lấy vị trí…", "Finding your position…"),
    "report.gps_failed": ("Không lấy được vị trí; hãy nhập tay.", "No position; please enter it."),
    "report.lat": ("Vĩ độ", "Latitude"),
    "report.lng": ("Kinh độ", "Longitude"),
    "report.address": ("Địa chỉ / mô tả nơi xảy ra", "Address / where exactly"),
    "report.photos": ("Ảnh ({n}/5)", "Photos ({n}/5)"),
    "report.add_photo": ("+ Thêm ảnh", "+ Add photo"),
    "report.take_photo": ("Chụp ảnh", "Take photo"),
    "report.remove": ("Xóa", "Remove"),
    "report.submit": ("Gửi phản ánh", "Send report"),
    "report.saved": ("Đã lưu phản ánh, đang gửi…", "Report saved, sending…"),
    "report.urgent": ("Khẩn cấp? Gọi ngay:", "Urgent? Call now:"),
    "report.choose_file": ("Chọn ảnh", "Choose photos"),
    "report.cancel": ("Hủy", "Cancel"),
    "report.ok": ("Chọn", "Choose"),
    # my reports
    "mine.title": ("Phản ánh của tôi", "My reports"),
    "mine.waiting": ("Đang chờ gửi", "Waiting to send"),
    "mine.waiting_detail": ("Sẽ tự gửi khi có mạng · đã thử {n} lần", "Sends by itself when online · attempts: {n}"),
    "mine.failed": ("Chưa gửi được — cần sửa", "Not sent — needs a change"),
    "mine.fix": ("Sửa và gửi lại", "Fix and resend"),
    "mine.discard": ("Bỏ", "Discard"),
    "mine.empty": ("Bạn chưa có phản ánh nào.", "You have not reported anything yet."),
    "mine.refresh": ("Làm mới", "Refresh"),
    "mine.loading": ("Đang tải…", "Loading…"),
    # incident
    "incident.title": ("Chi tiết phản ánh", "Report details"),
    "incident.reference": ("Mã {ref}", "Ref. {ref}"),
    "incident.timeline": ("Diễn biến", "Timeline"),
    "incident.live": ("● Đang cập nhật trực tiếp", "● Live updates on"),
    "incident.offline": ("○ Mất kết nối, đang thử lại…", "○ Disconnected, retrying…"),
    "incident.rate": ("Đánh giá kết quả xử lý", "Rate how it was handled"),
    "incident.rated": ("Bạn đã đánh giá: {stars}", "You rated: {stars}"),
    "incident.units": ("Lực lượng: {units}", "Responders: {units}"),
    "incident.reports": ("{n} người đã phản ánh", "{n} people reported this"),
    "incident.resolution": ("Kết quả: {note}", "Outcome: {note}"),
    # rate
    "rate.title": ("Đánh giá", "Rate"),
    "rate.question": ("Bạn hài lòng thế nào với cách xử lý?", "How satisfied are you with how it was handled?"),
    "rate.comment": ("Góp ý (không bắt buộc)", "Comment (optional)"),
    "rate.submit": ("Gửi đánh giá", "Send rating"),
    "rate.busy": ("Đang gửi…", "Sending…"),
    "rate.thanks": ("Cảm ơn bạn đã đánh giá!", "Thank you for your rating!"),
    # settings
    "settings.title": ("Cài đặt", "Settings"),
    "settings.language": ("Ngôn ngữ", "Language"),
    "settings.server": ("Địa chỉ máy chủ", "Server address"),
    "settings.save": ("Lưu", "Save"),
    "settings.saved": ("Đã lưu.", "Saved."),
    "settings.sign_out": ("Đăng xuất", "Sign out"),
    "settings.version": ("Phiên bản {v}", "Version {v}"),
    # common
    "common.back": ("‹ Quay lại", "‹ Back"),
    "common.call": ("Gọi {number}", "Call {number}"),
    "common.error": ("Có lỗi: {message}", "Something went wrong: {message}"),
    "common.network": ("Không kết nối được máy chủ. Thử lại sau.", "Cannot reach the server. Try again later."),
    "common.signed_out": ("Phiên đăng nhập đã hết; mời đăng nhập lại.", "Your session ended; please sign in again."),
    "common.just_now": ("vừa xong", "just now"),
    "service.113": ("Công an", "Police"),
    "service.114": ("Cứu hỏa", "Fire"),
    "service.115": ("Cấp cứu", "Ambulance"),
}

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "TRAFFIC_ACCIDENT": ("Tai nạn giao thông", "Traffic accident"),
    "THEFT": ("Trộm cắp", "Theft"),
    "PUBLIC_ORDER": ("Mất trật tự", "Public disorder"),
    "FIRE": ("Cháy nổ", "Fire"),
    "MEDICAL": ("Cấp cứu y tế", "Medical emergency"),
    "TOURIST_COMPLAINT": ("Phản ánh du lịch", "Tourist complaint"),
    "ENVIRONMENT": ("Môi trường", "Environment"),
    "INFRASTRUCTURE": ("Hạ tầng", "Infrastructure"),
    "OTHER": ("Khác", "Other"),
}

STATE_NAMES: dict[str, tuple[str, str]] = {
    "WAITING": ("Đang chờ gửi", "Waiting to send"),
    "FAILED": ("Chưa gửi được", "Not sent"),
    "REPORTED": ("Đã tiếp nhận", "Received"),
    "ACKNOWLEDGED": ("Đã xác nhận", "Acknowledged"),
    "DISPATCHED": ("Đã điều lực lượng", "Responders sent"),
    "RESOLVED": ("Đã xử lý", "Resolved"),
    "CLOSED": ("Đã đóng", "Closed"),
    "REJECTED": ("Không tiếp nhận", "Rejected"),
    "MERGED": ("Đã gộp", "Merged"),
}

EVENT_NAMES: dict[str, tuple[str, str]] = {
    "REPORTED": ("Phản ánh đã được tiếp nhận", "Report received"),
    "REPORT_ATTACHED": ("Thêm người phản ánh cùng sự việc", "Someone else reported it too"),
    "HOTLINE_CALL": ("Cuộc gọi đường dây nóng", "Hotline call"),
    "ACKNOWLEDGED": ("Trực ban đã xác nhận", "A dispatcher acknowledged it"),
    "REJECTED": ("Không tiếp nhận", "Rejected"),
    "DISPATCHED": ("Đã điều lực lượng tới hiện trường", "Responders are on their way"),
    "ASSIGNMENT_UPDATED": ("Lực lượng cập nhật tiến độ", "Responders updated their progress"),
    "RESOLVED": ("Đã xử lý xong", "Resolved"),
    "CLOSED": ("Đã đóng hồ sơ", "Closed"),
    "MERGED": ("Gộp vào sự việc khác", "Merged into another incident"),
    "MERGED_FROM": ("Gộp thêm phản ánh", "Another report merged in"),
    "SPLIT": ("Tách phản ánh", "Report split off"),
    "SPLIT_FROM": ("Tách từ sự việc khác", "Split from another incident"),
    "REOPENED": ("Mở lại", "Reopened"),
    "RATED": ("Đã đánh giá", "Rated"),
    "DEADLINE_BREACHED": ("Quá hạn, đã báo cấp trên", "Overdue, escalated"),
}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "vi" else pair[1]


def tr(key: str, language: str, **values: object) -> str:
    """The sentence for `key` in 'vi' or 'en', with {placeholders} filled."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = _pick(pair, language)
    return text.format(**values) if values else text


def category_name(code: str, language: str) -> str:
    """A category's name."""
    return _pick(CATEGORY_NAMES.get(code, (code, code)), language)


def state_name(state: str, language: str) -> str:
    """An incident state as the reporter reads it."""
    return _pick(STATE_NAMES.get(state, (state, state)), language)


def event_name(kind: str, language: str) -> str:
    """A timeline entry's title."""
    return _pick(EVENT_NAMES.get(kind, (kind, kind)), language)
