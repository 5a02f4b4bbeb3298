// Package config owns CitizenID's configuration: the typed tree read from one
// YAML file (unknown keys rejected), CITIZENID_* environment overrides,
// defaults set in one place, and Validate, which reports every problem at
// once. It does not open databases or listeners.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // admin.time_zone loads on machines without a zone database

	"go.yaml.in/yaml/v3"
)

// MinPairwiseSecretLen is the shortest tokens.pairwise_secret accepted: a
// short secret could be guessed from one known subject, letting portals
// link a citizen across services.
const MinPairwiseSecretLen = 32

// Config is the whole configuration.
type Config struct {
	// Dev relaxes production checks (HTTPS issuer, master key). The embedded
	// default is always treated as dev.
	Dev      bool           `yaml:"dev"`
	DataDir  string         `yaml:"data_dir"`
	Server   ServerConfig   `yaml:"server"`
	Database DatabaseConfig `yaml:"database"`
	Redis    RedisConfig    `yaml:"redis"`
	Keys     KeysConfig     `yaml:"keys"`
	Password PasswordConfig `yaml:"password"`
	Session  SessionConfig  `yaml:"session"`
	Login    LoginConfig    `yaml:"login"`
	Tokens   TokensConfig   `yaml:"tokens"`
	// Assurance holds the acr string and freshness limits of each level.
	Assurance AssuranceConfig `yaml:"assurance"`
	Log       LogConfig       `yaml:"log"`
	// WebAuthn configures passkeys and security keys.
	WebAuthn WebAuthnConfig `yaml:"webauthn"`
	// Admin configures the admin console and API.
	Admin AdminConfig `yaml:"admin"`
	// Certificate configures login with a signature certificate (level 4).
	Certificate CertificateConfig `yaml:"certificate"`
	// SAML configures the SAML 2.0 identity provider.
	SAML SAMLConfig `yaml:"saml"`
	// Ledger configures the data-release ledger.
	Ledger LedgerConfig `yaml:"ledger"`
	// Registration is citizens' own registration at /register.
	Registration RegistrationConfig `yaml:"registration"`
	// Notifications configures email and SMS to citizens.
	Notifications NotificationsConfig `yaml:"notifications"`
	// BackchannelLogout is how logouts reach portals' servers.
	BackchannelLogout BackchannelLogoutConfig `yaml:"backchannel_logout"`
	// Telemetry exports traces.
	Telemetry TelemetryConfig `yaml:"telemetry"`
}

// TelemetryConfig is OpenTelemetry's.
type TelemetryConfig struct {
	OTLP OTLPConfig `yaml:"otlp"`
}

// OTLPConfig is the collector traces go to over OTLP/HTTP.
type OTLPConfig struct {
	// Endpoint is http(s)://host:port (the path defaults to /v1/traces);
	// empty: no tracing.
	Endpoint string `yaml:"endpoint"`
}

// BackchannelLogoutConfig is the delivery of back-channel logouts: each
// attempt is bounded by Timeout; after a failure the next waits
// RetryBase, doubling up to MaxWait; a logout not delivered GiveUpAfter
// after the session ended is marked failed.
type BackchannelLogoutConfig struct {
	PollInterval time.Duration `yaml:"poll_interval"`
	Timeout      time.Duration `yaml:"timeout"`
	RetryBase    time.Duration `yaml:"retry_base"`
	MaxWait      time.Duration `yaml:"max_wait"`
	GiveUpAfter  time.Duration `yaml:"give_up_after"`
}

// RegistrationConfig is /register's.
type RegistrationConfig struct {
	Enabled bool `yaml:"enabled"`
}

// NotificationsConfig is how messages reach citizens (internal/notify).
type NotificationsConfig struct {
	Email EmailConfig `yaml:"email"`
	SMS   SMSConfig   `yaml:"sms"`
	// PollInterval is how often each node looks for messages to deliver.
	PollInterval time.Duration `yaml:"poll_interval"`
	// RetryBase is the wait after a failed delivery; it doubles after each
	// one, until MaxAttempts, when the message is given up.
	RetryBase   time.Duration `yaml:"retry_base"`
	MaxAttempts int           `yaml:"max_attempts"`
}

// EmailConfig is the SMTP server's.
type EmailConfig struct {
	// SMTP is smtp://[user:password@]host:port (STARTTLS when offered) or
	// smtps://…; empty in dev mode logs messages instead of sending them.
	SMTP string `yaml:"smtp"`
	From string `yaml:"from"`
}

