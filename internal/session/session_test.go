package session_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
	"github.com/citizenid/citizenid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	testBucket  = session.NewBucket[string]("test")
	otherBucket = session.NewBucket[int]("test2")
)

// A bucket name is declared once: a second declaration (two features on
// the same keys) fails at start-up.
func TestBucketDeclaredOnce(t *testing.T) {
	for _, name := range []string{"test", "s", "Bad", "", "x:y"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBucket(%q): no panic, want the name refused", name)
				}
			}()
			session.NewBucket[int](name)
		}()
	}
}

// backends runs fn against a real Redis server and the embedded server.
func backends(t *testing.T, fn func(t *testing.T, rdb *redis.Client)) {
	t.Run("redis", func(t *testing.T) {
		u, err := session.Dial(context.Background(), session.DialOptions{URL: testenv.RedisURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		rdb := u.(*redis.Client) // one server: a plain client
		rdb.FlushDB(context.Background())
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb)
	})
	t.Run("embedded", func(t *testing.T) {
		e, err := session.StartEmbedded()
		if err != nil {
			t.Fatal(err)
		}
		rdb := e.Client()
		t.Cleanup(func() { rdb.Close(); e.Close() })
		fn(t, rdb)
	})
}

func newStore(rdb *redis.Client, idle, abs time.Duration) *session.Store {
	return session.New(rdb, session.Options{IdleTimeout: idle, AbsoluteTimeout: abs})
}

// loggedIn starts a session of citizen c1 with one password event.
func loggedIn(t *testing.T, s *session.Store) (string, *session.Session) {
	t.Helper()
	cookie, sess, err := s.Create(context.Background(), "c1", []session.AuthEvent{{Method: "pwd", Level: 1, Time: time.Now()}}, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	return cookie, sess
}

func TestSessionLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, 2*time.Hour)
		cookie, sess := loggedIn(t, s)
		if len(cookie) != 43 {
			t.Fatalf("cookie length: got %d, want 43 (256 bits base64url)", len(cookie))
		}
		keys, _ := rdb.Keys(ctx, "*").Result()
		for _, k := range keys {
			if len(k) >= len(cookie) && strings.Contains(k, cookie) {
				t.Fatalf("redis key %q contains the cookie value", k)
			}
		}
		got, err := s.Get(ctx, cookie)
		if err != nil {
			t.Fatal(err)
		}
		if got.SID != sess.SID || got.CitizenID != "c1" || len(got.Events) != 1 {
			t.Fatalf("got %+v, want the created session", got)
		}
		if _, err := s.BySID(ctx, sess.SID); err != nil {
			t.Fatalf("BySID: %v", err)
		}
		updated, err := s.Update(ctx, got, func(x *session.Session) error {
			x.Events = append(x.Events, session.AuthEvent{Method: "otp", Level: 2, Time: time.Now()})
			return nil
		})
		if err != nil || len(updated.Events) != 2 {
			t.Fatalf("update: got %v events, err %v; want 2, nil", len(updated.Events), err)
		}
		loggedIn(t, s)
		list, err := s.ListForCitizen(ctx, "c1")
		if err != nil || len(list) != 2 {
			t.Fatalf("list: got %d sessions, err %v; want 2", len(list), err)
		}
		ended, err := s.DeleteAllForCitizen(ctx, "c1")
		if err != nil || len(ended) != 2 {
			t.Fatalf("delete all: got %d, err %v; want 2", len(ended), err)
		}
		if _, err := s.Get(ctx, cookie); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("after delete: got %v, want ErrNotFound", err)
		}
		for _, bad := range []string{"", "x", cookie + "x", "../../etc/passwd", string(make([]byte, 43))} {
			if _, err := s.Get(ctx, bad); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("Get(%q): got %v, want ErrNotFound", bad, err)
			}
		}
	})
}

