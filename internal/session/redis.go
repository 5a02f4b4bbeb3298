package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Dial connects to the Redis server at url and checks that it answers.
func Dial(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", opts.Addr, err)
	}
	return rdb, nil
}

// Embedded is an in-process Redis-protocol server (miniredis) listening on
// 127.0.0.1, for the embedded default and tests. It is single-node and
// forgets everything when the process ends.
type Embedded struct {
	mr   *miniredis.Miniredis
	stop chan struct{}
	done sync.WaitGroup
}

// StartEmbedded starts the server and a ticker that advances miniredis's
// TTL clock in wall time: miniredis does not expire keys by itself.
func StartEmbedded() (*Embedded, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	e := &Embedded{mr: mr, stop: make(chan struct{})}
	e.done.Add(1)
	go e.tick(100 * time.Millisecond)
	return e, nil
}

func (e *Embedded) tick(every time.Duration) {
	defer e.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.mr.SetTime(now)
			e.mr.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Addr is the host:port the server listens on.
func (e *Embedded) Addr() string { return e.mr.Addr() }

// Client returns a go-redis client for the server.
func (e *Embedded) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: e.mr.Addr(), DisableIdentity: true})
}

// Close stops the ticker and the server.
func (e *Embedded) Close() {
	close(e.stop)
	e.done.Wait()
	e.mr.Close()
}
