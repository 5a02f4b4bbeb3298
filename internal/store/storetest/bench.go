package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Bench runs the benchmarks of the store's hot paths (what every login and
// token request does) against the implementation newStore builds; newStore
// has Run's contract.
func Bench(b *testing.B, newStore func(tb testing.TB) store.Store) {
	s := newStore(b)
	ctx := b.Context()
	citizen := &store.Citizen{ID: "bench-citizen", Number: "001099000001", Name: "Nguyễn Văn A", IdentityLevel: 2}
	mustB(b, "create citizen", s.CreateCitizen(ctx, citizen, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"))
	client := newClient("bench-portal")
	mustB(b, "create client", s.CreateClient(ctx, client))
	mustB(b, "put totp", s.PutTOTP(ctx, &store.TOTPCredential{CitizenID: citizen.ID, Secret: []byte("sealed"), Confirmed: true}))

	token := func(n int) *store.RefreshToken {
		return &store.RefreshToken{
			ID: fmt.Sprintf("bench-rt-%d", n), TokenHash: fmt.Sprintf("bench-hash-%d", n), FamilyID: "bench-family",
			CitizenID: citizen.ID, ClientID: client.ID, Subject: "sub", SessionID: "sid",
			Scopes: []string{"openid", "profile"}, Audience: []string{client.ID}, AuthTime: time.Now(),
			ACR: "urn:citizenid:loa:2", AMR: []string{"pwd", "otp", "mfa"}, ExpiresAt: time.Now().Add(time.Hour),
		}
	}
	n := 0

	b.Run("CitizenByID", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.CitizenByID(ctx, citizen.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClientByID", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ClientByID(ctx, client.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClientByIDParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.ClientByID(ctx, client.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("CreateRefreshToken", func(b *testing.B) {
		for b.Loop() {
			n++
			if err := s.CreateRefreshToken(ctx, token(n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RotateRefreshToken", func(b *testing.B) {
		n++
		mustB(b, "create first token", s.CreateRefreshToken(ctx, token(n)))
		for b.Loop() {
			old := fmt.Sprintf("bench-hash-%d", n)
			n++
			if err := s.RotateRefreshToken(ctx, old, token(n), time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Eight writers at once, each rotating its own chain, as a token
	// endpoint under load does: the throughput of the writes together
	// (group commit on SQLite) and the latency of one, whose 99th
	// percentile shows a writer that also pays for something else.
	b.Run("RotateRefreshTokenParallel", func(b *testing.B) {
		const writers = 8
		var next atomic.Int64
		next.Store(int64(n) + 1)
		lat := make([][]time.Duration, writers)
		var done atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for w := range writers {
			wg.Go(func() {
				old := int(next.Add(1))
				if err := s.CreateRefreshToken(ctx, token(old)); err != nil {
					b.Error(err)
					return
				}
				for done.Add(1) <= int64(b.N) {
					cur := int(next.Add(1))
					t0 := time.Now()
					if err := s.RotateRefreshToken(ctx, fmt.Sprintf("bench-hash-%d", old), token(cur), time.Now()); err != nil {
						b.Error(err)
						return
					}
					lat[w] = append(lat[w], time.Since(t0))
					old = cur
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		n = int(next.Load())
		all := slices.Sorted(slices.Values(slices.Concat(lat...)))
		if len(all) > 0 {
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		}
	})
	b.Run("UpdateTOTP", func(b *testing.B) {
		for b.Loop() {
			err := s.UpdateTOTP(ctx, citizen.ID, func(c *store.TOTPCredential) error {
				c.LastStep++
				c.LastUsedAt = time.Now()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendAudit", func(b *testing.B) {
		for b.Loop() {
			e := &store.AuditEvent{Actor: "citizen:" + citizen.ID, Action: "login.success", Target: client.ID,
				Outcome: "ok", ClientIP: "203.0.113.7", Details: map[string]string{"acr": "urn:citizenid:loa:2"}}
			if err := s.AppendAudit(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustB(b *testing.B, what string, err error) {
	b.Helper()
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
}
