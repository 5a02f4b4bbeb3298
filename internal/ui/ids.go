package ui

// ID is a message the Go code refers to, by the key it has in every
// locale's files. Templates name their messages themselves ({{.T.key}});
// Go code uses these constants, and Load refuses a catalogue that lacks
// one of them in any locale. A key Go builds at run time ("admin_role_" +
// role) is listed here too, one constant per value, so the check covers it.
//
// Add a constant to goIDs as well; TestIDsListed keeps the two together.
type ID string

// Messages of locales/<lang>/common.json.
const (
	ErrForm            ID = "err_form"
	ErrGeneric         ID = "err_generic"
	ErrNotFound        ID = "err_not_found"
	ErrOtherBrowser    ID = "err_other_browser"
	ErrRedirectURI     ID = "err_redirect_uri"
	ErrTitle           ID = "err_title"
	ErrTxnExpired      ID = "err_txn_expired"
	ErrUnknownClient   ID = "err_unknown_client"
	HomeTitle          ID = "home_title"
	LanguageName       ID = "language_name"
	LoggedOutTitle     ID = "logged_out_title"
	LogoutConfirmTitle ID = "logout_confirm_title"
)

// Messages of locales/<lang>/login.json.
const (
	ErrCode         ID = "err_code"
	ErrCredentials  ID = "err_credentials"
	ErrDisabled     ID = "err_disabled"
	ErrNumberFormat ID = "err_number_format"
	ErrThrottled    ID = "err_throttled"
	LoginTitle      ID = "login_title"
	MethodTOTPTitle ID = "method_totp_title"
	RecoveredTitle  ID = "recovered_title"
	RecoveryTitle   ID = "recovery_title"
)

// Messages of locales/<lang>/account.json.
const (
	AccountTitle    ID = "account_title"
	ErrAccountLevel ID = "err_account_level"
	MsgSettingSaved ID = "msg_setting_saved"
	MsgTOTPEnrolled ID = "msg_totp_enrolled"
	MsgTOTPRemoved  ID = "msg_totp_removed"
)

// Messages of locales/<lang>/certificate.json.
const (
	CertErrAlreadyBound          ID = "cert_err_already_bound"
	CertErrChallenge             ID = "cert_err_challenge"
	CertErrExpired               ID = "cert_err_expired"
	CertErrKey                   ID = "cert_err_key"
	CertErrNoCertificate         ID = "cert_err_no_certificate"
	CertErrNotYetValid           ID = "cert_err_not_yet_valid"
	CertErrOtherCitizen          ID = "cert_err_other_citizen"
	CertErrRevocationUnavailable ID = "cert_err_revocation_unavailable"
	CertErrRevoked               ID = "cert_err_revoked"
	CertErrSignature             ID = "cert_err_signature"
	CertErrToken                 ID = "cert_err_token"
	CertErrUnmapped              ID = "cert_err_unmapped"
	CertErrUntrusted             ID = "cert_err_untrusted"
	CertErrUsage                 ID = "cert_err_usage"
	CertsTitle                   ID = "certs_title"
	MethodCertificate            ID = "method_certificate"
	MethodCertificateTitle       ID = "method_certificate_title"
	MsgCertBound                 ID = "msg_cert_bound"
	MsgCertRemoved               ID = "msg_cert_removed"
)

// Messages of locales/<lang>/webauthn.json.
const (
	ErrWebauthnCloned   ID = "err_webauthn_cloned"
	ErrWebauthnExpired  ID = "err_webauthn_expired"
	ErrWebauthnFailed   ID = "err_webauthn_failed"
	ErrWebauthnName     ID = "err_webauthn_name"
	ErrWebauthnPolicy   ID = "err_webauthn_policy"
	ErrWebauthnRegister ID = "err_webauthn_register"
	ErrWebauthnSynced   ID = "err_webauthn_synced"
	ErrWebauthnUV       ID = "err_webauthn_uv"
	MethodWebauthn      ID = "method_webauthn"
	MethodWebauthnTitle ID = "method_webauthn_title"
	MsgWebauthnAdded    ID = "msg_webauthn_added"
	MsgWebauthnRemoved  ID = "msg_webauthn_removed"
	WebauthnExists      ID = "webauthn_exists"
	WebauthnNameDefault ID = "webauthn_name_default"
)

