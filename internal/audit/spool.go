package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// An event the store cannot take (the database is down) is not dropped:
// it is appended to a spool file on the node's disk, fsynced, and written
// to the store, in order, as soon as the store takes writes again (Run,
// and at the next start). The chain links it where it lands; its Time is
// when it happened.

// spool is the file of events waiting for the store.
type spool struct {
	path string
	mu   sync.Mutex
}

// Spool makes l keep the events the store refuses in the file at path
// until Run writes them; call it before serving.
func (l *Logger) Spool(path string) { l.spool = &spool{path: path} }

func (s *spool) add(ev *store.AuditEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flush writes the spooled events to st in order, keeping those it could
// not write, and returns how many it wrote.
func (s *spool) flush(ctx context.Context, st store.Audit) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path)
	if os.IsNotExist(err) || (err == nil && len(b) == 0) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	n := 0
	var werr error
	for _, line := range lines {
		var ev store.AuditEvent
		if json.Unmarshal(line, &ev) != nil {
			n++ // unreadable: nothing to write
			continue
		}
		ev.Seq, ev.PrevHash, ev.Hash = 0, "", ""
		if werr = st.AppendAudit(ctx, &ev); werr != nil {
			break
		}
		n++
	}
	rest := bytes.Join(lines[n:], []byte("\n"))
	if len(rest) > 0 {
		rest = append(rest, '\n')
	}
	if err := writeFileSync(s.path, rest); err != nil {
		return n, err
	}
	return n, werr
}

func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Run writes spooled events to the store every interval until ctx ends
// (and once at once: events of an earlier run of the node).
func (l *Logger) Run(ctx context.Context, every time.Duration) {
	if l.spool == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := l.spool.flush(ctx, l.st); err != nil && ctx.Err() == nil {
			l.log.WarnContext(ctx, "audit spool: the store does not take events yet", "written", n, "err", err)
		} else if n > 0 {
			l.log.InfoContext(ctx, "audit spool: events written to the audit log", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Flush writes the spooled events now (tests, shutdown).
func (l *Logger) Flush(ctx context.Context) error {
	if l.spool == nil {
		return nil
	}
	_, err := l.spool.flush(ctx, l.st)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	return nil
}
