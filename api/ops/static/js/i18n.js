// Vietnamese (default) and English texts of the console. Enum labels mirror api/incidents/rules.py.

const STRINGS = {
  vi: {
    appTitle: 'Trung tâm điều hành — Phú Quốc', appShort: 'TTĐH Phú Quốc',
    signIn: 'Đăng nhập', signOut: 'Đăng xuất', username: 'Số định danh hoặc số điện thoại', password: 'Mật khẩu',
    notStaff: 'Tài khoản này không phải tài khoản cán bộ.', signInFailed: 'Đăng nhập không thành công.',
    sessionEnded: 'Phiên làm việc đã hết; vui lòng đăng nhập lại.',
    tabDispatch: 'Điều phối', tabHotline: 'Đường dây nóng', tabStats: 'Thống kê',
    queue: 'Hàng đợi sự việc', map: 'Bản đồ', detail: 'Chi tiết sự việc', hotline: 'Tiếp nhận cuộc gọi',
    chart: 'Thời gian phản hồi', counters: 'Số liệu', units: 'Lực lượng', feed: 'Diễn biến', clock: 'Giờ',
    unseen: 'chưa xem', markSeen: 'Đánh dấu đã xem', sound: 'Âm báo khẩn', language: 'English',
    live: 'Trực tuyến', offline: 'Mất kết nối', connecting: 'Đang kết nối…',
    filterState: 'Trạng thái', filterCategory: 'Loại', filterPriority: 'Ưu tiên', filterChannel: 'Kênh',
    all: 'Tất cả', open: 'Đang mở', empty: 'Không có sự việc nào.', selectHint: 'Chọn một sự việc trong hàng đợi.',
    reportedAt: 'Tiếp nhận', age: 'Đã qua', due: 'Hạn', overdue: 'Quá hạn', reports: 'phản ánh',
    timeline: 'Diễn biến', photos: 'Hình ảnh', reporter: 'Người báo (dữ liệu cá nhân)', recommended: 'Đơn vị đề xuất',
    assignments: 'Đơn vị đã điều', noPhotos: 'Không có ảnh.', noUnits: 'Không có đơn vị phù hợp đang sẵn sàng.',
    actions: 'Thao tác', acknowledge: 'Tiếp nhận xử lý', reject: 'Từ chối', dispatch: 'Điều đơn vị',
    resolve: 'Hoàn thành', close: 'Đóng', merge: 'Gộp vào…', reason: 'Lý do', resolutionNote: 'Kết quả xử lý',
    split: 'Tách phản ánh…', reopen: 'Mở lại', rate: 'Đánh giá', splitReport: 'Phản ánh tách thành sự việc mới',
    rating: 'Điểm (1–5)', comment: 'Nhận xét',
    mergeTarget: 'Gộp vào sự việc', confirm: 'Xác nhận', cancel: 'Huỷ', chooseUnits: 'Chọn ít nhất một đơn vị.',
    noActions: 'Không có thao tác nào ở trạng thái này.', tourist: 'Du khách', caller: 'Họ tên', phone: 'Số gọi lại',
    lang: 'Ngôn ngữ', enRoute: 'Đang đến', onScene: 'Có mặt', cleared: 'Xong', distance: 'Khoảng cách',
    photoProof: 'Ảnh minh chứng', location: 'Vị trí', address: 'Địa chỉ', description: 'Nội dung', notes: 'Ghi chú',
    callerName: 'Tên người gọi', category: 'Loại sự việc', submitCall: 'Ghi nhận cuộc gọi', attach: 'Gộp vào sự việc này',
    attaching: 'Sẽ gộp vào sự việc', detach: 'Bỏ gộp', nearby: 'Sự việc đang mở gần đó', noNearby: 'Không có sự việc đang mở gần vị trí này.',
    pickOnMap: 'Bấm lên bản đồ để chọn vị trí, hoặc nhập “vĩ độ, kinh độ”.', likelySame: 'có thể cùng sự việc',
    newIncident: 'Đã tạo sự việc mới', attachedTo: 'Đã gộp cuộc gọi vào sự việc', keysHelp:
      'Phím tắt: Alt+1…9 chọn loại · Alt+T du khách · Alt+A gộp vào sự việc gần nhất · Ctrl+Enter ghi nhận · Esc làm lại',
    range24h: '24 giờ', range7d: '7 ngày', p50: 'P50', p90: 'P90', stage: 'Giai đoạn', noData: 'Chưa có số liệu.',
    openIncidents: 'Đang mở', p1Open: 'Khẩn cấp (P1)', overdueCount: 'Quá hạn', todayCount: 'Hôm nay',
    available: 'Sẵn sàng', busy: 'Đang bận', outOfService: 'Ngừng hoạt động', mapApprox: 'Đường bờ biển tự vẽ, gần đúng',
    thoChauInset: 'Thổ Châu (khung phụ, cách ~100 km)', settings: 'Cài đặt', tileServer: 'Máy chủ bản đồ nền',
    tileNone: 'không có (bản đồ tự vẽ)', error: 'Lỗi', wallPadded: 'ô', minutesShort: 'ph',
  },
  en: {
    appTitle: 'Operations centre — Phu Quoc', appShort: 'Phu Quoc IOC',
    signIn: 'Sign in', signOut: 'Sign out', username: 'ID number or phone number', password: 'Password',
    notStaff: 'This is not a staff account.', signInFailed: 'Sign-in failed.',
    sessionEnded: 'Your session has ended; please sign in again.',
    tabDispatch: 'Dispatch', tabHotline: 'Hotline', tabStats: 'Statistics',
    queue: 'Incident queue', map: 'Map', detail: 'Incident detail', hotline: 'Hotline call',
    chart: 'Response times', counters: 'Figures', units: 'Units', feed: 'Live events', clock: 'Time',
    unseen: 'unseen', markSeen: 'Mark all seen', sound: 'Urgent sound', language: 'Tiếng Việt',
    live: 'Live', offline: 'Disconnected', connecting: 'Connecting…',
    filterState: 'State', filterCategory: 'Category', filterPriority: 'Priority', filterChannel: 'Channel',
    all: 'All', open: 'Open', empty: 'No incidents.', selectHint: 'Choose an incident in the queue.',
    reportedAt: 'Reported', age: 'Age', due: 'Due', overdue: 'Overdue', reports: 'reports',
    timeline: 'Timeline', photos: 'Photos', reporter: 'Reporter (personal data)', recommended: 'Recommended units',
    assignments: 'Units sent', noPhotos: 'No photos.', noUnits: 'No suitable unit is available.',
    actions: 'Actions', acknowledge: 'Acknowledge', reject: 'Reject', dispatch: 'Dispatch',
    resolve: 'Resolve', close: 'Close', merge: 'Merge into…', reason: 'Reason', resolutionNote: 'Resolution note',
    split: 'Split off…', reopen: 'Reopen', rate: 'Rate', splitReport: 'Report to make a new incident of',
    rating: 'Rating (1–5)', comment: 'Comment',
    mergeTarget: 'Merge into incident', confirm: 'Confirm', cancel: 'Cancel', chooseUnits: 'Choose at least one unit.',
    noActions: 'No action is possible in this state.', tourist: 'Tourist', caller: 'Name', phone: 'Callback number',
    lang: 'Language', enRoute: 'En route', onScene: 'On scene', cleared: 'Cleared', distance: 'Distance',
    photoProof: 'Photo proof', location: 'Location', address: 'Address', description: 'Description', notes: 'Notes',
    callerName: 'Caller name', category: 'Category', submitCall: 'Log call', attach: 'Attach to this incident',
    attaching: 'Will attach to incident', detach: 'Do not attach', nearby: 'Open incidents nearby', noNearby: 'No open incident near this location.',
    pickOnMap: 'Click the map to set the location, or type “lat, lng”.', likelySame: 'likely the same',
    newIncident: 'New incident created', attachedTo: 'Call attached to incident', keysHelp:
      'Keys: Alt+1…9 category · Alt+T tourist · Alt+A attach to nearest · Ctrl+Enter log · Esc start over',
    range24h: '24 hours', range7d: '7 days', p50: 'P50', p90: 'P90', stage: 'Stage', noData: 'No data yet.',
    openIncidents: 'Open', p1Open: 'Urgent (P1)', overdueCount: 'Overdue', todayCount: 'Today',
    available: 'Available', busy: 'Busy', outOfService: 'Out of service', mapApprox: 'Own approximate coastline',
    thoChauInset: 'Thổ Châu (inset, ~100 km away)', settings: 'Settings', tileServer: 'Tile server',
    tileNone: 'none (own outline)', error: 'Error', wallPadded: 'tile', minutesShort: 'min',
  },
};

