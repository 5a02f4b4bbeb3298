package server

// Messages of passkeys and security keys (internal/authn/webauthn, the
// passkey login step, the account page's passkey section, web/webauthn.js).
func init() {
	AddMessages(map[string]map[string]string{
		// Login.
		"method_webauthn":       {"vi": "Đăng nhập bằng passkey", "en": "Log in with a passkey"},
		"method_webauthn_title": {"vi": "Đăng nhập bằng passkey", "en": "Log in with a passkey"},
		"webauthn_login_help":   {"vi": "Dùng vân tay, khuôn mặt hoặc mã PIN trên thiết bị giữ passkey của bạn.", "en": "Use your fingerprint, face or PIN on the device that holds your passkey."},
		"webauthn_use":          {"vi": "Dùng passkey", "en": "Use a passkey"},
		"webauthn_use_password": {"vi": "Đăng nhập bằng mật khẩu", "en": "Log in with a password"},
		"webauthn_noscript":     {"vi": "Cần bật JavaScript để dùng passkey.", "en": "Passkeys need JavaScript to be turned on."},
		"webauthn_unsupported":  {"vi": "Trình duyệt này chưa hỗ trợ passkey. Hãy dùng trình duyệt khác hoặc cách đăng nhập khác.", "en": "This browser does not support passkeys. Please use another browser or another way to log in."},
		"webauthn_cancelled":    {"vi": "Bạn đã huỷ, hoặc thiết bị không xác nhận được. Hãy thử lại.", "en": "You cancelled, or the device could not confirm. Please try again."},
		"webauthn_failed":       {"vi": "Không dùng được passkey trên thiết bị này. Hãy thử lại hoặc dùng cách khác.", "en": "The passkey could not be used on this device. Please try again or use another way."},
		"webauthn_exists":       {"vi": "Thiết bị này đã có passkey cho tài khoản của bạn.", "en": "This device already holds a passkey for your account."},
		"err_webauthn_failed":   {"vi": "Không xác minh được passkey. Vui lòng thử lại.", "en": "The passkey could not be verified. Please try again."},
		"err_webauthn_expired":  {"vi": "Yêu cầu xác thực đã hết hạn hoặc đã được dùng. Vui lòng thử lại.", "en": "The request expired or was already used. Please try again."},
		"err_webauthn_cloned":   {"vi": "Passkey này đã bị khoá vì có dấu hiệu bị sao chép. Hãy dùng cách đăng nhập khác và liên hệ bộ phận hỗ trợ.", "en": "This passkey was blocked because it may have been copied. Please use another way to log in and contact the help desk."},
		"err_webauthn_uv":       {"vi": "Thiết bị chưa xác minh bạn (vân tay, khuôn mặt hoặc mã PIN). Hãy thử lại và xác minh trên thiết bị.", "en": "The device did not verify you (fingerprint, face or PIN). Please try again and verify on the device."},
		"err_webauthn_synced":   {"vi": "Passkey đồng bộ giữa các thiết bị chỉ đạt mức bảo đảm 2. Dịch vụ này cần passkey gắn với một thiết bị, ví dụ khoá bảo mật.", "en": "A passkey synced across devices reaches assurance level 2 only. This service needs a passkey bound to one device, such as a security key."},

		// Account page.
		"webauthn_section":          {"vi": "Passkey và khoá bảo mật", "en": "Passkeys and security keys"},
		"webauthn_intro":            {"vi": "Passkey giúp đăng nhập không cần mật khẩu bằng vân tay, khuôn mặt hoặc mã PIN, và không thể bị trang giả mạo đánh cắp. Passkey gắn với một thiết bị đạt mức bảo đảm cao (mức 3).", "en": "A passkey logs you in without a password, with your fingerprint, face or PIN, and cannot be stolen by a fake site. A passkey bound to one device reaches the high assurance level (level 3)."},
		"webauthn_none":             {"vi": "Bạn chưa có passkey nào.", "en": "You have no passkey yet."},
		"webauthn_name_label":       {"vi": "Tên passkey (ví dụ: Điện thoại của tôi)", "en": "Passkey name (for example: My phone)"},
		"webauthn_name_default":     {"vi": "Điện thoại của tôi", "en": "My phone"},
		"webauthn_add":              {"vi": "Thêm passkey", "en": "Add a passkey"},
		"webauthn_create":           {"vi": "Tạo passkey", "en": "Create the passkey"},
		"webauthn_register_help":    {"vi": "Nhấn «Tạo passkey», rồi xác nhận bằng vân tay, khuôn mặt hoặc mã PIN trên thiết bị.", "en": "Press “Create the passkey”, then confirm with your fingerprint, face or PIN on the device."},
		"webauthn_registering":      {"vi": "Passkey mới:", "en": "New passkey:"},
		"webauthn_cancel":           {"vi": "Huỷ", "en": "Cancel"},
		"webauthn_created":          {"vi": "Tạo lúc", "en": "Created"},
		"webauthn_last_used":        {"vi": "Dùng lần cuối", "en": "Last used"},
		"webauthn_never_used":       {"vi": "Chưa dùng", "en": "Never"},
		"webauthn_synced":           {"vi": "Đồng bộ giữa các thiết bị (mức 2)", "en": "Synced across devices (level 2)"},
		"webauthn_device_bound":     {"vi": "Gắn với thiết bị (mức 3)", "en": "Bound to this device (level 3)"},
		"webauthn_flagged":          {"vi": "Đã khoá: có dấu hiệu bị sao chép", "en": "Blocked: it may have been copied"},
		"webauthn_remove":           {"vi": "Gỡ", "en": "Remove"},
		"webauthn_remove_last_body": {"vi": "Đây là passkey cuối cùng của bạn. Sau khi gỡ, bạn sẽ phải đăng nhập bằng mật khẩu và không dùng được các dịch vụ cần mức bảo đảm cao.", "en": "This is your last passkey. Once it is removed you must log in with your password and cannot use services that need the high assurance level."},
		"webauthn_remove_last_nopw": {"vi": "Đây là cách đăng nhập cuối cùng của bạn: tài khoản không có mật khẩu. Sau khi gỡ, bạn sẽ không đăng nhập được nữa cho đến khi liên hệ bộ phận hỗ trợ.", "en": "This is your last way to log in: the account has no password. Once it is removed you cannot log in until you contact the help desk."},
		"webauthn_remove_confirm":   {"vi": "Vẫn gỡ passkey", "en": "Remove it anyway"},
		"webauthn_keep":             {"vi": "Giữ lại", "en": "Keep it"},
		"msg_webauthn_added":        {"vi": "Đã thêm passkey.", "en": "The passkey was added."},
		"msg_webauthn_removed":      {"vi": "Đã gỡ passkey.", "en": "The passkey was removed."},
		"err_webauthn_register":     {"vi": "Không đăng ký được passkey. Vui lòng thử lại.", "en": "The passkey could not be registered. Please try again."},
		"err_webauthn_name":         {"vi": "Tên passkey không hợp lệ (tối đa 64 ký tự).", "en": "The passkey name is not valid (64 characters at most)."},
		"err_webauthn_policy":       {"vi": "Loại thiết bị này không được chấp nhận. Hãy dùng khoá bảo mật được cấp phép.", "en": "This kind of device is not accepted. Please use an approved security key."},
	})
}