// SMSConfig is the SMS gateway's: a JSON POST with a bearer token.
type SMSConfig struct {
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
	Brand string `yaml:"brand"`
}

// LedgerConfig is the data-release ledger's.
type LedgerConfig struct {
	// Retention is how long an entry is kept; a purge on every node
	// deletes older ones. Default 5 years (43800h).
	Retention time.Duration `yaml:"retention"`
}

// ServerConfig is the HTTP side.
type ServerConfig struct {
	Addr   string `yaml:"addr"`
	Issuer string `yaml:"issuer"`
	// TrustedProxies lists addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For header is believed.
	TrustedProxies  []string      `yaml:"trusted_proxies"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MetricsAddr, when set, serves Prometheus metrics at /metrics on this
	// separate listener (keep it off the internet).
	MetricsAddr string `yaml:"metrics_addr"`
}

// DatabaseConfig chooses PostgreSQL (url) or the embedded SQLite file.
type DatabaseConfig struct {
	URL string `yaml:"url"`
	// Timeout bounds every query and transaction (and is PostgreSQL's
	// statement_timeout and the connect timeout), whatever the request.
	Timeout time.Duration `yaml:"timeout"`
}

// RedisConfig chooses a Redis server (url), a Sentinel-managed master or
// a Cluster, or the embedded server (none of them set).
type RedisConfig struct {
	// URL is redis://[user:password@]host:port/db or rediss://… (TLS).
	URL string `yaml:"url"`
	// CAFile verifies a rediss:// server with these CA certificates
	// (PEM) instead of the system's.
	CAFile string `yaml:"ca_file"`
	// Sentinel: the master's name, the sentinels' addresses and the
	// password of the Redis servers (and of the sentinels).
	Sentinel RedisSentinelConfig `yaml:"sentinel"`
	// Cluster: the seed addresses of a Redis Cluster.
	Cluster RedisClusterConfig `yaml:"cluster"`
	// Timeout bounds each command: dial, read, write and waiting for a
	// connection from the pool.
	Timeout time.Duration `yaml:"timeout"`
}

// RedisSentinelConfig is a master found through Redis Sentinel.
type RedisSentinelConfig struct {
	Master   string   `yaml:"master"`
	Addrs    []string `yaml:"addrs"`
	Password string   `yaml:"password"`
}

// RedisClusterConfig is a Redis Cluster.
type RedisClusterConfig struct {
	Addrs    []string `yaml:"addrs"`
	Password string   `yaml:"password"`
}

// External reports whether a Redis server outside the process is
// configured (a URL, Sentinel or Cluster).
func (r RedisConfig) External() bool {
	return r.URL != "" || len(r.Sentinel.Addrs) > 0 || len(r.Cluster.Addrs) > 0
}

// KeysConfig holds the master key that encrypts secrets at rest and the
// signing keys' settings.
type KeysConfig struct {
	// MasterKey is base64 or hex of 32 bytes. Prefer MasterKeyFile or the
	// CITIZENID_KEYS_MASTER_KEY environment variable.
	MasterKey     string        `yaml:"master_key"`
	MasterKeyFile string        `yaml:"master_key_file"`
	RSABits       int           `yaml:"rsa_bits"`
	CacheTTL      time.Duration `yaml:"cache_ttl"`
	// Algorithm signs OIDC tokens by default: RS256, PS256, ES256 or
	// EdDSA. RS256 keys are kept whatever it says (SAML, and clients that
	// ask for RS256); another value adds a key lifecycle of its own.
	Algorithm string `yaml:"algorithm"`
}

// PasswordConfig holds argon2id parameters.
type PasswordConfig struct {
	// MinLength is the shortest new password, in characters (at least 8,
	// NIST SP 800-63B's minimum).
	MinLength int    `yaml:"min_length"`
	MemoryKiB uint32 `yaml:"memory_kib"`
	Time      uint32 `yaml:"time"`
	Threads   uint8  `yaml:"threads"`
}

// SessionConfig holds SSO-session lifetimes.
type SessionConfig struct {
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
	LoginTimeout    time.Duration `yaml:"login_timeout"`
}

// LoginConfig holds throttling of failed logins.
type LoginConfig struct {
	// Failures allowed per account from one client address (and per
	// client address) within Window before delays start; each further
	// failure doubles the delay up to MaxDelay.
	FreeFailures   int           `yaml:"free_failures"`
	IPFreeFailures int           `yaml:"ip_free_failures"`
	Window         time.Duration `yaml:"window"`
	BaseDelay      time.Duration `yaml:"base_delay"`
	MaxDelay       time.Duration `yaml:"max_delay"`
	// AccountFreeFailures is the failures allowed per account from every
	// address together before each further password check of the account
	// is slowed (from BaseDelay, doubling, up to MaxSlowdown). It slows,
	// never refuses: nobody can lock a citizen out.
	AccountFreeFailures int           `yaml:"account_free_failures"`
	MaxSlowdown         time.Duration `yaml:"max_slowdown"`
}

// TokensConfig holds default token lifetimes; clients may override.
type TokensConfig struct {
	AccessTokenLifetime  time.Duration `yaml:"access_token_lifetime"`
	IDTokenLifetime      time.Duration `yaml:"id_token_lifetime"`
	RefreshTokenLifetime time.Duration `yaml:"refresh_token_lifetime"`
	CodeLifetime         time.Duration `yaml:"code_lifetime"`
	// RequirePushedAuthorizationRequests: every client must send its
	// authorization requests through the PAR endpoint (RFC 9126), not
	// only those registered with --require-par or the fapi2 profile.
	RequirePushedAuthorizationRequests bool `yaml:"require_pushed_authorization_requests"`
	// ClientCacheRefresh is how often a node checks whether clients
	// changed (one small query) before trusting its in-memory copies: a
	// client changed in the console or the CLI takes effect on every node
	// within it. It is also how long a node trusts that a portal which
	// just authenticated is not throttled, so wrong secrets counted
	// through other nodes refuse it here within it too. 0 checks on every
	// request.
	ClientCacheRefresh time.Duration `yaml:"client_cache_refresh"`
	// PairwiseSecret keys pairwise subject derivation. Generated and kept in
	// the data dir in embedded mode; must be set in production and never changed.
	PairwiseSecret string `yaml:"pairwise_secret"`
}

// AssuranceConfig describes the authentication levels (DESIGN.md).
type AssuranceConfig struct {
	Low         LevelConfig `yaml:"low"`
	Substantial LevelConfig `yaml:"substantial"`
	High        LevelConfig `yaml:"high"`
	VeryHigh    LevelConfig `yaml:"very_high"`
	// AccountFreshness is how recent a login must be for changes on the
	// citizen's account page.
	AccountFreshness time.Duration `yaml:"account_freshness"`
}

// LevelConfig is one level: the acr string portals see and ask for, and
// how long the level lasts after the authentication (max_age) and after the
// last activity (idle). Zero means no limit beyond the SSO session's.
type LevelConfig struct {
	ACR    string        `yaml:"acr"`
	MaxAge time.Duration `yaml:"max_age"`
	Idle   time.Duration `yaml:"idle"`
}

// Levels returns the four levels in order, 1 to 4.
func (a AssuranceConfig) Levels() [4]LevelConfig {
	return [4]LevelConfig{a.Low, a.Substantial, a.High, a.VeryHigh}
}

// AdminConfig configures the admin console (/admin) and admin API.
type AdminConfig struct {
	// MinLevel is the authentication level the console requires, 2 to 4.
	MinLevel int `yaml:"min_level"`
	// IdleTimeout ends a console session after this long without console
	// activity; the next request asks for the level again.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// SensitiveFreshness is how recent the authentication must be for
	// sensitive actions (key rotation, role grants, secret rotation).
	SensitiveFreshness time.Duration `yaml:"sensitive_freshness"`
	// SecretOverlap is how long a client's previous secret keeps working
	// after a rotation, unless the administrator chooses otherwise.
	SecretOverlap time.Duration `yaml:"secret_overlap"`
	// MetadataTimeout bounds fetching a SAML service provider's metadata
	// from its URL.
	MetadataTimeout time.Duration `yaml:"metadata_timeout"`
	// TimeZone is the IANA time zone the console shows times in (with
	// their offset); times are stored in UTC.
	TimeZone string `yaml:"time_zone"`
}

// Location is the console's time zone; UTC when TimeZone does not load
// (Validate reports that).
func (a AdminConfig) Location() *time.Location {
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// MaxSecretOverlap is the longest admin.secret_overlap accepted.
const MaxSecretOverlap = 30 * 24 * time.Hour

// SAMLConfig configures the SAML 2.0 identity provider.
type SAMLConfig struct {
	// EntityID is how service providers know CitizenID; empty means
	// <issuer>/saml/metadata. It must never change once SPs rely on it.
	EntityID string `yaml:"entity_id"`
	// SignMetadata signs /saml/metadata with the active key.
	SignMetadata bool `yaml:"sign_metadata"`
	// MetadataAllowedHosts are host names that SP metadata may be fetched
	// from although they resolve to an internal (loopback, private,
	// link-local) address. Every other internal destination is refused.
	MetadataAllowedHosts []string `yaml:"metadata_allowed_hosts"`
}

// LogConfig chooses the log format and level.
type LogConfig struct {
	Format string `yaml:"format"` // "json" or "text"
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// Default returns the configuration with every default set. This is the one
// place defaults live.
func Default() Config {
	return Config{
		DataDir: "./data",
		Server: ServerConfig{
			Addr:            "127.0.0.1:8080",
			Issuer:          "http://localhost:8080",
			ShutdownTimeout: 30 * time.Second,
		},
		Keys:     KeysConfig{RSABits: 2048, CacheTTL: 10 * time.Second, Algorithm: "RS256"},
		Password: PasswordConfig{MinLength: 8, MemoryKiB: 19456, Time: 2, Threads: 1},
		Session: SessionConfig{
			IdleTimeout:     30 * time.Minute,
			AbsoluteTimeout: 12 * time.Hour,
			LoginTimeout:    15 * time.Minute,
		},
		Login: LoginConfig{
			FreeFailures:   5,
			IPFreeFailures: 50,
			Window:         15 * time.Minute,
			BaseDelay:      time.Second,
			MaxDelay:       15 * time.Minute,

			AccountFreeFailures: 20,
			MaxSlowdown:         5 * time.Second,
		},
		Tokens: TokensConfig{
			AccessTokenLifetime:  10 * time.Minute,
			IDTokenLifetime:      10 * time.Minute,
			RefreshTokenLifetime: 8 * time.Hour,
			CodeLifetime:         time.Minute,
			ClientCacheRefresh:   500 * time.Millisecond,
		},
		Assurance: AssuranceConfig{
			Low:              LevelConfig{ACR: "urn:citizenid:loa:1"},
			Substantial:      LevelConfig{ACR: "urn:citizenid:loa:2", MaxAge: 24 * time.Hour, Idle: time.Hour},
			High:             LevelConfig{ACR: "urn:citizenid:loa:3", MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
			VeryHigh:         LevelConfig{ACR: "urn:citizenid:loa:4", MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
			AccountFreshness: 15 * time.Minute,
		},
		Log:         LogConfig{Format: "text", Level: "info"},
		WebAuthn:    defaultWebAuthn(),
		Certificate: defaultCertificate(),
		Admin: AdminConfig{
			MinLevel:           3,
			IdleTimeout:        15 * time.Minute,
			SensitiveFreshness: 5 * time.Minute,
			SecretOverlap:      24 * time.Hour,
			MetadataTimeout:    10 * time.Second,
			TimeZone:           "Asia/Ho_Chi_Minh",
		},
		Ledger:       LedgerConfig{Retention: 5 * 365 * 24 * time.Hour},
		Registration: RegistrationConfig{Enabled: true},
		Notifications: NotificationsConfig{
			Email:        EmailConfig{From: "CitizenID <no-reply@localhost>"},
			PollInterval: 2 * time.Second, RetryBase: 30 * time.Second, MaxAttempts: 8,
		},
		Database: DatabaseConfig{Timeout: 5 * time.Second},
		Redis:    RedisConfig{Timeout: 2 * time.Second},
		BackchannelLogout: BackchannelLogoutConfig{
			PollInterval: time.Second, Timeout: 5 * time.Second, RetryBase: 5 * time.Second,
			MaxWait: 2 * time.Minute, GiveUpAfter: 10 * time.Minute,
		},
	}
}

// Embedded reports whether the configuration runs on the embedded default
// (SQLite file and in-process Redis-protocol server).
func (c *Config) Embedded() bool { return c.Database.URL == "" || !c.Redis.External() }

// Load reads the YAML file at path (if not empty) over the defaults, then
// applies CITIZENID_* variables from env. It does not validate.
func Load(path string, env func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if env == nil {
		env = os.Getenv
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Parse decodes YAML over cfg, rejecting unknown keys and trailing
// documents. Unknown keys are reported by their path ("server.bogus"). On
// error cfg is left unchanged.
func Parse(b []byte, cfg *Config) error {
	out := *cfg
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		return keyPathError(err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("only one YAML document is allowed")
	}
	*cfg = out
	return nil
}

// structPaths maps the Go name of each struct in the Config tree, as the
// YAML decoder prints it ("config.ServerConfig"), to its key path prefix
// ("server."); the root maps to "".
var structPaths = func() map[string]string {
	m := map[string]string{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		m[t.String()] = prefix
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, prefix+name+".")
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), prefix+name+"[].")
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return m
}()

var unknownField = regexp.MustCompile(`^(line \d+: )field (.*) not found in type (\S+)$`)

// keyPathError rewrites the decoder's "field x not found in type
// config.ServerConfig" into "unknown key server.x".
func keyPathError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = e
		if m := unknownField.FindStringSubmatch(e); m != nil {
			if prefix, ok := structPaths[m[3]]; ok {
				msgs[i] = m[1] + "unknown key " + prefix + m[2]
			}
		}
	}
	return &yaml.TypeError{Errors: msgs}
}

// envVar binds one CITIZENID_* variable to a field.
type envVar struct {
	name string
	set  func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p(c) = d
		return nil
	}
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p(c) = b
		return nil
	}
}

// EnvVars lists every CITIZENID_* variable, for documentation and tests.
func EnvVars() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = e.name
	}
	return names
}

var envVars = []envVar{
	{"CITIZENID_DEV", boolean(func(c *Config) *bool { return &c.Dev })},
	{"CITIZENID_SMTP", str(func(c *Config) *string { return &c.Notifications.Email.SMTP })},
	{"CITIZENID_SMS_TOKEN", str(func(c *Config) *string { return &c.Notifications.SMS.Token })},
	{"CITIZENID_DATA_DIR", str(func(c *Config) *string { return &c.DataDir })},
	{"CITIZENID_ADDR", str(func(c *Config) *string { return &c.Server.Addr })},
	{"CITIZENID_ISSUER", str(func(c *Config) *string { return &c.Server.Issuer })},
	{"CITIZENID_METRICS_ADDR", str(func(c *Config) *string { return &c.Server.MetricsAddr })},
	{"CITIZENID_DATABASE_URL", str(func(c *Config) *string { return &c.Database.URL })},
	{"CITIZENID_REDIS_URL", str(func(c *Config) *string { return &c.Redis.URL })},
	{"CITIZENID_OTLP_ENDPOINT", str(func(c *Config) *string { return &c.Telemetry.OTLP.Endpoint })},
	{"CITIZENID_KEYS_MASTER_KEY", str(func(c *Config) *string { return &c.Keys.MasterKey })},
	{"CITIZENID_KEYS_MASTER_KEY_FILE", str(func(c *Config) *string { return &c.Keys.MasterKeyFile })},
	{"CITIZENID_TOKENS_PAIRWISE_SECRET", str(func(c *Config) *string { return &c.Tokens.PairwiseSecret })},
	{"CITIZENID_SESSION_IDLE_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.Session.IdleTimeout })},
	{"CITIZENID_SESSION_ABSOLUTE_TIMEOUT", dur(func(c *Config) *time.Duration { return &c.Session.AbsoluteTimeout })},
	{"CITIZENID_LOG_FORMAT", str(func(c *Config) *string { return &c.Log.Format })},
	{"CITIZENID_LOG_LEVEL", str(func(c *Config) *string { return &c.Log.Level })},
}

func applyEnv(c *Config, env func(string) string) error {
	var errs []error
	for _, e := range envVars {
		v := env(e.name)
		if v == "" {
			continue
		}
		if err := e.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) devMode() bool { return c.Dev || c.Embedded() }

// DevMode reports whether production checks are relaxed: --dev, or the embedded default.
func (c *Config) DevMode() bool { return c.devMode() }

// MasterKeyPath is where the embedded/dev mode keeps a generated master key.
func (c *Config) MasterKeyPath() string { return filepath.Join(c.DataDir, "master.key") }

// SQLitePath is the embedded database file.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "citizenid.db") }

// IsLoopbackHost reports whether host is localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys(m map[string]time.Duration) []string {
	return slices.Sorted(maps.Keys(m))
}

// SigningAlgorithms are the algorithms the server keeps signing keys for
// and publishes: RS256 always (SAML, and portals that need it), and
// keys.algorithm.
func (k KeysConfig) SigningAlgorithms() []string {
	if k.Algorithm == "" || k.Algorithm == "RS256" {
		return []string{"RS256"}
	}
	return []string{"RS256", k.Algorithm}
}
