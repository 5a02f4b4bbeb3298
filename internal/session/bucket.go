package session

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Bucket is a named set of short-lived values of one type in Redis: login
// transactions, authorization requests, codes, challenges, replay marks.
// Each bucket is declared once, by the package that owns its values, as a
// package variable (NewBucket panics when a name is taken), so no two
// features can share keys and a value is always read as the type it was
// written as. Keys are "cid:<name>:<id>"; values are JSON.
type Bucket[T any] struct{ name string }

var (
	bucketsMu   sync.Mutex
	bucketNames = map[string]bool{}
	bucketName  = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)
)

// reserved are key spaces of the Store itself.
var reserved = []string{"s", "cs", "sid", "live", "th", "rj"}

// NewBucket declares the bucket name (lowercase letters and digits, at
// most 16). It panics when the name is malformed or taken: a wiring
// mistake, found at start-up.
func NewBucket[T any](name string) Bucket[T] {
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	if !bucketName.MatchString(name) || bucketNames[name] {
		panic(fmt.Sprintf("session: bucket name %q is malformed or taken", name))
	}
	for _, r := range reserved {
		if r == name {
			panic(fmt.Sprintf("session: bucket name %q is reserved", name))
		}
	}
	bucketNames[name] = true
	return Bucket[T]{name: name}
}

// Put stores v under id for ttl, replacing any previous value.
func (b Bucket[T]) Put(ctx context.Context, s *Store, id string, v T, ttl time.Duration) error {
	return s.put(ctx, b.name, id, v, ttl)
}

// PutNew stores v under id only if there is none yet; ErrConflict otherwise.
func (b Bucket[T]) PutNew(ctx context.Context, s *Store, id string, v T, ttl time.Duration) error {
	return s.putNew(ctx, b.name, id, v, ttl)
}

// Load reads the value under id into v; ErrNotFound when absent or expired.
func (b Bucket[T]) Load(ctx context.Context, s *Store, id string, v *T) error {
	return s.getValue(ctx, b.name, id, v)
}

// Take reads the value under id into v and deletes it atomically (GETDEL):
// of any number of concurrent callers exactly one gets it.
func (b Bucket[T]) Take(ctx context.Context, s *Store, id string, v *T) error {
	return s.take(ctx, b.name, id, v)
}

// Ref names the value under id, for TakeDropping.
func (b Bucket[T]) Ref(id string) Ref { return Ref{key: prefix + b.name + ":" + id} }

// Ref names one value of some bucket.
type Ref struct{ key string }

// TakeDropping is Take, and deletes the values drop in the same round
// trip, whether or not id was there: state kept for the value taken (a
// login step's challenge), which dies with it. Deleting them is best
// effort, since each has a TTL of its own.
func (b Bucket[T]) TakeDropping(ctx context.Context, s *Store, id string, v *T, drop ...Ref) error {
	return s.takeDropping(ctx, b.name, id, v, drop)
}

// Update reads the value under id into v, lets fn change it and writes
// it back atomically, keeping its TTL; an error from fn writes nothing.
func (b Bucket[T]) Update(ctx context.Context, s *Store, id string, v *T, fn func() error) error {
	return updateValue(ctx, s, b.name, id, v, 0, fn)
}

// UpdateFor is Update that gives the value ttl from now instead of
// keeping its TTL: for a value whose remaining use is shorter (or longer)
// than the life it was stored with.
func (b Bucket[T]) UpdateFor(ctx context.Context, s *Store, id string, v *T, ttl time.Duration, fn func() error) error {
	return updateValue(ctx, s, b.name, id, v, ttl, fn)
}

// Delete removes the value under id.
func (b Bucket[T]) Delete(ctx context.Context, s *Store, id string) error {
	return s.deleteValue(ctx, b.name, id)
}