// Updates of one session from copies read at the same time all land: each
// starts from the record its copy was read as, and one that finds the
// record changed since reads it again instead of overwriting it. An
// update of a session ended meanwhile finds it gone and writes nothing.
func TestConcurrentUpdatesAllLand(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, 2*time.Hour)
		cookie, sess := loggedIn(t, s)
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				// Every goroutine starts from the same copy: all but one find
				// the record changed since.
				_, err := s.Join(ctx, sess, session.Participant{Protocol: "oidc", ID: fmt.Sprintf("portal-%d", i)})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("join: %v", err)
			}
		}
		got, err := s.Peek(ctx, cookie)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if !got.Joined("oidc", fmt.Sprintf("portal-%d", i)) {
				t.Errorf("portal-%d lost: participants %+v", i, got.Participants)
			}
		}
		if len(got.Participants) != n || len(got.Events) != 1 {
			t.Errorf("got %d participants and %d events, want %d and 1", len(got.Participants), len(got.Events), n)
		}
		// A stale copy of a session ended meanwhile is not written back.
		if err := s.Delete(ctx, got); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join(ctx, sess, session.Participant{Protocol: "oidc", ID: "late"}); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("join after delete: got %v, want ErrNotFound", err)
		}
		if n, _ := rdb.Exists(ctx, session.KeyOf(cookie)).Result(); n != 0 {
			t.Fatalf("join after delete wrote the session again")
		}
	})
}

type counter struct {
	N    int
	Note string `json:",omitempty"`
}

var counterBucket = session.NewBucket[counter]("counter")

// A bucket's Update is atomic: concurrent increments all count. Update
// keeps the value's expiry, UpdateFor gives it a new one, and neither
// brings back a value that is gone.
func TestBucketUpdates(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, 2*time.Hour)
		if err := counterBucket.Put(ctx, s, "a", counter{}, time.Hour); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				var c counter
				errs <- counterBucket.Update(ctx, s, "a", &c, func() error { c.N++; return nil })
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("update: %v", err)
			}
		}
		var got counter
		if err := counterBucket.Load(ctx, s, "a", &got); err != nil || got.N != n {
			t.Fatalf("after %d concurrent increments: got %d, %v", n, got.N, err)
		}
		key := "cid:counter:a"
		if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("Update: TTL %v, want the hour Put gave it", ttl)
		}
		if err := counterBucket.UpdateFor(ctx, s, "a", &got, time.Minute, func() error { got.N++; return nil }); err != nil {
			t.Fatal(err)
		}
		if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 59*time.Second || ttl > time.Minute {
			t.Errorf("UpdateFor: TTL %v, want a minute", ttl)
		}
		// A TTL under a millisecond is a millisecond, not "keep the TTL".
		if err := counterBucket.Put(ctx, s, "brief", counter{}, time.Hour); err != nil {
			t.Fatal(err)
		}
		var brief counter
		if err := counterBucket.UpdateFor(ctx, s, "brief", &brief, 500*time.Microsecond, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if ttl := rdb.PTTL(ctx, "cid:counter:brief").Val(); ttl > time.Millisecond {
			t.Errorf("UpdateFor 500µs: TTL %v, want at most a millisecond", ttl)
		}
		// An attempt that loses to another writer is retried from the
		// stored value alone: nothing fn set in it carries over.
		var c counter
		var notes []string
		err := counterBucket.Update(ctx, s, "a", &c, func() error {
			notes = append(notes, c.Note)
			if len(notes) == 1 {
				c.Note = "set by the attempt that lost"
				return counterBucket.Put(ctx, s, "a", counter{N: 100}, time.Hour)
			}
			c.N++
			return nil
		})
		if err != nil || len(notes) != 2 || notes[1] != "" || c.N != 101 {
			t.Errorf("update retried after a write meanwhile: err %v, fn saw notes %q, value %+v; want a second attempt from {N:100}", err, notes, c)
		}
		if err := counterBucket.Update(ctx, s, "gone", &got, func() error { return nil }); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("update of a missing value: got %v, want ErrNotFound", err)
		}
		if n, _ := rdb.Exists(ctx, "cid:counter:gone").Result(); n != 0 {
			t.Errorf("update of a missing value wrote it")
		}
	})
}

// Expiry happens in wall-clock time on both backends: the embedded server
// is driven by a ticker.
func TestExpiryInWallClockTime(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, 700*time.Millisecond, time.Hour)
		cookie, _, err := s.Create(ctx, "c2", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		if err := testBucket.Put(ctx, s, "v", "value", 700*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		var v string
		if err := testBucket.Load(ctx, s, "v", &v); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("value after TTL: got %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, cookie); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("idle session: got %v, want ErrNotFound", err)
		}
		// The sid and index keys and the live set live for the absolute
		// timeout; the dead session's record and the set of ends wait for
		// the expiry sweep (a grace period), and reads treat it as gone.
		if n, _ := rdb.DBSize(ctx).Result(); n > 5 {
			t.Errorf("keys left: got %d, want at most 5", n)
		}
		if n, err := s.CountLive(ctx); err != nil || n != 0 {
			t.Errorf("live sessions after expiry: got %d (%v), want 0", n, err)
		}
	})
}

