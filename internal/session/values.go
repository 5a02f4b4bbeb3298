package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/store"
)

// put stores v as JSON under kind/id for ttl, replacing any previous value.
func (s *Store) put(ctx context.Context, kind, id string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, prefix+kind+":"+id, b, ttl).Err(); err != nil {
		return fmt.Errorf("put %s: %w", kind, err)
	}
	return nil
}

// putNew stores v only if kind/id does not exist yet; ErrConflict otherwise.
func (s *Store) putNew(ctx context.Context, kind, id string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ok, err := s.rdb.SetNX(ctx, prefix+kind+":"+id, b, ttl).Result()
	if err != nil {
		return fmt.Errorf("put %s: %w", kind, err)
	}
	if !ok {
		return ErrConflict
	}
	return nil
}

// ErrConflict means a single-use value already exists.
var ErrConflict = errors.New("session: already exists")

// getValue loads kind/id into v. ErrNotFound when absent or expired.
func (s *Store) getValue(ctx context.Context, kind, id string, v any) error {
	b, err := s.rdb.Get(ctx, prefix+kind+":"+id).Bytes()
	return decode(kind, b, err, v)
}

// take loads kind/id into v and deletes it atomically (GETDEL): of any
// number of concurrent callers exactly one gets the value.
func (s *Store) take(ctx context.Context, kind, id string, v any) error {
	b, err := s.rdb.GetDel(ctx, prefix+kind+":"+id).Bytes()
	return decode(kind, b, err, v)
}

// takeDropping is take, with the values drop deleted in the same
// pipeline (one DEL each, so that each goes to its own slot of a Redis
// Cluster). Only the take's result counts.
func (s *Store) takeDropping(ctx context.Context, kind, id string, v any, drop []Ref) error {
	if len(drop) == 0 {
		return s.take(ctx, kind, id, v)
	}
	var get *redis.StringCmd
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.GetDel(ctx, prefix+kind+":"+id)
		for _, r := range drop {
			p.Del(ctx, r.key)
		}
		return nil
	})
	b, err := get.Bytes()
	return decode(kind, b, err, v)
}

// updateValue applies fn to kind/id atomically, keeping its TTL when ttl
// is 0, else giving it ttl from now: read, changed, and written back
// only if nobody wrote it meanwhile (swap), else read again. Each
// reading starts from a zero v, so a retry sees the stored value alone,
// none of what fn set in the attempt that lost.
func updateValue[T any](ctx context.Context, s *Store, kind, id string, v *T, ttl time.Duration, fn func() error) error {
	key := prefix + kind + ":" + id
	for range 10 {
		b, err := s.rdb.Get(ctx, key).Bytes()
		*v = *new(T)
		if err := decode(kind, b, err, v); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
		nb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		how, err := s.swap(ctx, key, b, nb, ttl)
		if err != nil {
			return fmt.Errorf("update %s: %w", kind, err)
		}
		switch how {
		case swapGone:
			return ErrNotFound
		case swapDone:
			return nil
		}
	}
	return fmt.Errorf("update %s: too much contention", kind)
}

// deleteValue removes kind/id.
func (s *Store) deleteValue(ctx context.Context, kind, id string) error {
	return s.rdb.Del(ctx, prefix+kind+":"+id).Err()
}

func decode(kind string, b []byte, err error, v any) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", kind, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", kind, err)
	}
	return nil
}

// Revoked access tokens are marked by the digest of their jti (JTIDigest):
// a jti is a sealed reference of several hundred bytes, and what keeps
// one for later (a code exchange's record, for ten minutes) keeps 43
// bytes instead. Marks made before were keyed by the whole jti
// (revokedLegacy); they are still honoured until their token expires.
const (
	revokedKind   = "rjd"
	revokedLegacy = "rj"
)

// JTIDigest is what names the access token jti among revoked tokens: its
// SHA-256, base64url.
func JTIDigest(jti string) string {
	h := sha256.Sum256([]byte(jti))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// RevokeToken records that the access token with this jti is revoked until exp.
func (s *Store) RevokeToken(ctx context.Context, jti string, exp time.Time) error {
	return s.RevokeTokenDigest(ctx, JTIDigest(jti), exp)
}

// RevokeTokenDigest is RevokeToken for the token whose JTIDigest is digest.
func (s *Store) RevokeTokenDigest(ctx context.Context, digest string, exp time.Time) error {
	return s.Mark(ctx, revokedKind, digest, exp)
}

// TokenRevoked reports whether the access token jti was revoked. It fails
// closed: an error from Redis is returned, never a silent "not revoked".
func (s *Store) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	_, ok, err := s.keptAny(ctx, [2]string{revokedKind, JTIDigest(jti)}, [2]string{revokedLegacy, jti})
	return ok, err
}

