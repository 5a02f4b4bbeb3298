package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/store"
)

// ErrNotFound means the key does not exist, expired, or was already taken.
var ErrNotFound = errors.New("session: not found")

// AuthEvent is one authentication that happened in a session; each keeps
// its own time so levels can decay independently (see assurance.Event).
type AuthEvent struct {
	Method       string    `json:"method"` // "pwd", "otp", "recovery", ...
	AMR          []string  `json:"amr,omitempty"`
	Level        int       `json:"level"`
	SecondFactor bool      `json:"second_factor,omitempty"`
	Time         time.Time `json:"time"`
	// CertThumbprint (base64url SHA-256 of the certificate) and CertSerial
	// (hex) are set by a certificate login, so a portal can tie documents
	// signed later to this login (claims cert_thumbprint, cert_serial).
	CertThumbprint string `json:"cert_thumbprint,omitempty"`
	CertSerial     string `json:"cert_serial,omitempty"`
}

// Session is an SSO session. Its JSON names are the layout of records
// written before the compact one (record.go), which decodeRecord still
// reads.
type Session struct {
	SID       string      `json:"sid"` // public identifier (ID token sid claim)
	CitizenID string      `json:"citizen_id"`
	Events    []AuthEvent `json:"events"`
	CreatedAt time.Time   `json:"created_at"`
	LastSeen  time.Time   `json:"last_seen"`
	// Participants are the relying parties that took part in the session
	// (received tokens or an assertion), each once, written through Join.
	// Ending the session tells each of them (login.Engine.End).
	Participants []Participant `json:"participants,omitempty"`
	// LegacyClients is the list of OIDC clients of sessions started
	// before Participants existed; load turns it into Participants.
	LegacyClients []string `json:"clients,omitempty"`
	// Device is the browser that started the session, for the citizen's
	// list of sessions (/account/sessions).
	Device Device `json:"device,omitzero"`
	// PrevSeen is LastSeen as it was before this request touched the
	// session: the last activity that idle limits are measured from.
	PrevSeen time.Time `json:"-"`

	key string // Redis key, derived from the cookie
	// raw is the record as this copy was read or written: an update of
	// this copy replaces exactly that record, without reading it again,
	// and reads it only when it changed meanwhile.
	raw []byte
}

// Options configures Store.
type Options struct {
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Now             func() time.Time
	// Durable keeps marks (Mark) beyond a Redis that restarts empty; nil:
	// in Redis only (the embedded default, whose Redis lives and dies
	// with the process).
	Durable store.Marks
}

// Store keeps sessions and transient state in Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{rdb: rdb, opts: opts}
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Redis is the underlying client.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.opts.Now() }

const prefix = "cid:"

// Hash is the hex SHA-256 of a secret value; keys never hold the value itself.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// RandomToken returns n random bytes, base64url without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// endsKey is a sorted set of every session key, scored by the time (Unix
// milliseconds, on the store's clock) the session dies unless used again,
// that only ClaimExpired and Delete remove from: the sessions whose end
// has not been processed yet. Those scored after now are the live ones
// (CountLive). A session's record outlives its death by expiryGrace
// (reads treat it as gone), so the sweep can still say whose it was and
// which portals took part.
const endsKey = prefix + "ends"

// expiryGrace is how long a dead session's record waits for the sweep.
const expiryGrace = 15 * time.Minute

