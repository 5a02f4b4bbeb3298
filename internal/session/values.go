package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
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

// updateValue applies fn to kind/id atomically, keeping its TTL.
func (s *Store) updateValue(ctx context.Context, kind, id string, v any, fn func() error) error {
	key := prefix + kind + ":" + id
	for range 10 {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			b, err := tx.Get(ctx, key).Bytes()
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
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SetArgs(ctx, key, nb, redis.SetArgs{KeepTTL: true})
				return nil
			})
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return err
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

// RevokeToken records that the access token with this jti is revoked until exp.
func (s *Store) RevokeToken(ctx context.Context, jti string, exp time.Time) error {
	ttl := exp.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	return s.rdb.Set(ctx, prefix+"rj:"+jti, "1", ttl+time.Minute).Err()
}

// TokenRevoked reports whether the access token jti was revoked. It fails
// closed: an error from Redis is returned, never a silent "not revoked".
func (s *Store) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	n, err := s.rdb.Exists(ctx, prefix+"rj:"+jti).Result()
	return n > 0, err
}