// Expired sessions are handed to the sweep once each, across concurrent
// sweepers; a session used again is not.
func TestClaimExpired(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		s := session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: 12 * time.Hour, Now: clock})
		active, _, err := s.Create(ctx, "c1", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		var idle []string
		for range 5 {
			_, sess, err := s.Create(ctx, "c2", nil, session.Device{})
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, sess.SID)
		}
		if got, _ := s.ClaimExpired(ctx, 100); len(got) != 0 {
			t.Fatalf("nothing expired yet: got %d", len(got))
		}
		advance(50 * time.Minute)
		if _, err := s.Get(ctx, active); err != nil {
			t.Fatal(err)
		}
		advance(20 * time.Minute)
		var claimed sync.Map
		var wg sync.WaitGroup
		var total atomic.Int32
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.ClaimExpired(ctx, 100)
				if err != nil {
					t.Error(err)
				}
				for _, sess := range got {
					total.Add(1)
					if _, dup := claimed.LoadOrStore(sess.SID, true); dup {
						t.Errorf("session %s claimed twice", sess.SID)
					}
				}
			}()
		}
		wg.Wait()
		if total.Load() != int32(len(idle)) {
			t.Fatalf("claimed %d sessions, want the %d idle ones", total.Load(), len(idle))
		}
		for _, sid := range idle {
			if _, ok := claimed.Load(sid); !ok {
				t.Errorf("idle session %s not claimed", sid)
			}
		}
		if got, _ := s.ClaimExpired(ctx, 100); len(got) != 0 {
			t.Errorf("a second sweep: got %d, want none", len(got))
		}
		advance(2 * time.Hour)
		if got, _ := s.ClaimExpired(ctx, 100); len(got) != 1 || got[0].CitizenID != "c1" {
			t.Errorf("the active session once idle: got %v", got)
		}
	})
}

func TestAbsoluteTimeout(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		now := time.Now()
		clock := func() time.Time { return now }
		s := session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour, Now: clock})
		cookie, _, err := s.Create(ctx, "c3", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 { // activity every 50 minutes keeps it idle-fresh...
			now = now.Add(50 * time.Minute)
			_, err := s.Get(ctx, cookie)
			if i < 2 && err != nil {
				t.Fatalf("at %d×50m: %v", i+1, err)
			}
			if i >= 2 && !errors.Is(err, session.ErrNotFound) { // ...but not past 2h
				t.Fatalf("at %d×50m: got %v, want ErrNotFound", i+1, err)
			}
		}
	})
}

// CountLive counts the sessions that Get would return: created, used,
// ended, idle or too old, across citizens; the set behind it keeps no dead
// entry once counted.
func TestCountLive(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		now := time.Now()
		s := session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour,
			Now: func() time.Time { return now }})
		count := func(want int64, when string) {
			t.Helper()
			if n, err := s.CountLive(ctx); err != nil || n != want {
				t.Fatalf("%s: got %d live sessions (err %v), want %d", when, n, err, want)
			}
		}
		count(0, "empty")
		a, _, err := s.Create(ctx, "c1", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		_, sb, err := s.Create(ctx, "c1", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := s.Create(ctx, "c2", nil, session.Device{})
		if err != nil {
			t.Fatal(err)
		}
		count(3, "three created")
		if err := s.Delete(ctx, sb); err != nil {
			t.Fatal(err)
		}
		count(2, "one ended")

		// Activity keeps a session alive past the idle timeout of the others.
		now = now.Add(50 * time.Minute)
		if _, err := s.Get(ctx, a); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * time.Minute) // c idle for 70 minutes, a for 20
		count(1, "one idle")
		if _, err := s.Get(ctx, c); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("idle session: got %v, want ErrNotFound", err)
		}
		// Update moves the expiry too; the absolute timeout bounds it.
		for range 3 { // at 100, 130 and 160 minutes
			now = now.Add(30 * time.Minute)
			if _, err := s.Get(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		count(1, "used every 30 minutes")
		now = now.Add(21 * time.Minute) // created 3h01m ago
		count(0, "past the absolute timeout")
		if n, _ := rdb.ZCard(ctx, "cid:live").Result(); n != 0 {
			t.Errorf("live set after counting: got %d entries, want 0 (pruned)", n)
		}

		// Ending every session of a citizen counts too.
		for range 3 {
			if _, _, err := s.Create(ctx, "c3", nil, session.Device{}); err != nil {
				t.Fatal(err)
			}
		}
		s.Create(ctx, "c4", nil, session.Device{})
		count(4, "four more")
		if _, err := s.DeleteAllForCitizen(ctx, "c3"); err != nil {
			t.Fatal(err)
		}
		count(1, "c3's ended")
	})
}