// KeyOf is the Redis key of the session of cookie: the SHA-256 of the
// cookie value, base64url (43 bytes, a third shorter than hex, for a key
// that is also the member of the citizen's index and the set of ends and
// the value of the sid key). Measuring tools read it; nothing else
// should.
func KeyOf(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return prefix + "s:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// keysOf are the keys the session of cookie may have: KeyOf, then the
// hex digest that sessions created before it have (they live on until
// they end).
func keysOf(cookie string) [2]string { return [2]string{KeyOf(cookie), prefix + "s:" + Hash(cookie)} }

func citizenIndexKey(cid string) string { return prefix + "cs:" + cid }
func sidKey(sid string) string          { return prefix + "sid:" + sid }
func validCookie(cookie string) bool    { return len(cookie) == 43 } // 32 bytes base64url
func (s *Store) now() time.Time         { return s.opts.Now() }
func (s *Store) ttl(sess *Session) time.Duration {
	idle := s.opts.IdleTimeout
	left := sess.CreatedAt.Add(s.opts.AbsoluteTimeout).Sub(sess.LastSeen)
	return min(idle, left)
}

// track extends the sid with the session's record and records in the
// set of ends when the session dies.
func (s *Store) track(ctx context.Context, p redis.Pipeliner, sess *Session, ttl time.Duration) {
	p.Expire(ctx, sidKey(sess.SID), ttl+expiryGrace)
	s.trackEnd(ctx, p, sess, ttl)
}

// trackEnd records in the set of ends when the session dies (a sweep
// prunes the entries of sessions already dead, so the set stays as large
// as the number of live sessions).
func (s *Store) trackEnd(ctx context.Context, p redis.Pipeliner, sess *Session, ttl time.Duration) {
	p.ZAdd(ctx, endsKey, redis.Z{Score: float64(sess.LastSeen.Add(ttl).UnixMilli()), Member: sess.key})
	p.Expire(ctx, endsKey, s.opts.AbsoluteTimeout+expiryGrace)
}

// Create starts a session for citizenID with its first events, in the
// browser dev, and returns the cookie value (256 random bits) and the
// session.
func (s *Store) Create(ctx context.Context, citizenID string, events []AuthEvent, dev Device) (string, *Session, error) {
	cookie := RandomToken(32)
	now := s.now()
	sess := &Session{
		SID:       RandomToken(16),
		CitizenID: citizenID,
		Events:    events,
		CreatedAt: now,
		LastSeen:  now,
		Device:    dev,
		key:       KeyOf(cookie),
	}
	b, err := encodeRecord(sess)
	if err != nil {
		return "", nil, err
	}
	ttl := s.ttl(sess)
	// The keys of a session live in different slots of a Redis Cluster, so
	// they are not written in one MULTI: what finds the session (the
	// citizen's index, the sid, the live and end sets) first, the session
	// itself last. A failure in between leaves index entries to a session
	// that never existed, which every reader prunes; never a session that
	// the citizen's index (and so "end every session") does not know.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, citizenIndexKey(citizenID), sess.key)
		p.Expire(ctx, citizenIndexKey(citizenID), s.opts.AbsoluteTimeout)
		// The sid lives as long as the session's record (extended with it
		// in track), not for the absolute timeout.
		p.Set(ctx, sidKey(sess.SID), sess.key, ttl+expiryGrace)
		s.trackEnd(ctx, p, sess, ttl)
		return nil
	})
	if err == nil {
		err = s.rdb.Set(ctx, sess.key, b, ttl+expiryGrace).Err()
	}
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	sess.raw = b
	return cookie, sess, nil
}

// Get returns the live session for the cookie value and records activity.
// ErrNotFound when the cookie is malformed, unknown, idle or too old.
func (s *Store) Get(ctx context.Context, cookie string) (*Session, error) {
	if !validCookie(cookie) {
		return nil, ErrNotFound
	}
	for _, key := range keysOf(cookie) {
		var out *Session
		err := s.update(ctx, key, nil, func(sess *Session) error {
			sess.LastSeen = s.now()
			out = sess
			return nil
		})
		if !errors.Is(err, ErrNotFound) {
			return out, err
		}
	}
	return nil, ErrNotFound
}

// Peek returns the session without recording activity.
func (s *Store) Peek(ctx context.Context, cookie string) (*Session, error) {
	if !validCookie(cookie) {
		return nil, ErrNotFound
	}
	for _, key := range keysOf(cookie) {
		sess, err := s.load(ctx, key)
		if !errors.Is(err, ErrNotFound) {
			return sess, err
		}
	}
	return nil, ErrNotFound
}

