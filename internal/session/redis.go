package session

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/session/memredis"
)

// DialOptions says which Redis to use and how long a command may take.
type DialOptions struct {
	// One of URL (redis:// or rediss://), Sentinel (MasterName and
	// SentinelAddrs) or Cluster (ClusterAddrs).
	URL           string
	MasterName    string
	SentinelAddrs []string
	ClusterAddrs  []string
	Password      string // Sentinel's and Cluster's servers
	// CAFile verifies TLS servers (rediss://) with these CAs.
	CAFile string
	// Timeout bounds dialing, each read and write, and the wait for a
	// pooled connection; a request's earlier deadline wins.
	Timeout time.Duration
}

// Dial connects to the Redis the options name and checks that it
// answers within the timeout.
func Dial(ctx context.Context, o DialOptions) (redis.UniversalClient, error) {
	var tlsConfig *tls.Config
	var u *redis.UniversalOptions
	switch {
	case o.URL != "":
		opts, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("parse redis url: %w", err)
		}
		tlsConfig = opts.TLSConfig
		u = &redis.UniversalOptions{Addrs: []string{opts.Addr}, Username: opts.Username, Password: opts.Password, DB: opts.DB}
	case len(o.SentinelAddrs) > 0:
		u = &redis.UniversalOptions{Addrs: o.SentinelAddrs, MasterName: o.MasterName, Password: o.Password, SentinelPassword: o.Password}
	case len(o.ClusterAddrs) > 0:
		u = &redis.UniversalOptions{Addrs: o.ClusterAddrs, Password: o.Password, IsClusterMode: true}
	default:
		return nil, errors.New("redis: no url, sentinel or cluster configured")
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redis ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis ca file %s: no PEM certificate", o.CAFile)
		}
		if tlsConfig == nil {
			tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tlsConfig.RootCAs = pool
	}
	u.TLSConfig = tlsConfig
	timeout := cmp.Or(o.Timeout, 2*time.Second)
	u.DialTimeout, u.ReadTimeout, u.WriteTimeout, u.PoolTimeout = timeout, timeout, timeout, timeout
	u.ContextTimeoutEnabled = true
	u.MaxRetries = 1
	u.ReadBufferSize, u.WriteBufferSize = connBuffer, connBuffer
	u.PipelineReadBufferSize, u.PipelineWriteBufferSize = pipelineBuffer, pipelineBuffer
	rdb := redis.NewUniversalClient(u)
	pctx, cancel := context.WithTimeout(ctx, 2*timeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %v: %w", u.Addrs, err)
	}
	return rdb, nil
}

// The buffers of each pooled connection. What the server keeps in Redis
// is small (a session record is a few hundred bytes, a pipeline a handful
// of commands), while go-redis's defaults are sized for bulk values: 32
// KiB each way per connection, 128 KiB each way on its pipeline pool —
// about 3 MiB for a one-core pool at rest, in every process. A reply or
// command longer than the buffer is still read and written whole, in
// more system calls.
const (
	connBuffer     = 4 << 10
	pipelineBuffer = 16 << 10
)

// Embedded is the in-process Redis-protocol server (memredis) listening
// on 127.0.0.1, for the embedded default and tests. It is single-node and
// forgets everything when the process ends.
type Embedded struct {
	srv *memredis.Server
}

// StartEmbedded starts the server.
func StartEmbedded() (*Embedded, error) {
	srv, err := memredis.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Embedded{srv: srv}, nil
}

// Addr is the host:port the server listens on.
func (e *Embedded) Addr() string { return e.srv.Addr() }

// Client returns a go-redis client for the server: RESP2 (it answers
// HELLO with NOPROTO), no client identity, connected in memory
// (memredis.Server.Dial), not through its TCP listener.
func (e *Embedded) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: e.srv.Addr(), Protocol: 2, DisableIdentity: true,
		Dialer:         func(context.Context, string, string) (net.Conn, error) { return e.srv.Dial() },
		ReadBufferSize: connBuffer, WriteBufferSize: connBuffer,
		PipelineReadBufferSize: pipelineBuffer, PipelineWriteBufferSize: pipelineBuffer})
}

// Close stops the server.
func (e *Embedded) Close() { e.srv.Close() }