func TestTakeIsSingleUse(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, time.Hour)
		if err := testBucket.PutNew(ctx, s, "h", "req-1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := testBucket.PutNew(ctx, s, "h", "req-2", time.Minute); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("second PutNew: got %v, want ErrConflict", err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var v string
				if err := testBucket.Take(ctx, s, "h", &v); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("concurrent Take: got %d winners, want 1", wins.Load())
		}
	})
}

// TakeDropping takes its value as Take does and deletes the values it
// names in the same round trip, also when there was nothing to take.
func TestTakeDropping(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, time.Hour)
		put := func(id string) {
			t.Helper()
			if err := otherBucket.Put(ctx, s, id, 7, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		gone := func(id string) bool {
			t.Helper()
			var n int
			err := otherBucket.Load(ctx, s, id, &n)
			if err != nil && !errors.Is(err, session.ErrNotFound) {
				t.Fatal(err)
			}
			return errors.Is(err, session.ErrNotFound)
		}
		if err := testBucket.Put(ctx, s, "t", "txn", time.Minute); err != nil {
			t.Fatal(err)
		}
		put("a")
		put("b")
		put("kept")
		var v string
		if err := testBucket.TakeDropping(ctx, s, "t", &v, otherBucket.Ref("a"), otherBucket.Ref("b")); err != nil || v != "txn" {
			t.Fatalf("TakeDropping: got %q, %v; want the value", v, err)
		}
		if !gone("a") || !gone("b") || gone("kept") {
			t.Fatalf("after TakeDropping: a gone %v, b gone %v, kept gone %v; want a and b only", gone("a"), gone("b"), gone("kept"))
		}
		if err := testBucket.Take(ctx, s, "t", &v); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Take after TakeDropping: got %v, want ErrNotFound", err)
		}
		put("c")
		if err := testBucket.TakeDropping(ctx, s, "t", &v, otherBucket.Ref("c")); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("TakeDropping of nothing: got %v, want ErrNotFound", err)
		}
		if !gone("c") {
			t.Fatal("TakeDropping of nothing left what it names")
		}
	})
}

func TestThrottle(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		now := time.Now()
		s := session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: time.Hour, Now: func() time.Time { return now }})
		p := session.ThrottlePolicy{Free: 3, Window: time.Hour, BaseDelay: time.Second, MaxDelay: time.Minute}
		for i := 1; i <= 3; i++ {
			if wait, err := s.Reserve(ctx, "k", p); wait != 0 || err != nil {
				t.Fatalf("attempt %d: got wait %v (err %v), want 0", i, wait, err)
			}
		}
		wait, err := s.Reserve(ctx, "k", p)
		if err != nil || wait != time.Second {
			t.Fatalf("after 3 failures: got %v (err %v), want 1s", wait, err)
		}
		now = now.Add(time.Second)
		if wait, _ := s.Reserve(ctx, "k", p); wait != 0 {
			t.Fatalf("after the wait: got %v, want the attempt taken", wait)
		}
		if wait, _ := s.Reserve(ctx, "k", p); wait != 2*time.Second {
			t.Fatalf("after 4 failures: got %v, want 2s (doubling)", wait)
		}
		if got := p.Delay(100); got != time.Minute {
			t.Fatalf("delay cap: got %v, want 1m", got)
		}
		// A success gives its attempt back: it is not a failure.
		s.ResetFailures(ctx, "k")
		for range 10 {
			if wait, _ := s.Reserve(ctx, "k", p); wait != 0 {
				t.Fatalf("successes counted as failures: got wait %v", wait)
			}
			s.Release(ctx, "k")
		}
		s.Release(ctx, "k") // never below zero
		// A counter given back to zero is gone, not kept until its window ends.
		if n, err := rdb.Exists(ctx, "cid:th:k").Result(); err != nil || n != 0 {
			t.Fatalf("after every attempt was given back: %d keys (err %v), want none", n, err)
		}
		for i := 1; i <= 3; i++ {
			if wait, _ := s.Reserve(ctx, "k", p); wait != 0 {
				t.Fatalf("after releases, attempt %d: got wait %v, want 0", i, wait)
			}
		}
		if wait, _ := s.Reserve(ctx, "k", p); wait == 0 {
			t.Fatal("a released count below zero gave a fourth free attempt")
		}
		// Count never refuses; it reports the slowdown.
		for i := range 5 {
			d, err := s.Count(ctx, "slow", p)
			if want := p.Delay(i); err != nil || d != want {
				t.Fatalf("count %d: got %v (err %v), want %v", i, d, err, want)
			}
		}
	})
}

