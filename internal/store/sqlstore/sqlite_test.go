package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func TestOpenRejectsNonFileNames(t *testing.T) {
	for _, name := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := OpenSQLite(t.Context(), name); err == nil {
			s.Close()
			t.Errorf("Open(%q): got nil error, want an error", name)
		}
	}
}

// TestTwoStoresOneFile is the CLI next to a running server: two Store
// values on one file migrate at once, then write at once.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := []*Store{openSQLite(t, path), openSQLite(t, path)}
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrate %d: got error %v, want nil", i, err)
		}
	}

	const each = 25
	for i, s := range stores {
		wg.Go(func() {
			for j := range each {
				c := &store.Citizen{ID: fmt.Sprintf("c-%d-%d", i, j), Number: fmt.Sprintf("%02d%010d", i, j)}
				if err := s.CreateCitizen(ctx, c, ""); err != nil {
					errs[i] = err
					return
				}
				if err := s.AppendAudit(ctx, &store.AuditEvent{Actor: fmt.Sprintf("store:%d", i), Action: "citizen.create", Target: c.ID}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: got error %v, want nil", i, err)
		}
	}
	for i, s := range stores {
		citizens, err := s.ListCitizens(ctx, "", 1000)
		if err != nil {
			t.Fatalf("list citizens via store %d: %v", i, err)
		}
		if len(citizens) != 2*each {
			t.Errorf("citizens via store %d: got %d, want %d", i, len(citizens), 2*each)
		}
		events, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatalf("list audit via store %d: %v", i, err)
		}
		if len(events) != 2*each {
			t.Errorf("audit events via store %d: got %d, want %d", i, len(events), 2*each)
		}
		if err := store.VerifyAuditChain(events); err != nil {
			t.Errorf("verify chain via store %d: got %v, want nil", i, err)
		}
	}

	// A token rotated through both stores at once: one wins.
	tok := &store.RefreshToken{ID: "rt-0", TokenHash: "h-0", FamilyID: "f", CitizenID: "c-0-0", ClientID: "p", ExpiresAt: time.Now().Add(time.Hour)}
	if err := stores[0].CreateRefreshToken(ctx, tok); err != nil {
		t.Fatalf("create token: %v", err)
	}
	for i, s := range stores {
		wg.Go(func() {
			next := &store.RefreshToken{ID: fmt.Sprintf("rt-%d", i+1), TokenHash: fmt.Sprintf("h-%d", i+1), FamilyID: "f",
				CitizenID: "c-0-0", ClientID: "p", ExpiresAt: time.Now().Add(time.Hour)}
			errs[i] = s.RotateRefreshToken(ctx, "h-0", next, time.Now())
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrTokenReused):
			t.Errorf("rotation %d: got error %v, want nil or %v", i, err, store.ErrTokenReused)
		}
	}
	if ok != 1 {
		t.Errorf("successful rotations: got %d, want 1", ok)
	}
}

// TestProcesses runs real OS processes (this test binary re-executed) on
// one fresh file: each migrates and appends audit events while the others
// do the same.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	const procs, each = 3, 20
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for i := range procs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CITIZENID_SQLITE_HELPER_DB="+path,
			"CITIZENID_SQLITE_HELPER_ID="+strconv.Itoa(i), "CITIZENID_SQLITE_HELPER_N="+strconv.Itoa(each))
		wg.Go(func() { outs[i], errs[i] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	s := openSQLite(t, path)
	events, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("list audit: %v", err)
	}
	if len(events) != procs*each {
		t.Errorf("audit events: got %d, want %d", len(events), procs*each)
	}
	if err := store.VerifyAuditChain(events); err != nil {
		t.Errorf("verify chain: got %v, want nil", err)
	}
}

// TestHelperProcess is TestProcesses' child; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("CITIZENID_SQLITE_HELPER_DB")
	if path == "" {
		t.Skip("helper process for TestProcesses")
	}
	id := os.Getenv("CITIZENID_SQLITE_HELPER_ID")
	n, _ := strconv.Atoi(os.Getenv("CITIZENID_SQLITE_HELPER_N"))
	s := openSQLite(t, path)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for i := range n {
		e := &store.AuditEvent{Actor: "process:" + id, Action: "helper.append", Details: map[string]string{"i": strconv.Itoa(i)}}
		if err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func TestMigrateTwice(t *testing.T) {
	s := dialects[0].open(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("second migrate: got %v, want nil", err)
	}
	var mode string
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal mode: got %q, want wal", mode)
	}
	var fk int
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 1 {
		t.Errorf("foreign keys: got %d, want 1", fk)
	}
	// The statement journals of a group commit's savepoints stay in
	// memory: no temporary file is created and written per write.
	var temp int
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA temp_store`).Scan(&temp); err != nil {
		t.Fatal(err)
	}
	if temp != 2 {
		t.Errorf("temp_store: got %d, want 2 (memory)", temp)
	}
}