const ENUMS = {
  vi: {
    REPORTED: 'Mới báo', ACKNOWLEDGED: 'Đã tiếp nhận', DISPATCHED: 'Đã điều lực lượng', RESOLVED: 'Đã xử lý',
    CLOSED: 'Đã đóng', REJECTED: 'Từ chối', MERGED: 'Đã gộp',
    TRAFFIC_ACCIDENT: 'Tai nạn giao thông', THEFT: 'Trộm cắp', PUBLIC_ORDER: 'Trật tự công cộng', FIRE: 'Cháy nổ',
    MEDICAL: 'Cấp cứu y tế', TOURIST_COMPLAINT: 'Phản ánh của du khách', ENVIRONMENT: 'Môi trường',
    INFRASTRUCTURE: 'Hạ tầng', OTHER: 'Khác',
    APP: 'Ứng dụng', HOTLINE: 'Đường dây nóng', CAMERA: 'Camera', SENSOR: 'Cảm biến', THIRD_PARTY: 'Bên thứ ba',
    ACKNOWLEDGE: 'Tiếp nhận', DISPATCH: 'Điều lực lượng', ARRIVE: 'Có mặt', RESOLVE: 'Xử lý xong',
    POLICE_PATROL: 'Tuần tra', TRAFFIC_POLICE: 'CSGT', AMBULANCE: 'Cứu thương', TOURIST_POLICE: 'CS du lịch',
    AVAILABLE: 'Sẵn sàng', BUSY: 'Đang bận', OUT_OF_SERVICE: 'Ngừng',
    ASSIGNED: 'Đã giao', EN_ROUTE: 'Đang đến', ON_SCENE: 'Có mặt', CLEARED: 'Xong',
    REPORT_ATTACHED: 'Thêm phản ánh', HOTLINE_CALL: 'Cuộc gọi', ASSIGNMENT_UPDATED: 'Cập nhật đơn vị',
    MERGED_FROM: 'Nhận gộp', SPLIT: 'Tách', SPLIT_FROM: 'Tách từ', REOPENED: 'Mở lại', RATED: 'Đánh giá',
    DEADLINE_BREACHED: 'Quá hạn',
    EV_REPORTED: 'Báo mới', EV_ACKNOWLEDGED: 'Tiếp nhận xử lý', EV_DISPATCHED: 'Điều lực lượng',
    EV_RESOLVED: 'Xử lý xong', EV_CLOSED: 'Đóng', EV_REJECTED: 'Từ chối', EV_MERGED: 'Gộp vào sự việc khác',
  },
  en: {
    REPORTED: 'Reported', ACKNOWLEDGED: 'Acknowledged', DISPATCHED: 'Dispatched', RESOLVED: 'Resolved',
    CLOSED: 'Closed', REJECTED: 'Rejected', MERGED: 'Merged',
    TRAFFIC_ACCIDENT: 'Traffic accident', THEFT: 'Theft', PUBLIC_ORDER: 'Public order', FIRE: 'Fire',
    MEDICAL: 'Medical emergency', TOURIST_COMPLAINT: 'Tourist complaint', ENVIRONMENT: 'Environment',
    INFRASTRUCTURE: 'Infrastructure', OTHER: 'Other',
    APP: 'App', HOTLINE: 'Hotline', CAMERA: 'Camera', SENSOR: 'Sensor', THIRD_PARTY: 'Third party',
    ACKNOWLEDGE: 'Acknowledge', DISPATCH: 'Dispatch', ARRIVE: 'Arrive', RESOLVE: 'Resolve',
    POLICE_PATROL: 'Patrol', TRAFFIC_POLICE: 'Traffic police', AMBULANCE: 'Ambulance', TOURIST_POLICE: 'Tourist police',
    AVAILABLE: 'Available', BUSY: 'Busy', OUT_OF_SERVICE: 'Out of service',
    ASSIGNED: 'Assigned', EN_ROUTE: 'En route', ON_SCENE: 'On scene', CLEARED: 'Cleared',
    REPORT_ATTACHED: 'Report attached', HOTLINE_CALL: 'Hotline call', ASSIGNMENT_UPDATED: 'Unit update',
    MERGED_FROM: 'Merged from', SPLIT: 'Split', SPLIT_FROM: 'Split from', REOPENED: 'Reopened', RATED: 'Rated',
    DEADLINE_BREACHED: 'Deadline missed',
    EV_REPORTED: 'Reported', EV_ACKNOWLEDGED: 'Acknowledged', EV_DISPATCHED: 'Units dispatched',
    EV_RESOLVED: 'Resolved', EV_CLOSED: 'Closed', EV_REJECTED: 'Rejected', EV_MERGED: 'Merged into another',
  },
};

