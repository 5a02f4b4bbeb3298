package session

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A session's record in Redis is compact: one-letter names and times in
// Unix milliseconds, about half of what Session's own JSON takes. A
// citizen's sessions live as long as their browser is used, so records
// written in Session's layout before this one (names like "citizen_id",
// RFC 3339 times, the User-Agent itself) are still read.

// record is a Session as stored.
type record struct {
	SID          string        `json:"s"`
	CitizenID    string        `json:"c"`
	Events       []eventRecord `json:"e,omitempty"`
	CreatedAt    int64         `json:"ca"`
	LastSeen     int64         `json:"ls"`
	Participants []Participant `json:"p,omitempty"`
	Device       Device        `json:"d,omitzero"`
}

// eventRecord is an AuthEvent as stored in a record.
type eventRecord struct {
	Method         string   `json:"m"`
	AMR            []string `json:"a,omitempty"`
	Level          int      `json:"l"`
	SecondFactor   bool     `json:"f,omitempty"`
	Time           int64    `json:"t"`
	CertThumbprint string   `json:"ct,omitempty"`
	CertSerial     string   `json:"cs,omitempty"`
}

// legacyRecord is a record written in Session's layout, whose device was
// the User-Agent itself.
type legacyRecord struct {
	Session
	Device struct {
		UserAgent string `json:"ua"`
		IP        string `json:"ip"`
	} `json:"device"`
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// encode is sess as stored. Times keep millisecond precision.
func encodeRecord(sess *Session) ([]byte, error) {
	r := record{SID: sess.SID, CitizenID: sess.CitizenID, CreatedAt: millis(sess.CreatedAt), LastSeen: millis(sess.LastSeen),
		Participants: sess.Participants, Device: sess.Device}
	for _, e := range sess.Events {
		r.Events = append(r.Events, eventRecord{Method: e.Method, AMR: e.AMR, Level: e.Level, SecondFactor: e.SecondFactor,
			Time: millis(e.Time), CertThumbprint: e.CertThumbprint, CertSerial: e.CertSerial})
	}
	return json.Marshal(r)
}

// decode reads a stored session in either layout.
func decodeRecord(b []byte) (*Session, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if r.CitizenID == "" {
		return decodeLegacy(b)
	}
	sess := &Session{SID: r.SID, CitizenID: r.CitizenID, CreatedAt: fromMillis(r.CreatedAt), LastSeen: fromMillis(r.LastSeen),
		Participants: r.Participants, Device: r.Device}
	for _, e := range r.Events {
		sess.Events = append(sess.Events, AuthEvent{Method: e.Method, AMR: e.AMR, Level: e.Level, SecondFactor: e.SecondFactor,
			Time: fromMillis(e.Time), CertThumbprint: e.CertThumbprint, CertSerial: e.CertSerial})
	}
	return sess, nil
}

func decodeLegacy(b []byte) (*Session, error) {
	var l legacyRecord
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if l.CitizenID == "" {
		return nil, fmt.Errorf("decode session: no citizen")
	}
	sess := &l.Session
	sess.Device = DeviceOf(l.Device.UserAgent, l.Device.IP)
	for _, c := range sess.LegacyClients {
		if !strings.HasPrefix(c, "saml:") {
			sess.Participants = append(sess.Participants, Participant{Protocol: "oidc", ID: c})
		}
	}
	sess.LegacyClients = nil
	return sess, nil
}

// Device is the browser that started a session, as the citizen's list of
// sessions names it: what its User-Agent said it was, never the
// User-Agent itself (a session keeps what it shows a citizen, not a
// fingerprint of their browser).
type Device struct {
	Browser string `json:"b,omitempty"` // "Chrome"; "" when not recognised
	OS      string `json:"o,omitempty"` // "Android"; "" when not recognised
	IP      string `json:"ip,omitempty"`
}

// DeviceOf describes the browser that sent userAgent from ip.
func DeviceOf(userAgent, ip string) Device {
	b, o := describeUserAgent(userAgent)
	return Device{Browser: b, OS: o, IP: ip}
}
