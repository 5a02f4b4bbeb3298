package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Signing keys, refresh tokens and the audit log.

func newKey(id string, created time.Time, state string) store.SigningKey {
	return store.SigningKey{
		ID:         id,
		Algorithm:  "RS256",
		State:      state,
		PublicKey:  []byte("public " + id),
		PrivateKey: []byte("sealed private " + id),
		CreatedAt:  created,
	}
}

func testSigningKeys(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()

	keysAre := func(t *testing.T, want []store.SigningKey) {
		t.Helper()
		got, err := s.ListSigningKeys(ctx)
		must(t, "list signing keys", err)
		check(t, "signing keys", normKeys(got), normKeys(want))
	}
	keysAre(t, nil)

	k1 := newKey("k1", base, store.KeyActive)
	k1.ActivatedAt = base
	k2 := newKey("k2", base.Add(time.Hour), store.KeyNext)
	must(t, "insert keys", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		if len(keys) != 0 {
			t.Errorf("keys passed to fn: got %d, want 0", len(keys))
		}
		// Returned out of order: the list is ordered oldest first.
		return []store.SigningKey{k2, k1}, nil
	}))
	keysAre(t, []store.SigningKey{k1, k2})

	// Rotate: k1 retires, k2 activates, k3 is generated.
	before := []store.SigningKey{k1, k2}
	k1.State, k1.RetiredAt, k1.VerifyUntil = store.KeyRetired, base.Add(2*time.Hour), base.Add(26*time.Hour)
	k2.State, k2.ActivatedAt = store.KeyActive, base.Add(2*time.Hour)
	k3 := newKey("k3", base.Add(2*time.Hour), store.KeyNext)
	must(t, "rotate keys", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		check(t, "keys passed to fn", normKeys(keys), normKeys(before))
		return []store.SigningKey{k1, k2, k3}, nil
	}))
	keysAre(t, []store.SigningKey{k1, k2, k3})

	must(t, "delete k1", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		return slices.DeleteFunc(keys, func(k store.SigningKey) bool { return k.ID == "k1" }), nil
	}))
	keysAre(t, []store.SigningKey{k2, k3})

	boom := errors.New("boom")
	wantErr(t, "update with failing fn", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		return nil, boom
	}), boom)
	keysAre(t, []store.SigningKey{k2, k3})
}

func testSigningKeysConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const n = 8
	errs := make([]error, n)
	atOnce(n, func(i int) {
		errs[i] = s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
			// The new key is named after the set fn saw: two callers
			// that saw the same set (no serialisation) collide.
			k := len(keys)
			return append(keys, newKey(fmt.Sprintf("key-%d", k), base.Add(time.Duration(k)*time.Second), store.KeyNext)), nil
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: got error %v, want nil", i, err)
		}
	}
	got, err := s.ListSigningKeys(ctx)
	must(t, "list signing keys", err)
	var ids []string
	for _, k := range got {
		ids = append(ids, k.ID)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("key-%d", i))
	}
	check(t, "key ids (unserialised updates collide or drop one)", ids, want)
}

