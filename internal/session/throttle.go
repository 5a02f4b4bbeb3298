package session

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ThrottlePolicy says how failures turn into waiting time. Every counter
// expires Window after the last attempt, so nobody is locked out for ever.
type ThrottlePolicy struct {
	// Free failures are allowed before any delay; at least 1 (config
	// validation and the fixed policies see to it). So a counter at zero
	// imposes nothing and is the same as none, and Release deletes it.
	Free      int
	Window    time.Duration // counter lifetime after the last attempt
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

// ThrottleKey names the counter of kind (a fixed word: "acct", "ip", …)
// for the values it counts by (a citizen number, a client address): the
// SHA-256 of the values, each prefixed with its length so that no two
// lists of values share a key, and never the values themselves (no
// personal data in key names, no attacker-chosen key shapes).
func ThrottleKey(kind string, values ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, v := range values {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// reserveScript decides and counts in one step, so that no number of
// concurrent attempts gets more checks than the policy allows.
// KEYS[1] the counter; ARGV now (ms), free, base delay (ms), max delay
// (ms), TTL (ms). Returns {taken (0/1), wait (ms), failures before}.
var reserveScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local now, free, base, maxd = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if n >= free then
  local d = maxd
  if n - free <= 30 then d = math.min(base * 2 ^ (n - free), maxd) end
  local wait = last + d - now
  if wait > 0 then return {0, math.ceil(wait), n} end
end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', now)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, 0, n}
`)

// releaseScript gives back one attempt, never below zero; a counter back
// at zero is deleted (see ThrottlePolicy.Free), so a successful login
// leaves no counter behind until the window ends.
var releaseScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n > 1 then redis.call('HINCRBY', KEYS[1], 'n', -1) else redis.call('DEL', KEYS[1]) end
return 0
`)

// Reserve takes one attempt on key before the caller checks anything, in
// one atomic step: when the failures counted so far demand a wait, it
// takes nothing and returns the wait; otherwise it counts the attempt as
// a failure in advance and returns zero. A caller whose check succeeds
// gives the attempt back with Release, or clears the key with
// ResetFailures. So a burst of concurrent wrong guesses gets exactly
// p.Free checks, never more.
func (s *Store) Reserve(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	res, err := reserveScript.Run(ctx, s.rdb, []string{throttleKey(key)},
		s.now().UnixMilli(), p.Free, p.BaseDelay.Milliseconds(), p.MaxDelay.Milliseconds(),
		(p.Window + p.MaxDelay).Milliseconds()).Int64Slice()
	if err != nil {
		return 0, err
	}
	if res[0] == 1 {
		return 0, nil
	}
	return time.Duration(res[1]) * time.Millisecond, nil
}

// Count adds one attempt to key (never refusing) and returns the delay
// that the failures counted before it impose under p: a slowdown for the
// caller to apply, for limits that must never refuse.
func (s *Store) Count(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	k := throttleKey(key)
	var incr *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		incr = pipe.HIncrBy(ctx, k, "n", 1)
		pipe.HSet(ctx, k, "last", strconv.FormatInt(s.now().UnixMilli(), 10))
		pipe.Expire(ctx, k, p.Window+p.MaxDelay)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return p.Delay(int(incr.Val()) - 1), nil
}

// Wait returns the wait that the failures counted on key impose now
// under p, counting nothing. It is for checks too cheap and too strong to
// need Reserve's exactness (a client secret of at least 32 characters):
// concurrent wrong guesses may each pass before any is counted, so a
// burst of n guesses gets n checks, and right ones never wait for each
// other. A caller counts a failure with Count.
func (s *Store) Wait(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	vals, err := s.rdb.HMGet(ctx, throttleKey(key), "n", "last").Result()
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(fmt.Sprint(vals[0]))
	last, _ := strconv.ParseInt(fmt.Sprint(vals[1]), 10, 64)
	if vals[0] == nil || n < p.Free {
		return 0, nil
	}
	return max(time.UnixMilli(last).Add(p.Delay(n)).Sub(s.now()), 0), nil
}

// Release gives back one attempt that Reserve or Count took, after a
// success that must not count as a failure.
func (s *Store) Release(ctx context.Context, key string) error {
	return releaseScript.Run(ctx, s.rdb, []string{throttleKey(key)}).Err()
}

// ResetFailures clears key after a success.
func (s *Store) ResetFailures(ctx context.Context, key string) error {
	return s.rdb.Del(ctx, throttleKey(key)).Err()
}
