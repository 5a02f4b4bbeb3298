package session

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ThrottlePolicy says how failures turn into waiting time. Every counter
// expires Window after the last failure, so nobody is locked out for ever.
type ThrottlePolicy struct {
	Free      int           // failures allowed before any delay
	Window    time.Duration // counter lifetime after the last failure
	BaseDelay time.Duration // delay after the first failure past Free; doubles after each
	MaxDelay  time.Duration
}

// Delay is the wait imposed after n failures.
func (p ThrottlePolicy) Delay(n int) time.Duration {
	if n < p.Free {
		return 0
	}
	exp := n - p.Free
	if exp > 30 {
		return p.MaxDelay
	}
	d := time.Duration(float64(p.BaseDelay) * math.Pow(2, float64(exp)))
	return min(d, p.MaxDelay)
}

func throttleKey(key string) string { return prefix + "th:" + key }

// RetryAfter reports how long the caller must wait before trying key again;
// zero means now.
func (s *Store) RetryAfter(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	vals, err := s.rdb.HMGet(ctx, throttleKey(key), "n", "last").Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(str(vals[0]))
	lastNs, _ := strconv.ParseInt(str(vals[1]), 10, 64)
	if n == 0 {
		return 0, nil
	}
	until := time.Unix(0, lastNs).Add(p.Delay(n))
	if wait := until.Sub(s.now()); wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// Fail records one failure for key and returns the failure count.
func (s *Store) Fail(ctx context.Context, key string, p ThrottlePolicy) (int, error) {
	k := throttleKey(key)
	var incr *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		incr = pipe.HIncrBy(ctx, k, "n", 1)
		pipe.HSet(ctx, k, "last", s.now().UnixNano())
		pipe.Expire(ctx, k, p.Window+p.MaxDelay)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(incr.Val()), nil
}

// ResetFailures clears key after a success.
func (s *Store) ResetFailures(ctx context.Context, key string) error {
	return s.rdb.Del(ctx, throttleKey(key)).Err()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
