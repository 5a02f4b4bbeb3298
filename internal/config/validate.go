package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/keys"
)

// Validate reports every problem with the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	iss, err := url.Parse(c.Server.Issuer)
	switch {
	case err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http"):
		add("server.issuer %q: must be an absolute http(s) URL", c.Server.Issuer)
	case iss.User != nil:
		add("server.issuer: must not contain user info")
	case iss.RawQuery != "" || iss.ForceQuery || iss.Fragment != "" || strings.HasSuffix(iss.Path, "/"):
		add("server.issuer %q: no query, fragment or trailing slash", c.Server.Issuer)
	case iss.Scheme != "https" && !c.devMode():
		add("server.issuer %q: must use https outside dev mode", c.Server.Issuer)
	case iss.Scheme == "http" && !IsLoopbackHost(iss.Hostname()):
		add("server.issuer %q: plain http is allowed only for localhost", c.Server.Issuer)
	}
	if _, port, err := net.SplitHostPort(c.Server.Addr); err != nil {
		add("server.addr %q: %v", c.Server.Addr, err)
	} else if n, err := strconv.ParseUint(port, 10, 64); port == "" || (err == nil && n > 65535) {
		add("server.addr %q: needs a port from 0 to 65535", c.Server.Addr)
	}
	// Parsed exactly as the server parses them (netip), so what passes here
	// is what the server trusts.
	if c.Server.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.Server.MetricsAddr); err != nil {
			add("server.metrics_addr %q: %v", c.Server.MetricsAddr, err)
		} else if c.Server.MetricsAddr == c.Server.Addr {
			add("server.metrics_addr: must differ from server.addr (metrics stay off the public listener)")
		}
	}
	for _, p := range c.Server.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			if pre.Bits() == 0 {
				add("server.trusted_proxies: %q would trust every client's X-Forwarded-For", p)
			}
		} else if _, err := netip.ParseAddr(p); err != nil {
			add("server.trusted_proxies: %q is neither an IP address nor a CIDR", p)
		}
	}
	if c.Database.URL != "" && !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") {
		add("database.url: must start with postgres:// (leave empty for the embedded SQLite)")
	}
	if c.Redis.URL != "" && !strings.HasPrefix(c.Redis.URL, "redis://") && !strings.HasPrefix(c.Redis.URL, "rediss://") {
		add("redis.url: must start with redis:// or rediss:// (leave empty for the embedded server)")
	}
	if (c.Database.URL == "") != !c.Redis.External() {
		add("database.url and redis.url (or redis.sentinel, redis.cluster): set both for production or neither for the embedded default")
	}
	ways := 0
	for _, set := range []bool{c.Redis.URL != "", len(c.Redis.Sentinel.Addrs) > 0, len(c.Redis.Cluster.Addrs) > 0} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		add("redis: set one of url, sentinel and cluster")
	}
	if len(c.Redis.Sentinel.Addrs) > 0 && c.Redis.Sentinel.Master == "" {
		add("redis.sentinel.master: the name of the master the sentinels watch is required")
	}
	if c.Redis.CAFile != "" {
		if _, err := os.Stat(c.Redis.CAFile); err != nil {
			add("redis.ca_file: %v", err)
		}
	}
	if e := c.Telemetry.OTLP.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("telemetry.otlp.endpoint %q: want http(s)://host:port of an OTLP/HTTP collector", e)
		}
	}
	if c.Redis.Timeout <= 0 || c.Redis.Timeout > 30*time.Second {
		add("redis.timeout: from 1ms to 30s (default 2s)")
	}
	if c.Database.Timeout <= 0 || c.Database.Timeout > time.Minute {
		add("database.timeout: from 1ms to 1m (default 5s)")
	}
	if !c.devMode() {
		if c.Keys.MasterKey == "" && c.Keys.MasterKeyFile == "" {
			add("keys: a master key is required outside dev mode (CITIZENID_KEYS_MASTER_KEY or keys.master_key_file)")
		}
		if c.Tokens.PairwiseSecret == "" {
			add("tokens.pairwise_secret: required outside dev mode; it must never change once portals rely on subjects")
		}
	}
	if c.Keys.MasterKey != "" && c.Keys.MasterKeyFile != "" {
		add("keys: set master_key or master_key_file, not both")
	}
	if c.Keys.MasterKey != "" {
		// The parser's errors never contain the key.
		if _, err := keys.ParseMasterKey(c.Keys.MasterKey); err != nil {
			add("keys.master_key: %v", err)
		}
	}
	if c.Tokens.PairwiseSecret != "" && len(c.Tokens.PairwiseSecret) < MinPairwiseSecretLen {
		add("tokens.pairwise_secret: at least %d characters", MinPairwiseSecretLen)
	}
	if c.Keys.RSABits < 2048 || c.Keys.RSABits > 8192 {
		add("keys.rsa_bits %d: from 2048 to 8192", c.Keys.RSABits)
	}
	if err := keys.CheckAlgorithm(c.Keys.Algorithm); err != nil {
		add("keys.algorithm: %v", err)
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 64 {
		add("password.min_length %d: from 8 to 64", c.Password.MinLength)
	}
	if c.Password.MemoryKiB < 8*1024 || c.Password.Time < 1 || c.Password.Threads < 1 {
		add("password: argon2id needs memory_kib ≥ 8192, time ≥ 1, threads ≥ 1")
	}
	positive := map[string]time.Duration{
		"session.idle_timeout":             c.Session.IdleTimeout,
		"session.absolute_timeout":         c.Session.AbsoluteTimeout,
		"session.login_timeout":            c.Session.LoginTimeout,
		"login.window":                     c.Login.Window,
		"login.base_delay":                 c.Login.BaseDelay,
		"login.max_delay":                  c.Login.MaxDelay,
		"login.max_slowdown":               c.Login.MaxSlowdown,
		"tokens.access_token_lifetime":     c.Tokens.AccessTokenLifetime,
		"tokens.id_token_lifetime":         c.Tokens.IDTokenLifetime,
		"tokens.refresh_token_lifetime":    c.Tokens.RefreshTokenLifetime,
		"tokens.code_lifetime":             c.Tokens.CodeLifetime,
		"server.shutdown_timeout":          c.Server.ShutdownTimeout,
		"keys.cache_ttl":                   c.Keys.CacheTTL,
		"backchannel_logout.poll_interval": c.BackchannelLogout.PollInterval,
		"backchannel_logout.timeout":       c.BackchannelLogout.Timeout,
		"backchannel_logout.retry_base":    c.BackchannelLogout.RetryBase,
		"backchannel_logout.max_wait":      c.BackchannelLogout.MaxWait,
		"backchannel_logout.give_up_after": c.BackchannelLogout.GiveUpAfter,
	}
	for _, name := range sortedKeys(positive) {
		if positive[name] <= 0 {
			add("%s: must be a positive duration", name)
		}
	}
	if c.Session.IdleTimeout > c.Session.AbsoluteTimeout {
		add("session.idle_timeout must not exceed session.absolute_timeout")
	}
	if c.Login.BaseDelay > c.Login.MaxDelay {
		add("login.base_delay must not exceed login.max_delay")
	}
	if c.Tokens.ClientCacheRefresh < 0 || c.Tokens.ClientCacheRefresh > 10*time.Second {
		add("tokens.client_cache_refresh: must be between 0 and 10s, got %s", c.Tokens.ClientCacheRefresh)
	}
	if c.Tokens.CodeLifetime > 10*time.Minute {
		add("tokens.code_lifetime: at most 10m (RFC 6749 §4.1.2)")
	}
	if c.Login.FreeFailures < 1 || c.Login.IPFreeFailures < 1 || c.Login.AccountFreeFailures < 1 {
		add("login.free_failures, login.ip_free_failures and login.account_free_failures: at least 1")
	}
	if c.Login.MaxSlowdown > 30*time.Second {
		add("login.max_slowdown: at most 30s (a slowed login holds a connection)")
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		add("log.format %q: json or text", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level %q: debug, info, warn or error", c.Log.Level)
	}
	seen := map[string]bool{}
	for i, l := range c.Assurance.Levels() {
		name := [...]string{"low", "substantial", "high", "very_high"}[i]
		switch {
		case strings.TrimSpace(l.ACR) == "":
			add("assurance.%s.acr: must not be empty", name)
		case seen[l.ACR]:
			add("assurance.%s.acr %q: used by another level", name, l.ACR)
		}
		seen[l.ACR] = true
		if l.MaxAge < 0 || l.Idle < 0 {
			add("assurance.%s: max_age and idle must not be negative", name)
		}
	}
	if c.Assurance.AccountFreshness <= 0 {
		add("assurance.account_freshness: must be a positive duration")
	}
	if c.Admin.MinLevel < 2 || c.Admin.MinLevel > 4 {
		add("admin.min_level %d: from 2 to 4 (the console is never open at level 1)", c.Admin.MinLevel)
	}
	if c.Admin.IdleTimeout <= 0 {
		add("admin.idle_timeout: must be a positive duration")
	}
	if c.Admin.SensitiveFreshness <= 0 {
		add("admin.sensitive_freshness: must be a positive duration")
	}
	if c.Admin.SecretOverlap < 0 || c.Admin.SecretOverlap > MaxSecretOverlap {
		add("admin.secret_overlap: from 0 to %v", MaxSecretOverlap)
	}
	if c.Admin.MetadataTimeout <= 0 || c.Admin.MetadataTimeout > time.Minute {
		add("admin.metadata_timeout: a positive duration of at most 1m")
	}
	if _, err := time.LoadLocation(c.Admin.TimeZone); err != nil || c.Admin.TimeZone == "" || c.Admin.TimeZone == "Local" {
		add("admin.time_zone %q: must be an IANA time zone such as Asia/Ho_Chi_Minh or UTC", c.Admin.TimeZone)
	}
	if c.SAML.EntityID != "" {
		if u, err := url.Parse(c.SAML.EntityID); err != nil || !u.IsAbs() || len(c.SAML.EntityID) > 1024 {
			add("saml.entity_id %q: must be an absolute URI", c.SAML.EntityID)
		}
	}
	if n := c.Notifications; n.PollInterval <= 0 || n.RetryBase <= 0 || n.MaxAttempts < 1 {
		add("notifications: poll_interval and retry_base must be positive, max_attempts at least 1")
	}
	if u := c.Notifications.Email.SMTP; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "smtp" && p.Scheme != "smtps") || p.Port() == "" {
			add("notifications.email.smtp %q: want smtp://host:port or smtps://host:port", u)
		}
	} else if !c.devMode() {
		add("notifications.email.smtp: required outside dev mode (codes and notices must reach citizens)")
	}
	if u := c.Notifications.SMS.URL; u != "" {
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "https" && !(p.Scheme == "http" && IsLoopbackHost(p.Hostname()))) {
			add("notifications.sms.url %q: want an https URL (http only on loopback)", u)
		}
	}
	if c.Ledger.Retention <= 0 {
		add("ledger.retention: must be a positive duration")
	}
	if c.DataDir == "" {
		add("data_dir: must not be empty")
	}
	errs = append(errs, c.validateWebAuthn()...)
	errs = append(errs, c.validateCertificate()...)
	return errors.Join(errs...)
}