func newToken(family, session string) *store.RefreshToken {
	return &store.RefreshToken{
		ID:        newID("rt"),
		TokenHash: newID("hash"),
		FamilyID:  family,
		CitizenID: "citizen-1",
		ClientID:  "portal",
		Subject:   "pairwise-subject",
		SessionID: session,
		Scopes:    []string{"openid", "profile", "offline_access"},
		Audience:  []string{"portal"},
		AuthTime:  base,
		ACR:       "urn:citizenid:loa:2",
		AMR:       []string{"pwd", "otp", "mfa"},
		CreatedAt: base,
		ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func testRefreshTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	now := base.Add(time.Hour)

	tokenIs := func(t *testing.T, s store.Store, want *store.RefreshToken) {
		t.Helper()
		got, err := s.RefreshTokenByHash(ctx, want.TokenHash)
		must(t, "refresh token by hash", err)
		check(t, "refresh token", normToken(*got), normToken(*want))
	}
	absent := func(t *testing.T, s store.Store, hash string) {
		t.Helper()
		_, err := s.RefreshTokenByHash(ctx, hash)
		wantErr(t, "token that must not exist", err, store.ErrNotFound)
	}

	t.Run("create and get", func(t *testing.T) {
		s := newStore(t)
		tok := newToken(newID("fam"), newID("sid"))
		must(t, "create", s.CreateRefreshToken(ctx, tok))
		tokenIs(t, s, tok)
		bare := &store.RefreshToken{ID: newID("rt"), TokenHash: newID("hash"), FamilyID: newID("fam"),
			CitizenID: "c", ClientID: "p", ExpiresAt: base}
		must(t, "create bare token", s.CreateRefreshToken(ctx, bare))
		tokenIs(t, s, bare)

		dup := newToken(newID("fam"), "")
		dup.TokenHash = tok.TokenHash
		wantErr(t, "duplicate hash", s.CreateRefreshToken(ctx, dup), store.ErrConflict)
		absent(t, s, "no-such-hash")
	})

	t.Run("create with marks", func(t *testing.T) {
		// One mark (on PostgreSQL one statement) and two (a transaction):
		// stored with the token, and neither when the token is refused.
		for _, n := range []int{1, 2} {
			s := newStore(t)
			marks := func(prefix string) []store.Mark {
				var out []store.Mark
				for i := range n {
					out = append(out, store.Mark{Kind: "codeused", ID: fmt.Sprintf("%s%d", prefix, i),
						Until: base.Add(time.Hour), Data: []byte(`{"familyID":"f"}`)})
				}
				return out
			}
			tok := newToken(newID("fam"), newID("sid"))
			must(t, "create with marks", s.CreateRefreshToken(ctx, tok, marks("kept")...))
			tokenIs(t, s, tok)
			dup := newToken(newID("fam"), "")
			dup.TokenHash = tok.TokenHash
			wantErr(t, "duplicate hash with marks", s.CreateRefreshToken(ctx, dup, marks("lost")...), store.ErrConflict)
			got, err := s.ListMarks(ctx, base)
			must(t, "list marks", err)
			var ids []string
			for _, m := range got {
				if m.Kind != "codeused" || string(m.Data) != `{"familyID":"f"}` {
					t.Errorf("%d marks: got mark %+v", n, m)
				}
				ids = append(ids, m.ID)
			}
			if want := marks("kept"); len(ids) != n || ids[0] != want[0].ID || ids[n-1] != want[n-1].ID {
				t.Errorf("%d marks: got %v, want the %d stored with the token and none of the refused one's", n, ids, n)
			}
		}
	})

	t.Run("with citizen", func(t *testing.T) {
		s := newStore(t)
		c := newCitizen("001090000301")
		c.Disabled = true // read as it is: deciding is the caller's
		must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
		other := newCitizen("001090000302")
		must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))
		tok := newToken(newID("fam"), "sid")
		tok.CitizenID = c.ID
		tok.UsedAt = now
		must(t, "create", s.CreateRefreshToken(ctx, tok))

		gotTok, gotCitizen, err := s.RefreshTokenWithCitizen(ctx, tok.TokenHash)
		must(t, "refresh token with citizen", err)
		check(t, "refresh token", normToken(*gotTok), normToken(*tok))
		check(t, "its citizen", normCitizen(*gotCitizen), normCitizen(*c))

		orphan := newToken(newID("fam"), "sid") // CitizenID names nobody
		must(t, "create orphan", s.CreateRefreshToken(ctx, orphan))
		_, _, err = s.RefreshTokenWithCitizen(ctx, orphan.TokenHash)
		wantErr(t, "token whose citizen is absent", err, store.ErrNotFound)
		_, _, err = s.RefreshTokenWithCitizen(ctx, "no-such-hash")
		wantErr(t, "unknown token", err, store.ErrNotFound)
	})

	t.Run("rotate", func(t *testing.T) {
		s := newStore(t)
		fam := newID("fam")
		t1 := newToken(fam, "sid")
		must(t, "create", s.CreateRefreshToken(ctx, t1))
		t2 := newToken(fam, "sid")
		must(t, "rotate t1", s.RotateRefreshToken(ctx, t1.TokenHash, t2, now))
		t1.UsedAt = now
		tokenIs(t, s, t1)
		tokenIs(t, s, t2)

		t3 := newToken(fam, "sid")
		wantErr(t, "rotate t1 again", s.RotateRefreshToken(ctx, t1.TokenHash, t3, now.Add(time.Minute)), store.ErrTokenReused)
		absent(t, s, t3.TokenHash)
		tokenIs(t, s, t1) // UsedAt not moved by the failed rotation

		must(t, "rotate t2", s.RotateRefreshToken(ctx, t2.TokenHash, t3, now.Add(time.Minute)))
		tokenIs(t, s, t3)

		t4 := newToken(fam, "sid")
		wantErr(t, "rotate unknown", s.RotateRefreshToken(ctx, "no-such-hash", t4, now), store.ErrNotFound)
		absent(t, s, t4.TokenHash)

		dup := newToken(fam, "sid")
		dup.TokenHash = t1.TokenHash
		wantErr(t, "rotate into an existing hash", s.RotateRefreshToken(ctx, t3.TokenHash, dup, now), store.ErrConflict)
		got, err := s.RefreshTokenByHash(ctx, t3.TokenHash)
		must(t, "t3 after failed rotation", err)
		if !got.UsedAt.IsZero() {
			t.Errorf("t3 UsedAt after a rotation that failed to insert: got %v, want zero", got.UsedAt)
		}
	})

	t.Run("rotate revoked", func(t *testing.T) {
		s := newStore(t)
		fam := newID("fam")
		tok := newToken(fam, "sid")
		must(t, "create", s.CreateRefreshToken(ctx, tok))
		must(t, "revoke family", s.RevokeRefreshFamily(ctx, fam, now))
		next := newToken(fam, "sid")
		wantErr(t, "rotate revoked", s.RotateRefreshToken(ctx, tok.TokenHash, next, now), store.ErrTokenReused)
		absent(t, s, next.TokenHash)
	})

	t.Run("revoke family", func(t *testing.T) {
		s := newStore(t)
		famA, famB := newID("fam"), newID("fam")
		a1, b1 := newToken(famA, "sid"), newToken(famB, "sid")
		must(t, "create a1", s.CreateRefreshToken(ctx, a1))
		must(t, "create b1", s.CreateRefreshToken(ctx, b1))
		a2 := newToken(famA, "sid")
		must(t, "rotate a1", s.RotateRefreshToken(ctx, a1.TokenHash, a2, now))
		a1.UsedAt = now

		at := now.Add(time.Minute)
		must(t, "revoke family A", s.RevokeRefreshFamily(ctx, famA, at))
		a1.RevokedAt, a2.RevokedAt = at, at
		tokenIs(t, s, a1)
		tokenIs(t, s, a2)
		tokenIs(t, s, b1)
		must(t, "revoke unknown family", s.RevokeRefreshFamily(ctx, newID("fam"), at))
	})

	t.Run("revoke by session", func(t *testing.T) {
		s := newStore(t)
		x, y, z := newToken(newID("fam"), "sid-1"), newToken(newID("fam"), "sid-1"), newToken(newID("fam"), "sid-2")
		earlier := now.Add(-time.Hour)
		y.RevokedAt = earlier
		for _, tok := range []*store.RefreshToken{x, y, z} {
			must(t, "create", s.CreateRefreshToken(ctx, tok))
		}
		must(t, "revoke session", s.RevokeRefreshTokensBySession(ctx, "sid-1", now))
		x.RevokedAt = now
		tokenIs(t, s, x)
		tokenIs(t, s, y) // already revoked: keeps its time
		tokenIs(t, s, z)
	})

	t.Run("revoke by citizen", func(t *testing.T) {
		s := newStore(t)
		x, y, z := newToken(newID("fam"), "sid-1"), newToken(newID("fam"), ""), newToken(newID("fam"), "sid-2")
		z.CitizenID = "citizen-2"
		for _, tok := range []*store.RefreshToken{x, y, z} {
			must(t, "create", s.CreateRefreshToken(ctx, tok))
		}
		must(t, "revoke citizen", s.RevokeRefreshTokensByCitizen(ctx, "citizen-1", now))
		x.RevokedAt, y.RevokedAt = now, now
		tokenIs(t, s, x)
		tokenIs(t, s, y) // an offline token without a session too
		tokenIs(t, s, z) // another citizen's
	})

	t.Run("delete expired", func(t *testing.T) {
		s := newStore(t)
		cut := base.Add(48 * time.Hour)
		var kept, gone []*store.RefreshToken
		for _, d := range []time.Duration{-time.Hour, -time.Microsecond, 0, time.Hour} {
			tok := newToken(newID("fam"), "sid")
			tok.ExpiresAt = cut.Add(d)
			must(t, "create", s.CreateRefreshToken(ctx, tok))
			if d < 0 {
				gone = append(gone, tok)
			} else {
				kept = append(kept, tok)
			}
		}
		n, err := s.DeleteExpiredRefreshTokens(ctx, cut)
		must(t, "delete expired", err)
		if n != int64(len(gone)) {
			t.Errorf("deleted: got %d, want %d", n, len(gone))
		}
		for _, tok := range gone {
			absent(t, s, tok.TokenHash)
		}
		for _, tok := range kept {
			tokenIs(t, s, tok)
		}
		n, err = s.DeleteExpiredRefreshTokens(ctx, cut)
		must(t, "delete expired again", err)
		if n != 0 {
			t.Errorf("deleted the second time: got %d, want 0", n)
		}
	})
}