// Messages of locales/<lang>/saml.json.
const (
	ErrSAMLACS          ID = "err_saml_acs"
	ErrSAMLIDPInitiated ID = "err_saml_idp_initiated"
	ErrSAMLReplay       ID = "err_saml_replay"
	ErrSAMLRequest      ID = "err_saml_request"
	ErrSAMLSignature    ID = "err_saml_signature"
	ErrSAMLUnknownSP    ID = "err_saml_unknown_sp"
	SAMLLogoutProgress  ID = "saml_logout_progress"
	SAMLLogoutTitle     ID = "saml_logout_title"
	SAMLPostTitle       ID = "saml_post_title"
)

// Messages of locales/<lang>/admin.json.
const (
	AdminAdminsTitle           ID = "admin_admins_title"
	AdminAttrBirthdate         ID = "admin_attr_birthdate"
	AdminAttrCitizenNumber     ID = "admin_attr_citizen_number"
	AdminAttrIdentityLevel     ID = "admin_attr_identity_level"
	AdminAttrName              ID = "admin_attr_name"
	AdminAuditEventTitle       ID = "admin_audit_event_title"
	AdminAuditTitle            ID = "admin_audit_title"
	AdminAuthActive            ID = "admin_auth_active"
	AdminAuthDeviceBound       ID = "admin_auth_device_bound"
	AdminAuthFlagged           ID = "admin_auth_flagged"
	AdminAuthMethod            ID = "admin_auth_method"
	AdminAuthName              ID = "admin_auth_name"
	AdminAuthPassword          ID = "admin_auth_password"
	AdminAuthRecoveryCodes     ID = "admin_auth_recovery_codes"
	AdminAuthSynced            ID = "admin_auth_synced"
	AdminAuthTOTP              ID = "admin_auth_totp"
	AdminAuthType              ID = "admin_auth_type"
	AdminAuthUnconfirmed       ID = "admin_auth_unconfirmed"
	AdminAuthWebauthn          ID = "admin_auth_webauthn"
	AdminCitizenTitle          ID = "admin_citizen_title"
	AdminCitizensTitle         ID = "admin_citizens_title"
	AdminClientConfidential    ID = "admin_client_confidential"
	AdminClientNewTitle        ID = "admin_client_new_title"
	AdminClientPublic          ID = "admin_client_public"
	AdminClientTitle           ID = "admin_client_title"
	AdminClientsTitle          ID = "admin_clients_title"
	AdminCodesLeft             ID = "admin_codes_left"
	AdminConfirmCitizenDisable ID = "admin_confirm_citizen_disable"
	AdminConfirmClientDelete   ID = "admin_confirm_client_delete"
	AdminConfirmClientDisable  ID = "admin_confirm_client_disable"
	AdminConfirmKeyRetire      ID = "admin_confirm_key_retire"
	AdminConfirmKeyRotate      ID = "admin_confirm_key_rotate"
	AdminConfirmRevoke         ID = "admin_confirm_revoke"
	AdminConfirmSessionsEnd    ID = "admin_confirm_sessions_end"
	AdminConfirmSPDelete       ID = "admin_confirm_sp_delete"
	AdminConfirmSPDisable      ID = "admin_confirm_sp_disable"
	AdminConfirmTitle          ID = "admin_confirm_title"
	AdminConsole               ID = "admin_console"
	AdminDashboardTitle        ID = "admin_dashboard_title"
	AdminErrAuthMethod         ID = "admin_err_auth_method"
	AdminErrClientExists       ID = "admin_err_client_exists"
	AdminErrClientID           ID = "admin_err_client_id"
	AdminErrClientInvalid      ID = "admin_err_client_invalid"
	AdminErrClientName         ID = "admin_err_client_name"
	AdminErrCrossOrigin        ID = "admin_err_cross_origin"
	AdminErrDuration           ID = "admin_err_duration"
	AdminErrFix                ID = "admin_err_fix"
	AdminErrForbidden          ID = "admin_err_forbidden"
	AdminErrGrantForm          ID = "admin_err_grant_form"
	AdminErrHasRole            ID = "admin_err_has_role"
	AdminErrImmutable          ID = "admin_err_immutable"
	AdminErrKeyActive          ID = "admin_err_key_active"
	AdminErrKeyLastNext        ID = "admin_err_key_last_next"
	AdminErrLastOwner          ID = "admin_err_last_owner"
	AdminErrLevel              ID = "admin_err_level"
	AdminErrLogoURL            ID = "admin_err_logo_url"
	AdminErrMinLevel           ID = "admin_err_min_level"
	AdminErrNoCitizen          ID = "admin_err_no_citizen"
	AdminErrNoClient           ID = "admin_err_no_client"
	AdminErrNoEvent            ID = "admin_err_no_event"
	AdminErrNoGrant            ID = "admin_err_no_grant"
	AdminErrNoKey              ID = "admin_err_no_key"
	AdminErrNoPasskey          ID = "admin_err_no_passkey"
	AdminErrNoSP               ID = "admin_err_no_sp"
	AdminErrNoTOTP             ID = "admin_err_no_totp"
	AdminErrNotAdmin           ID = "admin_err_not_admin"
	AdminErrOverlap            ID = "admin_err_overlap"
	AdminErrPublicAPI          ID = "admin_err_public_api"
	AdminErrPublicSecret       ID = "admin_err_public_secret"
	AdminErrReason             ID = "admin_err_reason"
	AdminErrRedirectCount      ID = "admin_err_redirect_count"
	AdminErrRedirectURI        ID = "admin_err_redirect_uri"
	AdminErrScope              ID = "admin_err_scope"
	AdminErrSector             ID = "admin_err_sector"
	AdminErrSectorOwner        ID = "admin_err_sector_owner"
	AdminErrSelf               ID = "admin_err_self"
	AdminErrSPEntity           ID = "admin_err_sp_entity"
	AdminErrSPExists           ID = "admin_err_sp_exists"
	AdminErrSPInvalid          ID = "admin_err_sp_invalid"
	AdminErrSPMetadata         ID = "admin_err_sp_metadata"
	AdminErrSPUpload           ID = "admin_err_sp_upload"
	AdminErrSubjectType        ID = "admin_err_subject_type"
	AdminErrTime               ID = "admin_err_time"
	AdminErrTitle              ID = "admin_err_title"
	AdminKeyActive             ID = "admin_key_active"
	AdminKeyID                 ID = "admin_key_id"
	AdminKeyNext               ID = "admin_key_next"
	AdminKeyRetired            ID = "admin_key_retired"
	AdminKeysTitle             ID = "admin_keys_title"
	AdminMethodPassword        ID = "admin_method_password"
	AdminMethodRecovery        ID = "admin_method_recovery"
	AdminMethodTOTP            ID = "admin_method_totp"
	AdminMethodWebauthn        ID = "admin_method_webauthn"
	AdminMsgConfirmed          ID = "admin_msg_confirmed"
	AdminMsgDeleted            ID = "admin_msg_deleted"
	AdminMsgDisabled           ID = "admin_msg_disabled"
	AdminMsgEnabled            ID = "admin_msg_enabled"
	AdminMsgGranted            ID = "admin_msg_granted"
	AdminMsgRetired            ID = "admin_msg_retired"
	AdminMsgRevoked            ID = "admin_msg_revoked"
	AdminMsgRotated            ID = "admin_msg_rotated"
	AdminMsgSaved              ID = "admin_msg_saved"
	AdminMsgSessionsEnded      ID = "admin_msg_sessions_ended"
	AdminMsgTOTPReset          ID = "admin_msg_totp_reset"
	AdminMsgWebauthnReset      ID = "admin_msg_webauthn_reset"
	AdminNavAdmins             ID = "admin_nav_admins"
	AdminNavAudit              ID = "admin_nav_audit"
	AdminNavCitizens           ID = "admin_nav_citizens"
	AdminNavClients            ID = "admin_nav_clients"
	AdminNavDashboard          ID = "admin_nav_dashboard"
	AdminNavKeys               ID = "admin_nav_keys"
	AdminNavSPS                ID = "admin_nav_sps"
	AdminOverlapNone           ID = "admin_overlap_none"
	AdminRoleAuditor           ID = "admin_role_auditor"
	AdminRoleHelpdesk          ID = "admin_role_helpdesk"
	AdminRoleOwner             ID = "admin_role_owner"
	AdminRoleRPManager         ID = "admin_role_rp-manager"
	AdminScopeCertificate      ID = "admin_scope_certificate"
	AdminScopeCitizenNumber    ID = "admin_scope_citizen_number"
	AdminSecretTitle           ID = "admin_secret_title"
	AdminSPNewTitle            ID = "admin_sp_new_title"
	AdminSPTitle               ID = "admin_sp_title"
	AdminSPSTitle              ID = "admin_sps_title"
	AdminStatusActive          ID = "admin_status_active"
	AdminStatusDisabled        ID = "admin_status_disabled"
)