// BySID returns the session with the public identifier sid.
func (s *Store) BySID(ctx context.Context, sid string) (*Session, error) {
	key, err := s.rdb.Get(ctx, sidKey(sid)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return s.load(ctx, key)
}

func (s *Store) load(ctx context.Context, key string) (*Session, error) {
	b, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	return s.live(key, b)
}

// live decodes the record b stored under key: ErrNotFound when the
// session it holds is past its idle or absolute timeout.
func (s *Store) live(key string, b []byte) (*Session, error) {
	sess, err := decodeRecord(b)
	if err != nil {
		return nil, err
	}
	sess.key = key
	sess.raw = b
	sess.PrevSeen = sess.LastSeen
	now := s.now()
	if now.Sub(sess.LastSeen) >= s.opts.IdleTimeout || now.Sub(sess.CreatedAt) >= s.opts.AbsoluteTimeout {
		return nil, ErrNotFound
	}
	return sess, nil
}

// Update applies fn to the session atomically (optimistic transaction),
// starting from the record sess was read or written as.
func (s *Store) Update(ctx context.Context, sess *Session, fn func(*Session) error) (*Session, error) {
	var out *Session
	err := s.update(ctx, sess.key, sess.raw, func(cur *Session) error {
		if cur.SID != sess.SID {
			return ErrNotFound
		}
		cur.LastSeen = s.now()
		out = cur
		return fn(cur)
	})
	return out, err
}

// swapScript replaces the value of KEYS[1] with ARGV[2] if it still is
// ARGV[1], to expire in ARGV[3] ms (0: keeping its expiry): 1 when
// replaced, 0 when it changed since, -1 when it is gone. One key, so one
// Cluster slot.
var swapScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`)

// swapped is how a compare and swap (swapScript) ended.
type swapped int

const (
	swapGone    swapped = -1
	swapChanged swapped = 0
	swapDone    swapped = 1
)

// swap writes next under key, for ttl (0: keeping the key's), if the key
// still holds old. A ttl under a millisecond is one, not 0.
func (s *Store) swap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (swapped, error) {
	ms := ttl.Milliseconds()
	if ttl > 0 {
		ms = max(ms, 1)
	}
	n, err := swapScript.Run(ctx, s.rdb, []string{key}, old, next, ms).Int()
	return swapped(n), err
}

// update applies fn to the session under key and writes the result, if
// nobody wrote it since it was read (compare and swap, retried on a
// change). It starts from known, the record as the caller last saw it,
// when there is one: one round trip instead of a read and a write.
func (s *Store) update(ctx context.Context, key string, known []byte, fn func(*Session) error) error {
	old := known
	for range 10 {
		var sess *Session
		var err error
		if old == nil {
			sess, err = s.load(ctx, key)
		} else {
			sess, err = s.live(key, old)
		}
		if err != nil {
			return err
		}
		old = sess.raw
		if err := fn(sess); err != nil {
			return err
		}
		b, err := encodeRecord(sess)
		if err != nil {
			return err
		}
		ttl := s.ttl(sess)
		how, err := s.swap(ctx, key, old, b, ttl+expiryGrace)
		if err != nil {
			return fmt.Errorf("update session: %w", err)
		}
		switch how {
		case swapGone:
			return ErrNotFound
		case swapChanged:
			old = nil // written meanwhile: read it again
			continue
		}
		sess.raw = b
		// The live and end sets are other keys (other Cluster slots):
		// written after the session. A failure here leaves an older
		// death time there, which a sweep checks against the session.
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.track(ctx, p, sess, ttl)
			return nil
		})
		return err
	}
	return fmt.Errorf("update session: too much contention")
}

// Participant is a relying party that took part in a session: its
// protocol ("oidc", "saml"), its ID there (client ID, entity ID), and
// what the protocol needs to log it out later (SAML: the NameID and
// SessionIndex it was given), owned by the protocol.
type Participant struct {
	Protocol string          `json:"p"`
	ID       string          `json:"id"`
	Data     json.RawMessage `json:"d,omitempty"`
}

// Join records p in the session's participants, replacing an earlier
// entry of the same relying party: the one way participants are written.
func (s *Store) Join(ctx context.Context, sess *Session, p Participant) (*Session, error) {
	return s.Update(ctx, sess, func(x *Session) error {
		x.Participants = slices.DeleteFunc(x.Participants, func(o Participant) bool { return o.Protocol == p.Protocol && o.ID == p.ID })
		x.Participants = append(x.Participants, p)
		return nil
	})
}

// Joined reports whether the relying party id of protocol took part.
func (sess *Session) Joined(protocol, id string) bool {
	return slices.ContainsFunc(sess.Participants, func(o Participant) bool { return o.Protocol == protocol && o.ID == id })
}

// Delete ends the session.
func (s *Store) Delete(ctx context.Context, sess *Session) error {
	// The session first (once it is gone nobody is logged in by it), then
	// what points to it; keys of different Cluster slots, so no MULTI.
	if err := s.rdb.Del(ctx, sess.key).Err(); err != nil {
		return err
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, sidKey(sess.SID))
		p.SRem(ctx, citizenIndexKey(sess.CitizenID), sess.key)
		p.ZRem(ctx, endsKey, sess.key)
		return nil
	})
	return err
}

// ClaimExpired returns up to limit sessions whose idle or absolute timeout
// passed and whose end nobody processed yet, each to exactly one caller
// of any node (the claim is a ZREM). The caller ends each (login.Engine.End
// deletes what is left). A session used again since it was listed is
// put back, not returned.
func (s *Store) ClaimExpired(ctx context.Context, limit int) ([]*Session, error) {
	now := s.now()
	keys, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: endsKey, Start: "-inf", Stop: strconv.FormatInt(now.UnixMilli(), 10),
		ByScore: true, Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("list expired sessions: %w", err)
	}
	var out []*Session
	for _, k := range keys {
		n, err := s.rdb.ZRem(ctx, endsKey, k).Result()
		if err != nil {
			return out, fmt.Errorf("claim expired session: %w", err)
		}
		if n == 0 {
			continue // another node claimed it
		}
		b, err := s.rdb.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // gone past the grace: nothing left to say
		} else if err != nil {
			return out, fmt.Errorf("load expired session: %w", err)
		}
		sess, err := decodeRecord(b)
		if err != nil {
			continue
		}
		sess.key = k
		if ttl := s.ttl(sess); sess.LastSeen.Add(ttl).After(now) {
			s.rdb.ZAdd(ctx, endsKey, redis.Z{Score: float64(sess.LastSeen.Add(ttl).UnixMilli()), Member: k})
			continue
		}
		out = append(out, sess)
	}
	return out, nil
}

// CountLive returns the number of live SSO sessions, of every citizen:
// those neither ended nor past their idle or absolute timeout. It is one
// Redis command whatever the number: the sessions of the set of ends
// that die after now.
func (s *Store) CountLive(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCount(ctx, endsKey, "("+strconv.FormatInt(s.now().UnixMilli(), 10), "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("count live sessions: %w", err)
	}
	return n, nil
}

// ListForCitizen returns the citizen's live sessions, pruning dead index entries.
func (s *Store) ListForCitizen(ctx context.Context, citizenID string) ([]*Session, error) {
	keys, err := s.rdb.SMembers(ctx, citizenIndexKey(citizenID)).Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []*Session
	for _, k := range keys {
		sess, err := s.load(ctx, k)
		if errors.Is(err, ErrNotFound) {
			s.rdb.SRem(ctx, citizenIndexKey(citizenID), k)
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, nil
}

// DeleteAllForCitizen ends every session of the citizen and returns them.
func (s *Store) DeleteAllForCitizen(ctx context.Context, citizenID string) ([]*Session, error) {
	list, err := s.ListForCitizen(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	for _, sess := range list {
		if err := s.Delete(ctx, sess); err != nil {
			return nil, err
		}
	}
	return list, nil
}
