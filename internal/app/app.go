package app

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
	"github.com/citizenid/citizenid/internal/telemetry"
)

// OpenStore opens and migrates the configured store.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger, tracing *telemetry.Tracing) (store.Store, error) {
	if cfg.Database.URL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		st, err := sqlstore.OpenSQLite(ctx, cfg.SQLitePath())
		if err != nil {
			return nil, err
		}
		st.Timeout = cfg.Database.Timeout
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	po := sqlstore.PostgresOptions{Timeout: cfg.Database.Timeout}
	if tracing.Enabled() {
		po.Tracer = tracing.PgxTracer()
	}
	st, err := sqlstore.OpenPostgres(ctx, cfg.Database.URL, po)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Redis is the Redis connection, and the embedded server when there is one.
type Redis struct {
	Client   redis.UniversalClient
	Embedded *session.Embedded
}

// Close closes the client and stops the embedded server.
func (r *Redis) Close() {
	r.Client.Close()
	if r.Embedded != nil {
		r.Embedded.Close()
	}
}

// OpenRedis connects to the configured Redis, or starts the embedded one.
func OpenRedis(ctx context.Context, cfg *config.Config, tracing *telemetry.Tracing) (*Redis, error) {
	if !cfg.Redis.External() {
		e, err := session.StartEmbedded()
		if err != nil {
			return nil, err
		}
		c := e.Client()
		if tracing.Enabled() {
			c.AddHook(tracing.RedisHook())
		}
		return &Redis{Client: c, Embedded: e}, nil
	}
	c, err := session.Dial(ctx, session.DialOptions{URL: cfg.Redis.URL, CAFile: cfg.Redis.CAFile,
		MasterName: cfg.Redis.Sentinel.Master, SentinelAddrs: cfg.Redis.Sentinel.Addrs,
		Password:     cmp.Or(cfg.Redis.Sentinel.Password, cfg.Redis.Cluster.Password),
		ClusterAddrs: cfg.Redis.Cluster.Addrs, Timeout: cfg.Redis.Timeout})
	if err == nil && tracing.Enabled() {
		c.AddHook(tracing.RedisHook())
	}
	if err != nil {
		return nil, err
	}
	return &Redis{Client: c}, nil
}

// MasterKey loads the master key: from config or env, from a file, or in
// dev mode from (or into) a generated local file, said loudly.
func MasterKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	switch {
	case cfg.Keys.MasterKey != "":
		return keys.ParseMasterKey(cfg.Keys.MasterKey)
	case cfg.Keys.MasterKeyFile != "":
		b, err := os.ReadFile(cfg.Keys.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("master key file: %w", err)
		}
		return keys.ParseMasterKey(strings.TrimSpace(string(b)))
	case cfg.DevMode():
		key, created, err := keys.LoadOrCreateMasterKeyFile(cfg.MasterKeyPath())
		if err != nil {
			return nil, err
		}
		if created {
			log.Warn("DEV MODE: generated a local master key; secrets at rest are only as safe as this file", "path", cfg.MasterKeyPath())
		}
		return key, nil
	default:
		return nil, errors.New("no master key configured")
	}
}

// PairwiseSecret is the configured secret, or in dev mode one derived from
// the master key.
func PairwiseSecret(cfg *config.Config, master []byte) []byte {
	if cfg.Tokens.PairwiseSecret != "" {
		return []byte(cfg.Tokens.PairwiseSecret)
	}
	return DeriveKey(master, "dev pairwise secret")
}

// Keys builds the sealer and the signing-key manager.
func Keys(cfg *config.Config, st store.SigningKeys, master []byte) (*keys.Sealer, *keys.Manager, error) {
	sealer, err := keys.NewSealer(master)
	if err != nil {
		return nil, nil, err
	}
	maxLife := max(cfg.Tokens.AccessTokenLifetime, cfg.Tokens.IDTokenLifetime) + time.Hour
	m := keys.NewManager(st, sealer, keys.Options{
		MaxTokenLifetime: maxLife,
		RSABits:          cfg.Keys.RSABits,
		CacheTTL:         cfg.Keys.CacheTTL,
		Algorithms:       cfg.Keys.SigningAlgorithms(),
		DefaultAlgorithm: cfg.Keys.Algorithm,
	})
	return sealer, m, nil
}

// Hasher is the password hasher with the configured argon2id parameters.
func Hasher(cfg *config.Config) *password.Hasher {
	p := password.DefaultParams()
	p.Memory, p.Time, p.Threads = cfg.Password.MemoryKiB, cfg.Password.Time, cfg.Password.Threads
	return password.NewHasher(p, nil)
}

// DeriveKey derives a purpose-specific key from the master key.
func DeriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("citizenid key derivation\x00" + purpose))
	return m.Sum(nil)
}

// Assurance builds the acr table and the freshness limits from the
// configuration (validated: four distinct, non-empty acr strings).
func Assurance(cfg *config.Config) (*assurance.Table, assurance.Limits) {
	acr := map[assurance.Level]string{}
	limits := assurance.Limits{}
	for i, l := range cfg.Assurance.Levels() {
		level := assurance.Level(i + 1)
		acr[level] = l.ACR
		limits[level] = assurance.Limit{MaxAge: l.MaxAge, Idle: l.Idle}
	}
	t, err := assurance.NewTable(acr)
	if err != nil {
		panic("assurance table from a validated configuration: " + err.Error())
	}
	return t, limits
}