// Messages of locales/<lang>/duration.json.
const (
	DurationDaysOne      ID = "duration_days_one"
	DurationDaysOther    ID = "duration_days_other"
	DurationHoursOne     ID = "duration_hours_one"
	DurationHoursOther   ID = "duration_hours_other"
	DurationMinutesOne   ID = "duration_minutes_one"
	DurationMinutesOther ID = "duration_minutes_other"
	DurationSecondsOne   ID = "duration_seconds_one"
	DurationSecondsOther ID = "duration_seconds_other"
)

// Messages of locales/<lang>/release.json: the attributes a portal can
// receive, in plain words (internal/release).
const (
	AttrBirthdate     ID = "attr_birthdate"
	AttrCertificate   ID = "attr_certificate"
	AttrCitizenNumber ID = "attr_citizen_number"
	AttrEmail         ID = "attr_email"
	AttrIdentityLevel ID = "attr_identity_level"
	AttrName          ID = "attr_name"
	AttrPhone         ID = "attr_phone"
	AttrUnknown       ID = "attr_unknown"
)

// Messages of locales/<lang>/register.json: the rules of registration
// and new passwords (internal/citizens, internal/authn/password).
const (
	PwErrCommon            ID = "pw_err_common"
	PwErrLong              ID = "pw_err_long"
	PwErrPersonal          ID = "pw_err_personal"
	PwErrShort             ID = "pw_err_short"
	RegErrBirthdate        ID = "reg_err_birthdate"
	RegErrContact          ID = "reg_err_contact"
	RegErrEmail            ID = "reg_err_email"
	RegErrName             ID = "reg_err_name"
	RegErrNumberCentury    ID = "reg_err_number_century"
	RegErrNumberDigits     ID = "reg_err_number_digits"
	RegErrNumberProvince   ID = "reg_err_number_province"
	RegErrNumberYear       ID = "reg_err_number_year"
	RegErrPasswordMismatch ID = "reg_err_password_mismatch"
	RegErrPhone            ID = "reg_err_phone"
)