// marksRestored is set once the durable marks are in Redis; a Redis that
// restarted empty lacks it, and the next Marked copies them back first.
const marksRestored = prefix + "marks-restored"

func markKey(kind, id string) string { return prefix + "mark:" + kind + ":" + id }

// Mark records kind/id until the time: a fact that must hold on every
// node and survive a Redis that restarts empty (a revoked token, an
// ended session). It is written durably first, when the store has a
// durable backing: a mark that could not be kept is an error.
func (s *Store) Mark(ctx context.Context, kind, id string, until time.Time) error {
	return s.Keep(ctx, kind, id, nil, until)
}

// Marked reports whether kind/id is marked. After Redis lost its data, it
// first copies the durable marks back (once, whichever node sees it
// first). An error is never a silent "not marked".
func (s *Store) Marked(ctx context.Context, kind, id string) (bool, error) {
	_, ok, err := s.Kept(ctx, kind, id)
	return ok, err
}

// Keep is Mark carrying data (what a replayed code revokes).
func (s *Store) Keep(ctx context.Context, kind, id string, data []byte, until time.Time) error {
	if until.Sub(s.now()) <= 0 {
		return nil
	}
	return s.KeepIn(ctx, kind, id, data, until, func(m store.Mark) error {
		if s.opts.Durable == nil {
			return nil
		}
		if err := s.opts.Durable.PutMark(ctx, m); err != nil {
			return fmt.Errorf("mark %s: %w", kind, err)
		}
		return nil
	})
}

// KeepIn is Keep whose durable copy persist writes, with writes of the
// caller's in one transaction (store.RefreshTokens.CreateRefreshToken
// takes marks). persist is always called; when it fails, Redis is left
// alone and its error returned as is. An error after it is Redis's.
func (s *Store) KeepIn(ctx context.Context, kind, id string, data []byte, until time.Time, persist func(store.Mark) error) error {
	if err := persist(store.Mark{Kind: kind, ID: id, Until: until, Data: data}); err != nil {
		return err
	}
	ttl := until.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	if err := s.rdb.Set(ctx, markKey(kind, id), markValue(data), ttl+time.Minute).Err(); err != nil {
		return fmt.Errorf("mark %s: %w", kind, err)
	}
	return nil
}

// Kept returns the data of mark kind/id and whether it is there, copying
// the durable marks back first when Redis lost them.
func (s *Store) Kept(ctx context.Context, kind, id string) ([]byte, bool, error) {
	return s.keptAny(ctx, [2]string{kind, id})
}

// keptAny is Kept for the first of the marks (kind, id) that is there,
// all looked up in one command (MGET) with the note that the durable
// marks are in Redis.
func (s *Store) keptAny(ctx context.Context, marks ...[2]string) ([]byte, bool, error) {
	keys := make([]string, len(marks), len(marks)+1)
	for i, m := range marks {
		keys[i] = markKey(m[0], m[1])
	}
	vals, err := s.rdb.MGet(ctx, append(keys, marksRestored)...).Result()
	if err != nil {
		return nil, false, err
	}
	if b, ok := markData(vals[:len(marks)]); ok || s.opts.Durable == nil || vals[len(marks)] != nil {
		return b, ok, nil
	}
	if err := s.RestoreMarks(ctx); err != nil {
		return nil, false, err
	}
	if vals, err = s.rdb.MGet(ctx, keys...).Result(); err != nil {
		return nil, false, err
	}
	b, ok := markData(vals)
	return b, ok, nil
}

// markValue is what Redis holds for a mark: its data, or "1".
func markValue(data []byte) []byte {
	if len(data) == 0 {
		return []byte("1")
	}
	return data
}

// markData is the data of the first mark MGET found in vals: nil for a
// mark that carries none ("1").
func markData(vals []any) ([]byte, bool) {
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if str == "1" {
			return nil, true
		}
		return []byte(str), true
	}
	return nil, false
}

// RestoreMarks copies the durable marks in force into Redis and notes it.
func (s *Store) RestoreMarks(ctx context.Context) error {
	if s.opts.Durable == nil {
		return nil
	}
	now := s.now()
	marks, err := s.opts.Durable.ListMarks(ctx, now)
	if err != nil {
		return fmt.Errorf("restore marks: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range marks {
			p.Set(ctx, markKey(m.Kind, m.ID), markValue(m.Data), m.Until.Sub(now)+time.Minute)
		}
		p.Set(ctx, marksRestored, "1", 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore marks: %w", err)
	}
	return nil
}