const listeners = new Set();
let current = 'vi';

/** The current language: 'vi' or 'en'. */
export function language() { return current; }

/** Switches the language, remembers it for this browser and redraws whoever listens. */
export function setLanguage(lang) {
  current = lang === 'en' ? 'en' : 'vi';
  document.documentElement.lang = current;
  try { localStorage.setItem('ops.lang', current); } catch { /* private mode: not remembered */ }
  for (const fn of listeners) fn(current);
}

/** The language chosen earlier in this browser, else the deployment's default. */
export function initialLanguage(fallback = 'vi') {
  try { return localStorage.getItem('ops.lang') || fallback; } catch { return fallback; }
}

/** Calls fn on every language change; returns the function that stops it. */
export function onLanguage(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A console text in the current language. */
export function t(key) {
  return STRINGS[current][key] ?? STRINGS.en[key] ?? key;
}

/** The label of an enum value (state, category, channel, stage, unit type...). */
export function label(value) {
  if (value === null || value === undefined) return '';
  const found = ENUMS[current][value] ?? ENUMS.en[value];
  if (found) return found;
  // Timeline entries: 'EV_<kind>' has its own wording only where the state's name would read oddly.
  return String(value).startsWith('EV_') ? label(String(value).slice(3)) : String(value);
}

export const STATES = ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED', 'RESOLVED', 'CLOSED', 'REJECTED', 'MERGED'];
export const OPEN_STATES = ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED'];
export const CATEGORIES = ['TRAFFIC_ACCIDENT', 'THEFT', 'PUBLIC_ORDER', 'FIRE', 'MEDICAL', 'TOURIST_COMPLAINT',
  'ENVIRONMENT', 'INFRASTRUCTURE', 'OTHER'];
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'];
export const CHANNELS = ['APP', 'HOTLINE', 'CAMERA', 'SENSOR', 'THIRD_PARTY'];