// goIDs lists every ID for the start-up check.
var goIDs = []ID{
	ErrForm, ErrGeneric, ErrNotFound, ErrOtherBrowser, ErrRedirectURI, ErrTitle, ErrTxnExpired,
	ErrUnknownClient, HomeTitle, LanguageName, LoggedOutTitle, LogoutConfirmTitle,
	ErrCode, ErrCredentials, ErrDisabled, ErrNumberFormat, ErrThrottled, LoginTitle,
	MethodTOTPTitle, RecoveredTitle, RecoveryTitle,
	AccountTitle, ErrAccountLevel, MsgSettingSaved, MsgTOTPEnrolled, MsgTOTPRemoved,
	CertErrAlreadyBound, CertErrChallenge, CertErrExpired, CertErrKey, CertErrNoCertificate,
	CertErrNotYetValid, CertErrOtherCitizen, CertErrRevocationUnavailable, CertErrRevoked,
	CertErrSignature, CertErrToken, CertErrUnmapped, CertErrUntrusted, CertErrUsage, CertsTitle,
	MethodCertificate, MethodCertificateTitle, MsgCertBound, MsgCertRemoved,
	ErrWebauthnCloned, ErrWebauthnExpired, ErrWebauthnFailed, ErrWebauthnName, ErrWebauthnPolicy,
	ErrWebauthnRegister, ErrWebauthnSynced, ErrWebauthnUV, MethodWebauthn, MethodWebauthnTitle,
	MsgWebauthnAdded, MsgWebauthnRemoved, WebauthnExists, WebauthnNameDefault,
	ErrSAMLACS, ErrSAMLIDPInitiated, ErrSAMLReplay, ErrSAMLRequest, ErrSAMLSignature,
	ErrSAMLUnknownSP, SAMLLogoutProgress, SAMLLogoutTitle, SAMLPostTitle,
	AdminAdminsTitle, AdminAttrBirthdate, AdminAttrCitizenNumber, AdminAttrIdentityLevel,
	AdminAttrName, AdminAuditEventTitle, AdminAuditTitle, AdminAuthActive, AdminAuthDeviceBound,
	AdminAuthFlagged, AdminAuthMethod, AdminAuthName, AdminAuthPassword, AdminAuthRecoveryCodes,
	AdminAuthSynced, AdminAuthTOTP, AdminAuthType, AdminAuthUnconfirmed, AdminAuthWebauthn,
	AdminCitizenTitle, AdminCitizensTitle, AdminClientConfidential, AdminClientNewTitle,
	AdminClientPublic, AdminClientTitle, AdminClientsTitle, AdminCodesLeft,
	AdminConfirmCitizenDisable, AdminConfirmClientDelete, AdminConfirmClientDisable,
	AdminConfirmKeyRetire, AdminConfirmKeyRotate, AdminConfirmRevoke, AdminConfirmSessionsEnd,
	AdminConfirmSPDelete, AdminConfirmSPDisable, AdminConfirmTitle, AdminConsole,
	AdminDashboardTitle, AdminErrAuthMethod, AdminErrClientExists, AdminErrClientID,
	AdminErrClientInvalid, AdminErrClientName, AdminErrCrossOrigin, AdminErrDuration, AdminErrFix,
	AdminErrForbidden, AdminErrGrantForm, AdminErrHasRole, AdminErrImmutable, AdminErrKeyActive,
	AdminErrKeyLastNext, AdminErrLastOwner, AdminErrLevel, AdminErrLogoURL, AdminErrMinLevel,
	AdminErrNoCitizen, AdminErrNoClient, AdminErrNoEvent, AdminErrNoGrant, AdminErrNoKey,
	AdminErrNoPasskey, AdminErrNoSP, AdminErrNoTOTP, AdminErrNotAdmin, AdminErrOverlap,
	AdminErrPublicAPI, AdminErrPublicSecret, AdminErrReason, AdminErrRedirectCount,
	AdminErrRedirectURI, AdminErrScope, AdminErrSector, AdminErrSectorOwner, AdminErrSelf,
	AdminErrSPEntity, AdminErrSPExists, AdminErrSPInvalid, AdminErrSPMetadata, AdminErrSPUpload,
	AdminErrSubjectType, AdminErrTime, AdminErrTitle, AdminKeyActive, AdminKeyID, AdminKeyNext,
	AdminKeyRetired, AdminKeysTitle, AdminMethodPassword, AdminMethodRecovery, AdminMethodTOTP,
	AdminMethodWebauthn, AdminMsgConfirmed, AdminMsgDeleted, AdminMsgDisabled, AdminMsgEnabled,
	AdminMsgGranted, AdminMsgRetired, AdminMsgRevoked, AdminMsgRotated, AdminMsgSaved,
	AdminMsgSessionsEnded, AdminMsgTOTPReset, AdminMsgWebauthnReset, AdminNavAdmins, AdminNavAudit,
	AdminNavCitizens, AdminNavClients, AdminNavDashboard, AdminNavKeys, AdminNavSPS,
	AdminOverlapNone, AdminRoleAuditor, AdminRoleHelpdesk, AdminRoleOwner, AdminRoleRPManager,
	AdminScopeCertificate, AdminScopeCitizenNumber, AdminSecretTitle, AdminSPNewTitle, AdminSPTitle,
	AdminSPSTitle, AdminStatusActive, AdminStatusDisabled,
	DurationDaysOne, DurationDaysOther, DurationHoursOne, DurationHoursOther, DurationMinutesOne,
	DurationMinutesOther, DurationSecondsOne, DurationSecondsOther,
	AttrBirthdate, AttrCertificate, AttrCitizenNumber, AttrEmail, AttrIdentityLevel, AttrName, AttrPhone,
	AttrUnknown,
	LedgerTitle, LedgerLevel, LedgerErrMonth, LedgerEndpointToken, LedgerEndpointUserinfo,
	LedgerEndpointIntrospect, LedgerEndpointSAML,
	PwErrCommon, PwErrLong, PwErrPersonal, PwErrShort, RegErrBirthdate, RegErrContact, RegErrEmail, RegErrName, RegErrNumberCentury, RegErrNumberDigits, RegErrNumberProvince, RegErrNumberYear, RegErrPasswordMismatch, RegErrPhone,
	ConsentTitle, PortalsMsgWithdrawn, PortalsTitle,
}

// The data-release ledger's page (internal/account/activity.go).
const (
	LedgerTitle              ID = "ledger_title"
	LedgerLevel              ID = "ledger_level" // %d: the authentication level
	LedgerErrMonth           ID = "ledger_err_month"
	LedgerEndpointToken      ID = "ledger_endpoint_token"
	LedgerEndpointUserinfo   ID = "ledger_endpoint_userinfo"
	LedgerEndpointIntrospect ID = "ledger_endpoint_introspect"
	LedgerEndpointSAML       ID = "ledger_endpoint_saml"
)

// Messages of locales/<lang>/consent.json: the consent step of a login
// and the citizen's list of portals (/account/portals).
const (
	ConsentTitle        ID = "consent_title"
	PortalsMsgWithdrawn ID = "portals_msg_withdrawn"
	PortalsTitle        ID = "portals_title"
)