// A burst of concurrent attempts gets exactly the free attempts: deciding
// and counting are one step.
func TestThrottleReserveIsAtomic(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, time.Hour)
		p := session.ThrottlePolicy{Free: 5, Window: time.Hour, BaseDelay: time.Second, MaxDelay: time.Minute}
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wait, err := s.Reserve(ctx, "burst", p)
				if err != nil {
					t.Error(err)
				}
				if wait == 0 {
					taken.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := taken.Load(); got != int32(p.Free) {
			t.Fatalf("30 concurrent attempts: got %d taken, want %d", got, p.Free)
		}
	})
}

func TestRevokedTokens(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		s := newStore(rdb, time.Hour, time.Hour)
		if err := s.RevokeToken(ctx, "jti-1", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeTokenDigest(ctx, session.JTIDigest("jti-3"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Revoked by a version that marked the whole jti: still revoked.
		if err := s.Mark(ctx, "rj", "jti-4", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for jti, want := range map[string]bool{"jti-1": true, "jti-2": false, "jti-3": true, "jti-4": true} {
			if got, err := s.TokenRevoked(ctx, jti); err != nil || got != want {
				t.Errorf("TokenRevoked(%s): got %v (err %v), want %v", jti, got, err, want)
			}
		}
	})
}

// Marks live in Redis and, with a durable store, beyond it: after Redis
// restarts empty the first lookup copies them back, and from then on a
// mark that is not there is still not there (the note that they were
// copied back is no mark).
func TestMarksAfterARedisRestart(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		durable, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "marks.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { durable.Close() })
		if err := durable.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s := session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: time.Hour, Durable: durable})
		if err := s.RevokeToken(ctx, "jti-1", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.Keep(ctx, "k", "with-data", []byte(`{"a":1}`), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// KeepIn: the caller writes the durable copy (here as PutMark
		// would); when that fails, nothing is marked.
		if err := s.KeepIn(ctx, "k", "in", []byte(`{"b":2}`), time.Now().Add(time.Minute), func(m store.Mark) error {
			return durable.PutMark(ctx, m)
		}); err != nil {
			t.Fatal(err)
		}
		refused := errors.New("refused")
		if err := s.KeepIn(ctx, "k", "failed", nil, time.Now().Add(time.Minute), func(store.Mark) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("KeepIn whose write fails: got %v, want its error", err)
		}
		if ok, err := s.Marked(ctx, "k", "failed"); err != nil || ok {
			t.Errorf("Marked(k, failed) before the restart: got %v (err %v), want false", ok, err)
		}
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first round copies the marks back
			for jti, want := range map[string]bool{"jti-1": true, "jti-2": false} {
				if got, err := s.TokenRevoked(ctx, jti); err != nil || got != want {
					t.Errorf("TokenRevoked(%s): got %v (err %v), want %v", jti, got, err, want)
				}
			}
			if data, ok, err := s.Kept(ctx, "k", "with-data"); err != nil || !ok || string(data) != `{"a":1}` {
				t.Errorf("Kept(k, with-data): got %q, %v (err %v)", data, ok, err)
			}
			if data, ok, err := s.Kept(ctx, "k", "in"); err != nil || !ok || string(data) != `{"b":2}` {
				t.Errorf("Kept(k, in): got %q, %v (err %v)", data, ok, err)
			}
			if ok, err := s.Marked(ctx, "k", "failed"); err != nil || ok {
				t.Errorf("Marked(k, failed): got %v (err %v), want false", ok, err)
			}
			if ok, err := s.Marked(ctx, "k", "never"); err != nil || ok {
				t.Errorf("Marked(k, never): got %v (err %v), want false", ok, err)
			}
		}
	})
}

