package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// env returns a lookup over m, so tests never see the real environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var (
	testMasterKey      = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	testPairwiseSecret = strings.Repeat("p", MinPairwiseSecretLen)
)

// production returns a valid production configuration: PostgreSQL, Redis,
// https issuer, master key file and pairwise secret.
func production() Config {
	c := Default()
	c.Server.Issuer = "https://id.example.gov"
	c.Database.URL = "postgres://citizenid@db:5432/citizenid"
	c.Redis.URL = "redis://redis:6379/0"
	c.Keys.MasterKeyFile = "/etc/citizenid/master.key"
	c.Tokens.PairwiseSecret = testPairwiseSecret
	c.Notifications.Email.SMTP = "smtp://mail:587"
	return c
}

// wantErrs fails unless err mentions every string in want.
func wantErrs(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("got error %q, want it to mention %q", err, w)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if !c.Embedded() {
		t.Errorf("got Embedded() false for Default(), want true")
	}
	if !c.DevMode() {
		t.Errorf("got DevMode() false for Default(), want true")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("got Validate() = %v for Default(), want nil", err)
	}
	p := production()
	if p.Embedded() || p.DevMode() {
		t.Errorf("got Embedded() %v, DevMode() %v for production, want false, false", p.Embedded(), p.DevMode())
	}
	if err := p.Validate(); err != nil {
		t.Errorf("got Validate() = %v for production, want nil", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "citizenid.yaml")
	const file = `
data_dir: /srv/citizenid
server:
  addr: 0.0.0.0:9000
  issuer: https://id.example.gov
  trusted_proxies: [10.0.0.0/8, 192.0.2.1]
session:
  idle_timeout: 20m
tokens:
  code_lifetime: 30s
log:
  format: json
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, env(nil))
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	want := Default()
	want.DataDir = "/srv/citizenid"
	want.Server.Addr = "0.0.0.0:9000"
	want.Server.Issuer = "https://id.example.gov"
	want.Server.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1"}
	want.Session.IdleTimeout = 20 * time.Minute
	want.Tokens.CodeLifetime = 30 * time.Second
	want.Log.Format = "json"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\ngot  %+v\nwant %+v", got, want)
	}

	// The environment wins over the file.
	got, err = Load(path, env(map[string]string{"CITIZENID_ADDR": "127.0.0.1:7000"}))
	if err != nil {
		t.Fatalf("Load with env: got %v, want nil", err)
	}
	if got.Server.Addr != "127.0.0.1:7000" || got.Server.Issuer != "https://id.example.gov" {
		t.Errorf("Load with env: got addr %q issuer %q, want 127.0.0.1:7000 https://id.example.gov", got.Server.Addr, got.Server.Issuer)
	}

	// No file: the defaults.
	got, err = Load("", env(nil))
	if err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load(\"\"): got %+v, %v, want Default(), nil", got, err)
	}

	// A missing file is an error naming it.
	_, err = Load(filepath.Join(dir, "missing.yaml"), env(nil))
	wantErrs(t, err, "missing.yaml")

	// A bad file is an error naming it.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server:\n  bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad, env(nil))
	wantErrs(t, err, "bad.yaml", "server.bogus")
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unknown top-level key", "bogus: 1\n", []string{"line 1", "unknown key bogus"}},
		{"unknown nested key", "server:\n  addr: 127.0.0.1:1\n  isuer: https://x\n", []string{"line 3", "unknown key server.isuer"}},
		{"unknown deep keys, all reported", "keys:\n  master: x\nlog:\n  colour: red\n", []string{"unknown key keys.master", "unknown key log.colour"}},
		{"map where a string belongs", "server:\n  addr: {a: 1}\n", []string{"line 2", "cannot unmarshal"}},
		{"string where an int belongs", "keys:\n  rsa_bits: big\n", []string{"line 2", "cannot unmarshal"}},
		{"negative unsigned", "password:\n  time: -1\n", []string{"cannot unmarshal"}},
		{"bare number as duration", "session:\n  idle_timeout: 30\n", []string{"cannot unmarshal"}},
		{"bad duration", "session:\n  idle_timeout: soon\n", []string{"cannot unmarshal"}},
		{"list where a section belongs", "server: [1, 2]\n", []string{"cannot unmarshal"}},
		{"scalar where a list belongs", "server:\n  trusted_proxies: {a: b}\n", []string{"cannot unmarshal"}},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", []string{"already defined"}},
		{"two documents", "dev: true\n---\ndev: false\n", []string{"only one YAML document"}},
		{"empty second document", "dev: true\n---\n", []string{"only one YAML document"}},
		{"second document is garbage", "dev: true\n---\n: : [\n", []string{"only one YAML document"}},
		{"top level is a list", "- dev\n", []string{"cannot unmarshal"}},
		{"top level is a scalar", "hello\n", []string{"cannot unmarshal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := Parse([]byte(tt.in), &c)
			wantErrs(t, err, tt.want...)
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got config changed to %+v after a failed Parse, want it unchanged", c)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(Config) bool
	}{
		{"empty", "", func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"comments only", "# nothing\n", func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"document marker", "---\ndev: true\n", func(c Config) bool { return c.Dev }},
		{"document end marker", "dev: true\n...\n", func(c Config) bool { return c.Dev }},
		{"null section keeps defaults", "server:\n", func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"flow style", "{server: {addr: '[::1]:80'}}", func(c Config) bool { return c.Server.Addr == "[::1]:80" }},
		{"duration units", "tokens:\n  refresh_token_lifetime: 1h30m\n", func(c Config) bool { return c.Tokens.RefreshTokenLifetime == 90*time.Minute }},
		{"quoted number into string", "tokens:\n  pairwise_secret: \"0123\"\n", func(c Config) bool { return c.Tokens.PairwiseSecret == "0123" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			if err := Parse([]byte(tt.in), &c); err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v, want the check to hold", c)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"garbage bytes", []byte{0xff, 0xfe, 0x00, 0x01, 0x80, 0x9f, ':', '\n'}},
		{"nul bytes", []byte("dev: \x00\x00\n")},
		{"invalid utf-8", []byte("server:\n  issuer: \xc3\x28\n")},
		{"truncated flow mapping", []byte("server: {addr: 1")},
		{"truncated quoted string", []byte("server:\n  issuer: \"https://x")},
		{"truncated flow sequence", []byte("server:\n  trusted_proxies: [10.0.0.1,")},
		{"tab indentation", []byte("server:\n\taddr: 127.0.0.1:1\n")},
		{"tab before key", []byte("\tdev: true\n")},
		{"bad indentation", []byte("server:\n  addr: a\n issuer: b\n")},
		{"undefined alias", []byte("server: *nope\n")},
		{"unterminated block", []byte("server: |\n\x01")},
		{"only colons", []byte(": : :")},
		{"unknown tag", []byte("dev: !!binary ???\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			if err := Parse(tt.in, &c); err == nil {
				t.Errorf("got nil error for %q, want one", tt.in)
			}
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got config changed after a failed Parse, want it unchanged")
			}
		})
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr []string
	}{
		{
			name:  "addr",
			env:   map[string]string{"CITIZENID_ADDR": ":9999"},
			check: func(c Config) bool { return c.Server.Addr == ":9999" },
		},
		{
			name:  "database url",
			env:   map[string]string{"CITIZENID_DATABASE_URL": "postgres://u:p@db/x"},
			check: func(c Config) bool { return c.Database.URL == "postgres://u:p@db/x" },
		},
		{
			name:  "idle timeout",
			env:   map[string]string{"CITIZENID_SESSION_IDLE_TIMEOUT": "5m"},
			check: func(c Config) bool { return c.Session.IdleTimeout == 5*time.Minute },
		},
		{
			name:  "dev",
			env:   map[string]string{"CITIZENID_DEV": "true"},
			check: func(c Config) bool { return c.Dev },
		},
		{
			name:  "empty value keeps the default",
			env:   map[string]string{"CITIZENID_ADDR": ""},
			check: func(c Config) bool { return c.Server.Addr == Default().Server.Addr },
		},
		{
			name:    "bad duration names the variable",
			env:     map[string]string{"CITIZENID_SESSION_IDLE_TIMEOUT": "forever"},
			wantErr: []string{"CITIZENID_SESSION_IDLE_TIMEOUT"},
		},
		{
			name: "every bad variable is reported",
			env: map[string]string{
				"CITIZENID_SESSION_IDLE_TIMEOUT":     "30",
				"CITIZENID_SESSION_ABSOLUTE_TIMEOUT": "x",
				"CITIZENID_DEV":                      "maybe",
			},
			wantErr: []string{"CITIZENID_SESSION_IDLE_TIMEOUT", "CITIZENID_SESSION_ABSOLUTE_TIMEOUT", "CITIZENID_DEV"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", env(tt.env))
			if tt.wantErr != nil {
				wantErrs(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v, want the check to hold", c)
			}
		})
	}
}

// TestEnvVarsSetTheirField sets each variable and checks that it reaches
// the field named in the example configuration.
func TestEnvVarsSetTheirField(t *testing.T) {
	fields := map[string]func(Config) string{
		"CITIZENID_DEV":                      func(c Config) string { return boolString(c.Dev) },
		"CITIZENID_DATA_DIR":                 func(c Config) string { return c.DataDir },
		"CITIZENID_ADDR":                     func(c Config) string { return c.Server.Addr },
		"CITIZENID_ISSUER":                   func(c Config) string { return c.Server.Issuer },
		"CITIZENID_METRICS_ADDR":             func(c Config) string { return c.Server.MetricsAddr },
		"CITIZENID_DATABASE_URL":             func(c Config) string { return c.Database.URL },
		"CITIZENID_REDIS_URL":                func(c Config) string { return c.Redis.URL },
		"CITIZENID_KEYS_MASTER_KEY":          func(c Config) string { return c.Keys.MasterKey },
		"CITIZENID_KEYS_MASTER_KEY_FILE":     func(c Config) string { return c.Keys.MasterKeyFile },
		"CITIZENID_TOKENS_PAIRWISE_SECRET":   func(c Config) string { return c.Tokens.PairwiseSecret },
		"CITIZENID_SESSION_IDLE_TIMEOUT":     func(c Config) string { return c.Session.IdleTimeout.String() },
		"CITIZENID_SESSION_ABSOLUTE_TIMEOUT": func(c Config) string { return c.Session.AbsoluteTimeout.String() },
		"CITIZENID_LOG_FORMAT":               func(c Config) string { return c.Log.Format },
		"CITIZENID_LOG_LEVEL":                func(c Config) string { return c.Log.Level },
		"CITIZENID_SMTP":                     func(c Config) string { return c.Notifications.Email.SMTP },
		"CITIZENID_SMS_TOKEN":                func(c Config) string { return c.Notifications.SMS.Token },
		"CITIZENID_OTLP_ENDPOINT":            func(c Config) string { return c.Telemetry.OTLP.Endpoint },
	}
	values := map[string]string{"CITIZENID_DEV": "true", "CITIZENID_SESSION_IDLE_TIMEOUT": "7m0s", "CITIZENID_SESSION_ABSOLUTE_TIMEOUT": "7h0m0s"}
	for _, name := range EnvVars() {
		t.Run(name, func(t *testing.T) {
			get, ok := fields[name]
			if !ok {
				t.Fatalf("got variable %s with no field in this test, want one", name)
			}
			v, ok := values[name]
			if !ok {
				v = "value-of-" + name
			}
			c, err := Load("", env(map[string]string{name: v}))
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if got := get(c); got != v {
				t.Errorf("got %q, want %q", got, v)
			}
		})
	}
	if len(fields) != len(EnvVars()) {
		t.Errorf("got %d variables, want %d", len(EnvVars()), len(fields))
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := production()
	c.Server.Issuer = "http://id.example.gov"
	c.Server.Addr = "no-port"
	c.Server.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"}
	c.Keys.MasterKeyFile = ""
	c.Tokens.PairwiseSecret = ""
	c.Keys.RSABits = 1024
	c.Session.IdleTimeout = 0
	c.Tokens.CodeLifetime = time.Hour
	c.Log.Format = "xml"
	c.Log.Level = "loud"
	c.DataDir = ""

	err := c.Validate()
	want := []string{
		"server.issuer",
		"server.addr",
		`server.trusted_proxies: "proxy.internal"`,
		"keys: a master key is required",
		"tokens.pairwise_secret",
		"keys.rsa_bits 1024",
		"session.idle_timeout: must be a positive duration",
		"tokens.code_lifetime",
		`log.format "xml"`,
		`log.level "loud"`,
		"data_dir",
	}
	wantErrs(t, err, want...)
	if got := strings.Count(err.Error(), "\n") + 1; got != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", got, len(want), err)
	}
}

func TestValidateProduction(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"http issuer", func(c *Config) { c.Server.Issuer = "http://id.example.gov" }, "must use https outside dev mode"},
		{"http localhost issuer", func(c *Config) { c.Server.Issuer = "http://localhost:8080" }, "must use https outside dev mode"},
		{"no master key", func(c *Config) { c.Keys.MasterKeyFile = "" }, "a master key is required outside dev mode"},
		{"master key inline", func(c *Config) { c.Keys.MasterKeyFile, c.Keys.MasterKey = "", testMasterKey }, ""},
		{"master key hex", func(c *Config) {
			c.Keys.MasterKeyFile, c.Keys.MasterKey = "", hex.EncodeToString(bytes.Repeat([]byte{1}, 32))
		}, ""},
		{"master key too short", func(c *Config) { c.Keys.MasterKeyFile, c.Keys.MasterKey = "", "c2hvcnQ=" }, "keys.master_key"},
		{"master key and file", func(c *Config) { c.Keys.MasterKey = testMasterKey }, "not both"},
		{"no pairwise secret", func(c *Config) { c.Tokens.PairwiseSecret = "" }, "tokens.pairwise_secret: required outside dev mode"},
		{"short pairwise secret", func(c *Config) { c.Tokens.PairwiseSecret = "secret" }, "tokens.pairwise_secret: at least 32"},
		{"dev flag relaxes secrets", func(c *Config) {
			c.Dev, c.Keys.MasterKeyFile, c.Tokens.PairwiseSecret = true, "", ""
		}, ""},
		{"bad database scheme", func(c *Config) { c.Database.URL = "mysql://db/x" }, "database.url: must start with postgres://"},
		{"postgresql scheme", func(c *Config) { c.Database.URL = "postgresql://db/x" }, ""},
		{"bad redis scheme", func(c *Config) { c.Redis.URL = "memcached://r" }, "redis.url: must start with redis://"},
		{"rediss scheme", func(c *Config) { c.Redis.URL = "rediss://r:6380" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := production()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			wantErrs(t, err, tt.want)
		})
	}
}

func TestValidateMasterKeyNotInMessage(t *testing.T) {
	c := production()
	c.Keys.MasterKeyFile = ""
	c.Keys.MasterKey = "ThisIsTheSecretMasterKeyValue"
	err := c.Validate()
	wantErrs(t, err, "keys.master_key")
	if strings.Contains(err.Error(), c.Keys.MasterKey) {
		t.Errorf("got error %q containing the master key, want it withheld", err)
	}
}

func TestValidateIssuer(t *testing.T) {
	tests := []struct {
		issuer string
		dev    bool
		want   string // "" means valid
	}{
		{"http://localhost:8080", true, ""},
		{"http://localhost", true, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://127.0.0.1", true, ""},
		{"http://[::1]:8080", true, ""},
		{"http://localhost:8080/citizenid", true, ""},
		{"https://id.example.gov", true, ""},
		{"https://id.example.gov", false, ""},
		{"https://id.example.gov:8443/sso", false, ""},
		{"http://id.example.gov", true, "plain http is allowed only for localhost"},
		{"http://10.0.0.5:8080", true, "plain http is allowed only for localhost"},
		{"http://0.0.0.0:8080", true, "plain http is allowed only for localhost"},
		{"http://localhost.example.gov", true, "plain http is allowed only for localhost"},
		{"http://id.example.gov", false, "must use https outside dev mode"},
		{"http://127.0.0.1:8080", false, "must use https outside dev mode"},
		{"", true, "must be an absolute http(s) URL"},
		{"localhost:8080", true, "must be an absolute http(s) URL"},
		{"/relative", true, "must be an absolute http(s) URL"},
		{"ftp://id.example.gov", true, "must be an absolute http(s) URL"},
		{"https://", true, "must be an absolute http(s) URL"},
		{"https://id.example.gov:port", true, "must be an absolute http(s) URL"},
		{"https://id.example.gov/", true, "no query, fragment or trailing slash"},
		{"https://id.example.gov?x=1", true, "no query, fragment or trailing slash"},
		{"https://id.example.gov?", true, "no query, fragment or trailing slash"},
		{"https://id.example.gov#frag", true, "no query, fragment or trailing slash"},
		{"https://user:pass@id.example.gov", true, "must not contain user info"},
	}
	for _, tt := range tests {
		name := tt.issuer + map[bool]string{true: " dev", false: " production"}[tt.dev]
		t.Run(name, func(t *testing.T) {
			c := production()
			c.Dev = tt.dev
			c.Server.Issuer = tt.issuer
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			wantErrs(t, err, "server.issuer", tt.want)
			if strings.Contains(err.Error(), "pass") {
				t.Errorf("got error %q containing the issuer's password, want it withheld", err)
			}
		})
	}

	// The embedded default is dev mode even without dev: true.
	c := Default()
	c.Server.Issuer = "http://127.0.0.1:9000"
	if err := c.Validate(); err != nil {
		t.Errorf("embedded, http://127.0.0.1:9000: got %v, want nil", err)
	}
	c.Server.Issuer = "http://id.example.gov"
	wantErrs(t, c.Validate(), "plain http is allowed only for localhost")
}

func TestValidateDatabaseAndRedisTogether(t *testing.T) {
	tests := []struct {
		name          string
		database, rds string
		want          bool
	}{
		{"neither", "", "", false},
		{"both", "postgres://db/x", "redis://r", false},
		{"database only", "postgres://db/x", "", true},
		{"redis only", "", "redis://r", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Database.URL, c.Redis.URL = tt.database, tt.rds
			if tt.database != "" && tt.rds != "" {
				c.Dev = true // no secrets needed for this test
			}
			err := c.Validate()
			if got := err != nil && strings.Contains(err.Error(), "database.url and redis.url"); got != tt.want {
				t.Errorf("got error %v, want an error about database.url and redis.url: %v", err, tt.want)
			}
		})
	}
}

func TestValidateFields(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"addr all interfaces", func(c *Config) { c.Server.Addr = ":8080" }, ""},
		{"addr ipv6", func(c *Config) { c.Server.Addr = "[::1]:8080" }, ""},
		{"addr no port", func(c *Config) { c.Server.Addr = "127.0.0.1" }, "server.addr"},
		{"addr empty port", func(c *Config) { c.Server.Addr = "127.0.0.1:" }, "server.addr"},
		{"addr port too big", func(c *Config) { c.Server.Addr = "127.0.0.1:65536" }, "server.addr"},
		{"addr empty", func(c *Config) { c.Server.Addr = "" }, "server.addr"},
		{"proxy address", func(c *Config) { c.Server.TrustedProxies = []string{"192.0.2.7", "2001:db8::1"} }, ""},
		{"proxy cidr", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "2001:db8::/32"} }, ""},
		{"proxy hostname", func(c *Config) { c.Server.TrustedProxies = []string{"lb.internal"} }, "neither an IP address nor a CIDR"},
		{"proxy bad prefix", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/33"} }, "neither an IP address nor a CIDR"},
		{"proxy everyone v4", func(c *Config) { c.Server.TrustedProxies = []string{"0.0.0.0/0"} }, "would trust every client"},
		{"proxy everyone v6", func(c *Config) { c.Server.TrustedProxies = []string{"::/0"} }, "would trust every client"},
		{"rsa bits 4096", func(c *Config) { c.Keys.RSABits = 4096 }, ""},
		{"rsa bits too small", func(c *Config) { c.Keys.RSABits = 1024 }, "keys.rsa_bits"},
		{"rsa bits too big", func(c *Config) { c.Keys.RSABits = 65536 }, "keys.rsa_bits"},
		{"algorithm ES256", func(c *Config) { c.Keys.Algorithm = "ES256" }, ""},
		{"algorithm EdDSA", func(c *Config) { c.Keys.Algorithm = "EdDSA" }, ""},
		{"algorithm PS256", func(c *Config) { c.Keys.Algorithm = "PS256" }, ""},
		{"algorithm HS256", func(c *Config) { c.Keys.Algorithm = "HS256" }, "keys.algorithm: signing algorithm \"HS256\" is not supported: want one of RS256, PS256, ES256, EdDSA"},
		{"algorithm lower case", func(c *Config) { c.Keys.Algorithm = "es256" }, "keys.algorithm"},
		{"algorithm empty", func(c *Config) { c.Keys.Algorithm = "" }, "keys.algorithm"},
		{"argon2 memory", func(c *Config) { c.Password.MemoryKiB = 1024 }, "password: argon2id"},
		{"argon2 time", func(c *Config) { c.Password.Time = 0 }, "password: argon2id"},
		{"argon2 threads", func(c *Config) { c.Password.Threads = 0 }, "password: argon2id"},
		{"negative duration", func(c *Config) { c.Tokens.AccessTokenLifetime = -time.Second }, "tokens.access_token_lifetime: must be a positive duration"},
		{"zero cache ttl", func(c *Config) { c.Keys.CacheTTL = 0 }, "keys.cache_ttl: must be a positive duration"},
		{"idle beyond absolute", func(c *Config) { c.Session.IdleTimeout = 13 * time.Hour }, "session.idle_timeout must not exceed session.absolute_timeout"},
		{"code lifetime 10m", func(c *Config) { c.Tokens.CodeLifetime = 10 * time.Minute }, ""},
		{"code lifetime too long", func(c *Config) { c.Tokens.CodeLifetime = 11 * time.Minute }, "tokens.code_lifetime"},
		{"no free failures", func(c *Config) { c.Login.FreeFailures = 0 }, "login.free_failures"},
		{"no ip free failures", func(c *Config) { c.Login.IPFreeFailures = 0 }, "login.ip_free_failures"},
		{"base delay beyond max", func(c *Config) { c.Login.BaseDelay = time.Hour }, "login.base_delay must not exceed login.max_delay"},
		{"log json debug", func(c *Config) { c.Log.Format, c.Log.Level = "json", "debug" }, ""},
		{"log level upper case", func(c *Config) { c.Log.Level = "INFO" }, "log.level"},
		{"pairwise secret short in dev", func(c *Config) { c.Tokens.PairwiseSecret = "short" }, "tokens.pairwise_secret"},
		{"master key garbage in dev", func(c *Config) { c.Keys.MasterKey = "not a key" }, "keys.master_key"},
		{"admin level 2", func(c *Config) { c.Admin.MinLevel = 2 }, ""},
		{"admin level 4", func(c *Config) { c.Admin.MinLevel = 4 }, ""},
		{"admin level 1", func(c *Config) { c.Admin.MinLevel = 1 }, "admin.min_level 1"},
		{"admin level 0", func(c *Config) { c.Admin.MinLevel = 0 }, "admin.min_level 0"},
		{"admin level 5", func(c *Config) { c.Admin.MinLevel = 5 }, "admin.min_level 5"},
		{"admin idle zero", func(c *Config) { c.Admin.IdleTimeout = 0 }, "admin.idle_timeout"},
		{"admin freshness negative", func(c *Config) { c.Admin.SensitiveFreshness = -time.Minute }, "admin.sensitive_freshness"},
		{"admin no overlap", func(c *Config) { c.Admin.SecretOverlap = 0 }, ""},
		{"admin overlap too long", func(c *Config) { c.Admin.SecretOverlap = 31 * 24 * time.Hour }, "admin.secret_overlap"},
		{"admin metadata timeout zero", func(c *Config) { c.Admin.MetadataTimeout = 0 }, "admin.metadata_timeout"},
		{"admin metadata timeout long", func(c *Config) { c.Admin.MetadataTimeout = 2 * time.Minute }, "admin.metadata_timeout"},
		{"ledger retention zero", func(c *Config) { c.Ledger.Retention = 0 }, "ledger.retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			wantErrs(t, err, tt.want)
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"", false},
		{"[::1]", false}, // callers pass url.URL.Hostname(), without brackets
		{"localhost:8080", false},
		{"localhost.example.gov", false},
		{"mylocalhost", false},
		{"0.0.0.0", false},
		{"::", false},
		{"10.0.0.1", false},
		{"128.0.0.1", false},
		{"id.example.gov", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestPaths(t *testing.T) {
	c := Default()
	c.DataDir = "/srv/citizenid"
	if got, want := c.MasterKeyPath(), filepath.Join("/srv/citizenid", "master.key"); got != want {
		t.Errorf("MasterKeyPath: got %q, want %q", got, want)
	}
	if got, want := c.SQLitePath(), filepath.Join("/srv/citizenid", "citizenid.db"); got != want {
		t.Errorf("SQLitePath: got %q, want %q", got, want)
	}
}

func readConfig(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExampleConfigs(t *testing.T) {
	t.Run("citizenid.example.yaml", func(t *testing.T) {
		b := readConfig(t, "citizenid.example.yaml")
		c := Default()
		if err := Parse(b, &c); err != nil {
			t.Fatalf("Parse: got %v, want nil", err)
		}
		if c.Dev || c.Embedded() {
			t.Errorf("got dev %v, embedded %v, want a production example", c.Dev, c.Embedded())
		}
		// As shipped it must refuse to start: the pairwise secret is to be filled.
		wantErrs(t, c.Validate(), "tokens.pairwise_secret")
		c.Tokens.PairwiseSecret = testPairwiseSecret
		if err := c.Validate(); err != nil {
			t.Errorf("Validate with the pairwise secret filled: got %v, want nil", err)
		}
		// The master key may come from the environment instead of the file.
		c.Keys.MasterKeyFile, c.Keys.MasterKey = "", testMasterKey
		if err := c.Validate(); err != nil {
			t.Errorf("Validate with the master key inline: got %v, want nil", err)
		}
	})
	t.Run("dev.yaml", func(t *testing.T) {
		b := readConfig(t, "dev.yaml")
		c := Default()
		if err := Parse(b, &c); err != nil {
			t.Fatalf("Parse: got %v, want nil", err)
		}
		if !c.Dev || !c.Embedded() || c.Server.Issuer != "http://localhost:8080" || c.Log.Level != "debug" || c.Log.Format != "text" {
			t.Errorf("got dev %v, embedded %v, issuer %q, log %s/%s; want true, true, http://localhost:8080, text/debug",
				c.Dev, c.Embedded(), c.Server.Issuer, c.Log.Format, c.Log.Level)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: got %v, want nil", err)
		}
	})
}

// TestExampleDocumentsEverything checks that the example names every key of
// Config and every CITIZENID_* variable.
func TestExampleDocumentsEverything(t *testing.T) {
	b := readConfig(t, "citizenid.example.yaml")
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			walk(n.Content[0], prefix)
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := prefix + n.Content[i].Value
			have[key] = true
			walk(n.Content[i+1], key+".")
		}
	}
	walk(&root, "")

	var want []string
	var keysOf func(t reflect.Type, prefix string)
	keysOf = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			want = append(want, prefix+name)
			if f.Type.Kind() == reflect.Struct {
				keysOf(f.Type, prefix+name+".")
			}
		}
	}
	keysOf(reflect.TypeFor[Config](), "")
	for _, k := range want {
		if !have[k] {
			t.Errorf("got no key %s in the example, want every key", k)
		}
	}
	for _, v := range EnvVars() {
		if !bytes.Contains(b, []byte(v+".")) && !bytes.Contains(b, []byte(v+" ")) && !bytes.Contains(b, []byte(v+"\n")) {
			t.Errorf("got no mention of %s in the example, want every variable", v)
		}
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, a failed
// Parse leaves the configuration unchanged, and whatever Parse accepts,
// Validate handles without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("dev: true\nserver:\n  issuer: http://localhost:8080\n"))
	f.Add([]byte("server:\n  trusted_proxies: [10.0.0.0/8, '::1']\n  addr: ':0'\n"))
	f.Add([]byte("session:\n  idle_timeout: 1h\n  absolute_timeout: -5m\n"))
	f.Add([]byte("keys:\n  master_key: AAAA\n  rsa_bits: 99999999999\n"))
	f.Add([]byte("password: {memory_kib: 4294967295, time: 0, threads: 255}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("server: &s {addr: x}\nredis: *s\n"))
	f.Add([]byte("dev: true\n---\ndev: false\n"))
	f.Add([]byte("\tserver:\n"))
	for _, name := range []string{"citizenid.example.yaml", "dev.yaml"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "configs", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Default()
		if err := Parse(b, &c); err != nil {
			if !reflect.DeepEqual(c, Default()) {
				t.Fatalf("got config changed after failed Parse (%v), want it unchanged", err)
			}
			return
		}
		_ = c.Validate()
		_ = c.Embedded()
		_ = c.DevMode()
	})
}
