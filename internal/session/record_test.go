package session

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A session comes back from its record as it went in, every field of it
// (times to the millisecond), and the record is compact.
func TestRecordRoundTrip(t *testing.T) {
	at := time.UnixMilli(1764900000123)
	sess := &Session{SID: "sid-1", CitizenID: "c-1", CreatedAt: at, LastSeen: at.Add(time.Minute),
		Events: []AuthEvent{
			{Method: "pwd", AMR: []string{"pwd"}, Level: 1, Time: at},
			{Method: "sc", AMR: []string{"sc", "hwk", "pin", "mfa"}, Level: 4, SecondFactor: true, Time: at.Add(time.Second),
				CertThumbprint: "thumb", CertSerial: "0a1b"},
		},
		Participants: []Participant{{Protocol: "oidc", ID: "tax"}, {Protocol: "saml", ID: "sp", Data: json.RawMessage(`{"n":"x"}`)}},
		Device:       Device{Browser: "Chrome", OS: "Android", IP: "203.0.113.7"},
	}
	// Every field of an event and of a session is set above, but for the
	// session's PrevSeen, key and raw, which are of one copy and never
	// stored: a field added to either must be added to its record too.
	for typ, n := range map[reflect.Type]int{reflect.TypeFor[AuthEvent](): 7, reflect.TypeFor[Session](): 11} {
		if typ.NumField() != n {
			t.Fatalf("%s has %d fields, want %d: store the new one in its record (record.go) and set it here", typ, typ.NumField(), n)
		}
	}
	b, err := encodeRecord(sess)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sess) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, sess)
	}
	legacy, _ := json.Marshal(sess)
	if len(b) > len(legacy)*7/10 {
		t.Errorf("record of %d bytes (%s), want at most 70 %% of Session's JSON (%d bytes)", len(b), b, len(legacy))
	}
}

// A record written before the compact layout (Session's JSON names, RFC
// 3339 times, the User-Agent itself, OIDC clients as a list) still reads.
func TestRecordLegacyLayout(t *testing.T) {
	old := `{"sid":"sid-1","citizen_id":"c-1","events":[{"method":"pwd","amr":["pwd"],"level":1,"time":"2025-12-05T02:00:00.123456789Z"}],` +
		`"created_at":"2025-12-05T02:00:00Z","last_seen":"2025-12-05T02:10:00Z","clients":["tax","saml:sp"],` +
		`"device":{"ua":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1","ip":"203.0.113.7"}}`
	got, err := decodeRecord([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	want := &Session{SID: "sid-1", CitizenID: "c-1",
		Events:       []AuthEvent{{Method: "pwd", AMR: []string{"pwd"}, Level: 1, Time: time.Date(2025, 12, 5, 2, 0, 0, 123456789, time.UTC)}},
		CreatedAt:    time.Date(2025, 12, 5, 2, 0, 0, 0, time.UTC),
		LastSeen:     time.Date(2025, 12, 5, 2, 10, 0, 0, time.UTC),
		Participants: []Participant{{Protocol: "oidc", ID: "tax"}},
		Device:       Device{Browser: "Safari", OS: "iOS", IP: "203.0.113.7"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("legacy record:\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{`{}`, `{"sid":"x"}`, `[]`, `not json`} {
		if _, err := decodeRecord([]byte(bad)); err == nil {
			t.Errorf("decodeRecord(%s): no error, want one", bad)
		}
	}
}

// A session created before the compact record (under the hex digest of its
// cookie, in the old layout) is still found by its cookie, and the next
// write keeps it where it is, in the compact layout.
func TestSessionUnderLegacyKey(t *testing.T) {
	e, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rdb := e.Client()
	defer rdb.Close()
	ctx := context.Background()
	s := New(rdb, Options{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	cookie := RandomToken(32)
	at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	old := fmt.Sprintf(`{"sid":"sid-1","citizen_id":"c-1","events":[{"method":"pwd","level":1,"time":%q}],"created_at":%q,"last_seen":%q}`, at, at, at)
	legacyKey := prefix + "s:" + Hash(cookie)
	if err := rdb.Set(ctx, legacyKey, old, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if sess, err := s.Peek(ctx, cookie); err != nil || sess.CitizenID != "c-1" {
		t.Fatalf("Peek: got %+v, %v; want the session of c-1", sess, err)
	}
	sess, err := s.Get(ctx, cookie)
	if err != nil || sess.CitizenID != "c-1" || len(sess.Events) != 1 {
		t.Fatalf("Get: got %+v, %v; want the session of c-1 with its event", sess, err)
	}
	stored, err := rdb.Get(ctx, legacyKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored, `"c":"c-1"`) {
		t.Fatalf("record after Get: %s, want the compact layout under the same key", stored)
	}
	if n, _ := rdb.Exists(ctx, KeyOf(cookie)).Result(); n != 0 {
		t.Fatal("Get created a second record under the new key")
	}
}
