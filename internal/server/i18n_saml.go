package server

// Messages of the SAML identity provider (internal/saml).
func init() {
	AddMessages(map[string]map[string]string{
		"err_saml_request": {
			"vi": "Yêu cầu đăng nhập từ dịch vụ không hợp lệ hoặc đã hết hạn. Hãy quay lại dịch vụ và thử lại.",
			"en": "The service's login request is not valid or has expired. Go back to the service and try again.",
		},
		"err_saml_unknown_sp": {
			"vi": "Dịch vụ này chưa được đăng ký với Định danh Công dân.",
			"en": "This service is not registered with CitizenID.",
		},
		"err_saml_acs": {
			"vi": "Địa chỉ trả về mà dịch vụ yêu cầu chưa được đăng ký.",
			"en": "The return address the service asked for is not registered.",
		},
		"err_saml_signature": {
			"vi": "Yêu cầu không mang chữ ký hợp lệ của dịch vụ.",
			"en": "The request does not carry a valid signature of the service.",
		},
		"err_saml_replay": {
			"vi": "Yêu cầu đăng nhập này đã được sử dụng. Hãy quay lại dịch vụ và thử lại.",
			"en": "This login request was already used. Go back to the service and try again.",
		},
		"err_saml_idp_initiated": {
			"vi": "Dịch vụ này không cho phép mở từ đây. Hãy vào trang của dịch vụ để đăng nhập.",
			"en": "This service cannot be opened from here. Go to the service's own page to log in.",
		},
		"saml_post_title":      {"vi": "Đang chuyển về dịch vụ", "en": "Returning to the service"},
		"saml_post_body":       {"vi": "Đang chuyển bạn về", "en": "Returning you to"},
		"saml_post_service":    {"vi": "dịch vụ", "en": "the service"},
		"saml_continue":        {"vi": "Tiếp tục", "en": "Continue"},
		"saml_logout_progress": {"vi": "Đang đăng xuất", "en": "Logging out"},
		"saml_logout_progress_body": {
			"vi": "Đang đăng xuất bạn khỏi các dịch vụ đã dùng trong phiên này.",
			"en": "Logging you out of the services used in this session.",
		},
		"saml_logout_title":     {"vi": "Đã đăng xuất", "en": "Logged out"},
		"saml_logout_services":  {"vi": "Các dịch vụ đã dùng trong phiên này", "en": "Services used in this session"},
		"saml_logout_confirmed": {"vi": "đã đăng xuất", "en": "logged out"},
		"saml_logout_unconfirmed": {
			"vi": "chưa xác nhận đăng xuất",
			"en": "did not confirm the logout",
		},
		"saml_logout_unconfirmed_help": {
			"vi": "Một số dịch vụ chưa xác nhận. Nếu bạn dùng máy tính chung, hãy đóng trình duyệt.",
			"en": "Some services did not confirm. If this is a shared computer, close the browser.",
		},
		"saml_logout_continue": {"vi": "Tiếp tục", "en": "Continue"},
	})
}