func testConcurrentRotation(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d rotations", n), func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			fam := newID("fam")
			old := newToken(fam, "sid")
			must(t, "create", s.CreateRefreshToken(ctx, old))
			nexts := make([]*store.RefreshToken, n)
			errs := make([]error, n)
			for i := range n {
				nexts[i] = newToken(fam, "sid")
			}
			atOnce(n, func(i int) { errs[i] = s.RotateRefreshToken(ctx, old.TokenHash, nexts[i], base.Add(time.Hour)) })
			winners := 0
			for i, err := range errs {
				_, getErr := s.RefreshTokenByHash(ctx, nexts[i].TokenHash)
				switch {
				case err == nil:
					winners++
					if getErr != nil {
						t.Errorf("winner %d's next token: got error %v, want it stored", i, getErr)
					}
				case errors.Is(err, store.ErrTokenReused):
					if !errors.Is(getErr, store.ErrNotFound) {
						t.Errorf("loser %d's next token: got error %v, want %v", i, getErr, store.ErrNotFound)
					}
				default:
					t.Errorf("rotation %d: got error %v, want nil or %v", i, err, store.ErrTokenReused)
				}
			}
			if winners != 1 {
				t.Errorf("successful rotations: got %d, want 1", winners)
			}
		})
	}
}

func testAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	in := []store.AuditEvent{
		{Time: base, Actor: "cli", Action: "client.create", Target: "client:portal", Outcome: "success",
			Details: map[string]string{"name": "Cổng", "redirect_uris": "2"}},
		{Time: base.Add(time.Second), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1",
			Outcome: "failure", ClientIP: "203.0.113.7"},
		{Actor: "system", Action: "keys.rotate", Outcome: "success", Details: map[string]string{}}, // zero Time
	}
	var appended []store.AuditEvent
	for i := range in {
		e := in[i]
		must(t, "append", s.AppendAudit(ctx, &e))
		if e.Seq != int64(i+1) {
			t.Errorf("event %d Seq: got %d, want %d", i, e.Seq, i+1)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = appended[i-1].Hash
		}
		if e.PrevHash != wantPrev {
			t.Errorf("event %d PrevHash: got %q, want %q", i, e.PrevHash, wantPrev)
		}
		if h := store.AuditHash(e.PrevHash, &e); e.Hash != h {
			t.Errorf("event %d Hash: got %q, want %q", i, e.Hash, h)
		}
		if e.Time.IsZero() {
			t.Errorf("event %d Time: got zero, want the store's clock", i)
		}
		appended = append(appended, e)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, "list audit", err)
	check(t, "listed events", normEvents(got), normEvents(appended))
	if err := store.VerifyAuditChain(got); err != nil {
		t.Errorf("verify chain: got %v, want nil", err)
	}

	tampered := slices.Clone(got)
	tampered[1].Outcome = "success"
	var chainErr *store.AuditChainError
	if err := store.VerifyAuditChain(tampered); !errors.As(err, &chainErr) || chainErr.Seq != 2 {
		t.Errorf("verify tampered chain: got %v, want an *AuditChainError at seq 2", err)
	}
}

func testAuditConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const writers, each = 10, 5
	errs := make([]error, writers)
	atOnce(writers, func(w int) {
		for i := range each {
			e := &store.AuditEvent{Actor: fmt.Sprintf("admin:%d", w), Action: "citizen.update",
				Outcome: "success", Details: map[string]string{"i": fmt.Sprint(i)}}
			if err := s.AppendAudit(ctx, e); err != nil {
				errs[w] = err
				return
			}
		}
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: got error %v, want nil", w, err)
		}
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	must(t, "list audit", err)
	if len(got) != writers*each {
		t.Fatalf("events: got %d, want %d", len(got), writers*each)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d Seq: got %d, want %d", i, e.Seq, i+1)
		}
	}
	if err := store.VerifyAuditChain(got); err != nil {
		t.Errorf("verify chain: got %v, want nil", err)
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.Actor+"/"+e.Details["i"]] = true
	}
	if len(seen) != writers*each {
		t.Errorf("distinct events: got %d, want %d", len(seen), writers*each)
	}
}