func BenchmarkSessionReadWrite(b *testing.B) {
	ctx := context.Background()
	u, err := session.Dial(ctx, session.DialOptions{URL: testenv.RedisURL(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	s := newStore(u.(*redis.Client), time.Hour, time.Hour)
	cookie, _, err := s.Create(ctx, "bench", []session.AuthEvent{{Method: "pwd", Level: 1, Time: time.Now()}}, session.Device{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Create", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.Create(ctx, "bench2", nil, session.Device{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(ctx, cookie); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What a first login to a portal does: the session, then the portal
	// that took part in it.
	b.Run("CreateJoin", func(b *testing.B) {
		for b.Loop() {
			_, sess, err := s.Create(ctx, "bench3", nil, session.Device{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Join(ctx, sess, session.Participant{Protocol: "oidc", ID: "tax"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Throttle keys are injective in their values, bounded, and never hold
// the values (which are citizen numbers and addresses).
func FuzzThrottleKey(f *testing.F) {
	f.Add("079201000123", "203.0.113.7", "079201000123", "203.0.113.8")
	f.Add("ab", "c", "a", "bc")
	f.Add("", "\x00", "\x00", "")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		k1, k2 := session.ThrottleKey("acct", a, b), session.ThrottleKey("acct", c, d)
		if (k1 == k2) != (a == c && b == d) {
			t.Fatalf("ThrottleKey(%q, %q) = %s and ThrottleKey(%q, %q) = %s", a, b, k1, c, d, k2)
		}
		if len(k1) != len("acct:")+64 {
			t.Fatalf("key length %d, want %d", len(k1), len("acct:")+64)
		}
		if strings.Trim(a, "0123456789abcdef") != "" && strings.Contains(k1[len("acct:"):], a) {
			t.Fatalf("key %s holds the value %q", k1, a)
		}
		if session.ThrottleKey("acct", a+b) == k1 && b != "" {
			t.Fatalf("splitting %q at %d gives the same key", a+b, len(a))
		}
	})
}

// BenchmarkSessionBytes reports what one SSO session costs a real Redis
// (used_memory before and after 10,000 sessions, over 5,000 citizens, each
// logged in with a password and a one-time code from a phone browser, and
// known to one portal): every key, index and set entry included.
func BenchmarkSessionBytes(b *testing.B) {
	ctx := context.Background()
	u, err := session.Dial(ctx, session.DialOptions{URL: testenv.RedisURL(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	rdb := u.(*redis.Client)
	s := newStore(rdb, time.Hour, 12*time.Hour)
	used := func() float64 {
		info, err := rdb.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
		}
		b.Fatal("INFO memory without used_memory")
		return 0
	}
	const sessions, citizens = 10000, 5000
	dev := session.DeviceOf("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "203.0.113.7")
	var per float64
	for b.Loop() {
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		before := used()
		for i := range sessions {
			now := time.Now()
			ev := []session.AuthEvent{
				{Method: "pwd", AMR: []string{"pwd"}, Level: 1, Time: now},
				{Method: "otp", AMR: []string{"otp", "mfa"}, Level: 2, SecondFactor: true, Time: now},
			}
			_, sess, err := s.Create(ctx, fmt.Sprintf("0b9e6d3c-4c1f-4f3a-9a51-%012d", i%citizens), ev, dev)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Join(ctx, sess, session.Participant{Protocol: "oidc", ID: "tax-portal"}); err != nil {
				b.Fatal(err)
			}
		}
		per = (used() - before) / sessions
	}
	b.ReportMetric(per, "B/session")
}

// The clients' connection buffers are a few KiB: a value, a reply and a
// pipeline many times that size still go through whole.
func TestLargerThanConnectionBuffers(t *testing.T) {
	backends(t, func(t *testing.T, rdb *redis.Client) {
		ctx := context.Background()
		big := strings.Repeat("0123456789abcdef", 64<<10/16) // 64 KiB
		if err := rdb.Set(ctx, "cid:test:big", big, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := rdb.Get(ctx, "cid:test:big").Result(); err != nil || got != big {
			t.Fatalf("GET of a 64 KiB value: %d bytes back, err %v", len(got), err)
		}
		const n = 2000
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range n {
				p.SAdd(ctx, "cid:test:members", fmt.Sprintf("member-%05d-%s", i, big[:40]))
			}
			p.SMembers(ctx, "cid:test:members")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := cmds[n].(*redis.StringSliceCmd).Val(); len(got) != n {
			t.Fatalf("SMEMBERS after a pipeline of %d SADDs: %d members", n, len(got))
		}
	})
}
