package server

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Locales CitizenID speaks, the default first.
var Locales = []string{"vi", "en"}

var matcher = language.NewMatcher([]language.Tag{language.Vietnamese, language.English})

// LangCookie remembers the citizen's choice from the language switcher.
const LangCookie = "citizenid_lang"

// Locale picks the page language: the request's ui_locales (passed in by
// the caller, from the protocol request), then the switcher cookie, then
// Accept-Language, then Vietnamese.
func Locale(r *http.Request, uiLocales []string) string {
	for _, l := range uiLocales {
		if loc, ok := supported(l); ok {
			return loc
		}
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if loc, ok := supported(c.Value); ok {
			return loc
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf != language.No {
				return Locales[idx]
			}
		}
	}
	return Locales[0]
}

func supported(l string) (string, bool) {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	for _, s := range Locales {
		if s == l {
			return s, true
		}
	}
	return "", false
}

// messages is the catalogue: key → locale → text.
var messages = map[string]map[string]string{
	"site_name":             {"vi": "Định danh Công dân", "en": "CitizenID"},
	"skip_to_content":       {"vi": "Chuyển đến nội dung chính", "en": "Skip to main content"},
	"language":              {"vi": "Ngôn ngữ", "en": "Language"},
	"change":                {"vi": "Đổi", "en": "Change"},
	"login_title":           {"vi": "Đăng nhập", "en": "Log in"},
	"login_for":             {"vi": "để tiếp tục tới", "en": "to continue to"},
	"citizen_number":        {"vi": "Số định danh cá nhân (12 chữ số)", "en": "Citizen number (12 digits)"},
	"password":              {"vi": "Mật khẩu", "en": "Password"},
	"submit_login":          {"vi": "Đăng nhập", "en": "Log in"},
	"err_credentials":       {"vi": "Số định danh hoặc mật khẩu không đúng.", "en": "Citizen number or password is wrong."},
	"err_number_format":     {"vi": "Số định danh phải gồm đúng 12 chữ số.", "en": "The citizen number must be exactly 12 digits."},
	"err_throttled":         {"vi": "Quá nhiều lần thử không thành công. Vui lòng thử lại sau %s.", "en": "Too many failed attempts. Please try again in %s."},
	"err_disabled":          {"vi": "Tài khoản này đang bị khoá. Vui lòng liên hệ bộ phận hỗ trợ.", "en": "This account is disabled. Please contact the help desk."},
	"err_form":              {"vi": "Biểu mẫu không hợp lệ. Vui lòng thử lại.", "en": "The form was not valid. Please try again."},
	"err_title":             {"vi": "Không thể tiếp tục", "en": "Cannot continue"},
	"err_generic":           {"vi": "Đã có lỗi xảy ra. Vui lòng quay lại cổng dịch vụ và thử lại.", "en": "Something went wrong. Please go back to the service portal and try again."},
	"err_other_browser":     {"vi": "Liên kết đăng nhập này đã được mở trong một trình duyệt khác. Vì an toàn, hãy quay lại cổng dịch vụ và bắt đầu lại trong trình duyệt này.", "en": "This login link was started in another browser. For your safety, go back to the service portal and start again in this browser."},
	"err_txn_expired":       {"vi": "Phiên đăng nhập đã hết hạn. Vui lòng quay lại cổng dịch vụ và bắt đầu lại.", "en": "This login has expired. Please go back to the service portal and start again."},
	"err_unknown_client":    {"vi": "Cổng dịch vụ này chưa được đăng ký với hệ thống định danh.", "en": "This service portal is not registered with CitizenID."},
	"err_redirect_uri":      {"vi": "Địa chỉ quay lại của cổng dịch vụ không hợp lệ. Vì an toàn, chúng tôi không chuyển tiếp bạn.", "en": "The portal's return address is not registered. For your safety you were not sent back."},
	"err_not_found":         {"vi": "Không tìm thấy trang.", "en": "Page not found."},
	"request_id":            {"vi": "Mã yêu cầu", "en": "Request ID"},
	"logged_out_title":      {"vi": "Bạn đã đăng xuất", "en": "You are logged out"},
	"logged_out_body":       {"vi": "Phiên đăng nhập của bạn đã kết thúc trên thiết bị này.", "en": "Your session on this device has ended."},
	"logout_confirm_title":  {"vi": "Đăng xuất?", "en": "Log out?"},
	"logout_confirm_body":   {"vi": "Một cổng dịch vụ yêu cầu kết thúc phiên đăng nhập của bạn. Bạn có muốn đăng xuất khỏi tất cả các cổng dịch vụ trên thiết bị này không?", "en": "A service portal asks to end your session. Do you want to log out of every service portal on this device?"},
	"logout_yes":            {"vi": "Đăng xuất", "en": "Log out"},
	"logout_no":             {"vi": "Không, tiếp tục đăng nhập", "en": "No, stay logged in"},
	"totp_title":            {"vi": "Nhập mã xác thực", "en": "Enter your verification code"},
	"totp_label":            {"vi": "Mã 6 chữ số từ ứng dụng xác thực", "en": "6-digit code from your authenticator app"},
	"totp_help":             {"vi": "Mở ứng dụng xác thực trên điện thoại và nhập mã đang hiển thị.", "en": "Open the authenticator app on your phone and enter the code it shows."},
	"submit_code":           {"vi": "Xác nhận", "en": "Verify"},
	"use_recovery":          {"vi": "Không dùng được ứng dụng? Dùng mã khôi phục", "en": "Can't use the app? Use a recovery code"},
	"recovery_title":        {"vi": "Nhập mã khôi phục", "en": "Enter a recovery code"},
	"recovery_label":        {"vi": "Mã khôi phục (ví dụ abcde-fghij)", "en": "Recovery code (for example abcde-fghij)"},
	"recovery_help":         {"vi": "Mỗi mã chỉ dùng được một lần. Sau khi dùng, bạn cần cài đặt lại ứng dụng xác thực.", "en": "Each code works once. After using one you must set up your authenticator app again."},
	"recovered_title":       {"vi": "Hãy cài đặt lại ứng dụng xác thực", "en": "Set up your authenticator app again"},
	"recovered_body":        {"vi": "Bạn vừa đăng nhập bằng mã khôi phục. Vì an toàn, ứng dụng xác thực cũ đã bị gỡ. Hãy vào trang Bảo mật tài khoản để cài đặt lại.", "en": "You logged in with a recovery code. For your safety the old authenticator app was removed. Go to Account security to set it up again."},
	"set_up_now":            {"vi": "Cài đặt ngay", "en": "Set it up now"},
	"continue":              {"vi": "Tiếp tục", "en": "Continue"},
	"err_code":              {"vi": "Mã không đúng hoặc đã được dùng. Vui lòng thử mã mới.", "en": "The code is wrong or was already used. Please try a new code."},
	"account_title":         {"vi": "Bảo mật tài khoản", "en": "Account security"},
	"totp_section":          {"vi": "Ứng dụng xác thực (mã 6 chữ số)", "en": "Authenticator app (6-digit codes)"},
	"totp_on":               {"vi": "Đang bật.", "en": "On."},
	"totp_off":              {"vi": "Chưa cài đặt. Ứng dụng xác thực giúp tài khoản an toàn hơn và cho phép dùng các dịch vụ cần mức bảo đảm cao hơn.", "en": "Not set up. An authenticator app makes your account safer and lets you use services that need a higher assurance level."},
	"totp_setup":            {"vi": "Cài đặt ứng dụng xác thực", "en": "Set up an authenticator app"},
	"totp_scan":             {"vi": "Quét mã QR bằng ứng dụng xác thực, rồi nhập mã 6 chữ số mà ứng dụng hiển thị.", "en": "Scan the QR code with your authenticator app, then enter the 6-digit code it shows."},
	"totp_qr_alt":           {"vi": "Mã QR để thêm tài khoản vào ứng dụng xác thực", "en": "QR code to add the account to your authenticator app"},
	"totp_open_app":         {"vi": "Mở trong ứng dụng xác thực trên thiết bị này", "en": "Open in the authenticator app on this device"},
	"totp_manual":           {"vi": "Hoặc nhập khoá thủ công:", "en": "Or enter the key by hand:"},
	"totp_confirm":          {"vi": "Xác nhận và bật", "en": "Confirm and turn on"},
	"totp_remove":           {"vi": "Gỡ ứng dụng xác thực", "en": "Remove the authenticator app"},
	"recovery_left":         {"vi": "mã khôi phục còn lại", "en": "recovery codes left"},
	"recovery_codes_title":  {"vi": "Mã khôi phục của bạn", "en": "Your recovery codes"},
	"recovery_codes_help":   {"vi": "Hãy lưu các mã này ở nơi an toàn. Chúng chỉ hiển thị một lần. Mỗi mã dùng được một lần khi bạn mất điện thoại.", "en": "Keep these codes somewhere safe. They are shown only once. Each works once if you lose your phone."},
	"second_factor_section": {"vi": "Xác thực hai bước", "en": "Two-step verification"},
	"second_factor_always":  {"vi": "Luôn hỏi mã xác thực khi đăng nhập", "en": "Always ask for a code when I log in"},
	"save":                  {"vi": "Lưu", "en": "Save"},
	"logout":                {"vi": "Đăng xuất", "en": "Log out"},
	"msg_totp_enrolled":     {"vi": "Đã bật ứng dụng xác thực.", "en": "The authenticator app is on."},
	"msg_totp_removed":      {"vi": "Đã gỡ ứng dụng xác thực.", "en": "The authenticator app was removed."},
	"msg_setting_saved":     {"vi": "Đã lưu cài đặt.", "en": "Setting saved."},
	"err_account_level":     {"vi": "Thao tác này cần mức xác thực cao hơn mà tài khoản của bạn chưa có.", "en": "This action needs a higher authentication level than your account can reach."},
	"or_use":                {"vi": "Hoặc đăng nhập bằng cách khác:", "en": "Or log in another way:"},
	"method_totp_title":     {"vi": "Nhập mã xác thực", "en": "Enter your verification code"},
	"home_title":            {"vi": "Hệ thống định danh công dân", "en": "Citizen identity service"},
	"home_body":             {"vi": "Đăng nhập một lần để sử dụng các dịch vụ công trực tuyến.", "en": "Log in once to use the online public services."},
	"footer":                {"vi": "Dịch vụ định danh điện tử của Chính phủ", "en": "The government's digital identity service"},
}

// AddMessages adds a feature's messages to the catalogue (key → locale →
// text). Call it from an init function in a file of this package, one file
// per feature (i18n_saml.go, i18n_admin.go, ...); a key defined twice panics
// at start-up.
func AddMessages(m map[string]map[string]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("i18n: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

// Messages returns the catalogue for a locale, falling back to the default.
func Messages(locale string) map[string]string {
	out := make(map[string]string, len(messages))
	for k, m := range messages {
		if s, ok := m[locale]; ok {
			out[k] = s
		} else {
			out[k] = m[Locales[0]]
		}
	}
	return out
}