func testAuditFilter(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	events := []store.AuditEvent{
		{Time: at(0), Actor: "admin:1", Action: "client.create", Target: "client:a", Outcome: "success"},
		{Time: at(1), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1", Outcome: "failure"},
		{Time: at(2), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1", Outcome: "success"},
		{Time: at(3), Actor: "admin:1", Action: "client.update", Target: "client:a", Outcome: "success"},
		{Time: at(4), Actor: "citizen:c2", Action: "login.password", Target: "citizen:c2", Outcome: "throttled"},
		{Time: at(5), Actor: "cli", Action: "citizen.create", Target: "citizen:c3", Outcome: "success"},
	}
	for i := range events {
		must(t, "append", s.AppendAudit(ctx, &events[i]))
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"none", store.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6}},
		{"actor", store.AuditFilter{Actor: "citizen:c1"}, []int64{2, 3}},
		{"action", store.AuditFilter{Action: "login.password"}, []int64{2, 3, 5}},
		{"target", store.AuditFilter{Target: "client:a"}, []int64{1, 4}},
		{"outcome", store.AuditFilter{Outcome: "success"}, []int64{1, 3, 4, 6}},
		{"action and outcome", store.AuditFilter{Action: "login.password", Outcome: "failure"}, []int64{2}},
		{"since is inclusive", store.AuditFilter{Since: at(4)}, []int64{5, 6}},
		{"until is exclusive", store.AuditFilter{Until: at(2)}, []int64{1, 2}},
		{"since and until", store.AuditFilter{Since: at(1), Until: at(3)}, []int64{2, 3}},
		{"since in another zone", store.AuditFilter{Since: at(4).UTC()}, []int64{5, 6}},
		{"time and actor", store.AuditFilter{Since: at(1), Actor: "admin:1"}, []int64{4}},
		{"after seq with filter", store.AuditFilter{Action: "login.password", AfterSeq: 2}, []int64{3, 5}},
		{"limit with filter", store.AuditFilter{Outcome: "success", Limit: 2}, []int64{1, 3}},
		{"no match", store.AuditFilter{Actor: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			must(t, "list audit", err)
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			check(t, "seqs", seqs, tt.want)
		})
	}
}

func testAuditPaging(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const total = 105 // more than the default limit of 100
	for i := range total {
		must(t, "append", s.AppendAudit(ctx, &store.AuditEvent{Time: base.Add(time.Duration(i) * time.Second),
			Actor: "system", Action: "page.test", Outcome: "success"}))
	}
	seqs := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"first page", store.AuditFilter{Limit: 3}, seqs(1, 3)},
		{"next page", store.AuditFilter{AfterSeq: 3, Limit: 3}, seqs(4, 6)},
		{"last page", store.AuditFilter{AfterSeq: 103, Limit: 3}, seqs(104, 105)},
		{"past the end", store.AuditFilter{AfterSeq: 105, Limit: 3}, nil},
		{"default limit", store.AuditFilter{}, seqs(1, 100)},
		{"default limit after seq", store.AuditFilter{AfterSeq: 100}, seqs(101, 105)},
		{"large limit", store.AuditFilter{Limit: 500}, seqs(1, 105)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			must(t, "list audit", err)
			var gotSeqs []int64
			for _, e := range got {
				gotSeqs = append(gotSeqs, e.Seq)
			}
			check(t, "seqs", gotSeqs, tt.want)
		})
	}

	// Walking the whole log page by page verifies as one chain.
	var all []store.AuditEvent
	for after := int64(0); ; {
		page, err := s.ListAudit(ctx, store.AuditFilter{AfterSeq: after, Limit: 40})
		must(t, "list audit page", err)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != total {
		t.Errorf("events over all pages: got %d, want %d", len(all), total)
	}
	if err := store.VerifyAuditChain(all); err != nil {
		t.Errorf("verify paged chain: got %v, want nil", err)
	}
}
